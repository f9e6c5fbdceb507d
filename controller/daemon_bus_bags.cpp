// sortd bus: bags, manifests and handover (docs/bags.md, docs/protocol.md section 5). Commands
// go to the core as events (BagClose, HandoverScan, HandoverMissort, ManifestClose) so that they
// are recorded, committed and published like everything else; manifest.close first writes the
// export files (CSV, JSON and a text handover sheet), then closes.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sqlite3.h>

#include "daemon_bus.h"
#include "daemon_bus_ctx.h"
#include "store_query.h"

namespace sortd {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string local_time(TimeMs t, std::int32_t utc_offset_min) {
  const std::int32_t day = local_day(t, utc_offset_min);
  const std::int32_t minute = local_minute(t, utc_offset_min);
  // Civil date (H. Hinnant's civil_from_days).
  std::int64_t z = day + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const int y = static_cast<int>(yoe + era * 400 + (m <= 2));
  const std::int64_t sec = ((t + std::int64_t(utc_offset_min) * 60'000) / 1000 % 60 + 60) % 60;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d%+03d:%02d", y, m, d, minute / 60,
                minute % 60, static_cast<int>(sec), utc_offset_min / 60,
                std::abs(utc_offset_min % 60));
  return buf;
}

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// Writes `text` to `path` through a temporary file and a rename: never half a file.
void write_file(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw BusError("io_error", "cannot write " + tmp.string());
    out << text;
    out.flush();
    if (!out) throw BusError("io_error", "cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw BusError("io_error", "cannot rename " + tmp.string() + ": " + ec.message());
}

// The columns of a manifest export (CSV header, JSON parcel keys), in order.
const std::vector<std::string>& manifest_export_columns() {
  static const std::vector<std::string> c = {
      "manifest_id", "courier",         "wave",     "cutoff",      "bag_id",      "parcel_id",
      "order_id",    "tracking_number", "weight_g", "diverted_at", "diverted_ms", "picked_up"};
  return c;
}

}  // namespace

json Bus::manifest_view(std::uint64_t id, bool with_parcels) {
  sqlite3* db = d_.store().handle();
  const auto mid = static_cast<std::int64_t>(id);
  Query m(db,
          "SELECT id, courier, day, cutoff_min, state, opened_ms, closed_ms, closed_by, forced "
          "FROM manifests WHERE id = ?1");
  m.bind(1, mid);
  if (!m.step()) throw BusError("not_found", "no manifest " + std::to_string(id));
  const std::int32_t off = d_.config().policies.utc_offset_min;
  const std::int32_t cutoff = static_cast<std::int32_t>(m.i64(3));
  char cut[16];
  std::snprintf(cut, sizeof cut, "%02d:%02d", cutoff / 60, cutoff % 60);
  const std::int32_t day = static_cast<std::int32_t>(m.i64(2));
  json v = {
      {"manifest_id", m.i64(0)},
      {"courier", m.str(1)},
      {"day", day},
      {"wave", local_time(std::int64_t(day) * 86'400'000 - off * 60'000LL, off).substr(0, 10)},
      {"cutoff", std::string(cut)},
      {"state", m.str(4)},
      {"opened", m.i64(5)},
      {"closed", m.opt_i64(6)},
      {"closed_by", m.str(7)},
      {"forced", m.i64(8) != 0}};
  if (const Courier* c = d_.config().courier(m.str(1))) v["courier_name"] = c->name;
  json bags = json::array();
  std::int64_t picked = 0, parcels = 0, parcels_picked = 0;
  Query b(db,
          "SELECT id, lane, count, grams, closed_ms, picked_ms, picked_by, reason FROM bags WHERE "
          "manifest_id = ?1 ORDER BY closed_ms, id");
  b.bind(1, mid);
  while (b.step()) {
    const bool p = !b.null(5);
    picked += p;
    parcels += b.i64(2);
    parcels_picked += p ? b.i64(2) : 0;
    bags.push_back({{"bag_id", b.str(0)},
                    {"lane", b.i64(1)},
                    {"count", b.i64(2)},
                    {"grams", b.i64(3)},
                    {"closed", b.opt_i64(4)},
                    {"picked_up", p},
                    {"picked", b.opt_i64(5)},
                    {"picked_by", b.str(6)},
                    {"reason", b.str(7)}});
  }
  v["sorted"] = {{"bags", bags.size()}, {"parcels", parcels}};
  v["picked_up"] = {{"bags", picked}, {"parcels", parcels_picked}};
  v["bags"] = std::move(bags);
  json issues = json::array();
  Query i(db,
          "SELECT id, kind, bag_id, parcel_id, courier, time_ms, detail FROM handover_issues "
          "WHERE manifest_id = ?1 ORDER BY id");
  i.bind(1, mid);
  while (i.step())
    issues.push_back({{"id", i.i64(0)},
                      {"kind", i.str(1)},
                      {"bag_id", i.str(2)},
                      {"parcel_id", i.opt_i64(3)},
                      {"courier", i.str(4)},
                      {"time", i.i64(5)},
                      {"detail", i.str(6)}});
  v["issues"] = std::move(issues);
  if (with_parcels) {
    json rows = json::array();
    Query p(db,
            "SELECT bp.bag_id, bp.parcel_id, coalesce(p.order_id, ''), coalesce(p.weight_g, 0), "
            "bp.time_ms, b.picked_ms IS NOT NULL FROM bag_parcels bp JOIN bags b ON b.id = "
            "bp.bag_id LEFT JOIN parcels p ON p.id = bp.parcel_id WHERE b.manifest_id = ?1 ORDER "
            "BY b.closed_ms, bp.bag_id, bp.parcel_id");
    p.bind(1, mid);
    while (p.step()) {
      const std::string order_id = p.str(2);
      std::string tracking;
      if (auto o = d_.orders().find(order_id); o && !o->codes.empty()) tracking = o->codes.front();
      rows.push_back({{"manifest_id", v["manifest_id"]},
                      {"courier", v["courier"]},
                      {"wave", v["wave"]},
                      {"cutoff", v["cutoff"]},
                      {"bag_id", p.str(0)},
                      {"parcel_id", p.i64(1)},
                      {"order_id", order_id},
                      {"tracking_number", tracking},
                      {"weight_g", p.i64(3)},
                      {"diverted_at", local_time(p.i64(4), off)},
                      {"diverted_ms", p.i64(4)},
                      {"picked_up", p.i64(5) != 0}});
    }
    v["parcels"] = std::move(rows);
  }
  return v;
}

json Bus::cmd_bag_close(Ctx& c) {
  const int lane = static_cast<int>(c.integer_in("lane", 1, 1'000'000, "a lane id"));
  if (!d_.config().lane(lane)) throw BusError("not_found", "no lane " + std::to_string(lane));
  const std::string why = d_.core().why_not_close_bag(lane);
  if (!why.empty()) throw BusError("conflict", why);
  Effects fx = d_.command(BagClose{lane, c.user}, c.now);
  for (const auto& p : fx.publish) {
    if (p.topic != "bag") continue;
    json b = json::parse(p.json);
    if (b.value("event", "") == "closed")
      return {{"lane", lane},
              {"bag_id", b["bag_id"]},
              {"count", b["count"]},
              {"grams", b["grams"]},
              {"manifest_id", b["manifest_id"]}};
  }
  throw BusError("internal", "the core closed no bag");
}

json Bus::cmd_bags(Ctx&) {
  return {{"bags", d_.core().bags_json()}, {"manifests", d_.core().manifests_json()}};
}

json Bus::cmd_handover_scan(Ctx& c) {
  const std::string bag = c.nonempty("bag_id", "a bag id from a bag label");
  const std::string courier = c.opt_str("courier");
  if (!courier.empty() && !d_.config().courier(courier))
    throw BusError("not_found", "no courier '" + courier + "'");
  Effects fx = d_.command(HandoverScan{bag, courier, c.user}, c.now);
  for (const auto& p : fx.publish) {
    if (p.topic != "handover") continue;
    json h = json::parse(p.json);
    if (h.value("event", "") == "issue")
      return {{"bag_id", bag},
              {"ok", false},
              {"issue", h["kind"]},
              {"manifest_id", h["manifest_id"]},
              {"detail", h["detail"]}};
    return {{"bag_id", bag},
            {"ok", true},
            {"again", h.value("event", "") == "scanned_again"},
            {"manifest_id", h["manifest_id"]},
            {"courier", h["courier"]},
            {"count", h["count"]}};
  }
  throw BusError("internal", "the core did not answer the handover scan");
}

json Bus::cmd_handover_missort(Ctx& c) {
  const std::string bag = c.nonempty("bag_id", "the bag the parcel was found in");
  const std::string code = c.nonempty("code", "the parcel's barcode");
  HandoverMissort e{bag, code, 0, "", c.user};
  if (auto oid = d_.orders().id_by_code(code)) {
    Query q(d_.store().handle(),
            "SELECT id, courier FROM parcels WHERE order_id = ?1 ORDER BY id DESC LIMIT 1");
    q.bind(1, *oid);
    if (q.step()) {
      e.parcel_id = static_cast<std::uint64_t>(q.i64(0));
      e.parcel_courier = q.str(1);
    }
  }
  d_.command(e, c.now);
  return {{"bag_id", bag},
          {"code", code},
          {"parcel_id", e.parcel_id ? json(e.parcel_id) : json()},
          {"parcel_courier", e.parcel_courier},
          {"issue", "missort"}};
}

json Bus::cmd_manifests(Ctx& c) {
  const std::string state = c.opt_str("state", "all");
  if (state != "open" && state != "closed" && state != "all")
    throw BusError("bad_value", "'state' must be open, closed or all, not '" + state + "'");
  const std::int64_t limit = c.opt_integer("limit", 100, 1, 100000);
  const std::string courier = c.opt_str("courier");
  Query q(d_.store().handle(),
          "SELECT id FROM manifests WHERE (?1 = 'all' OR state = ?1) AND (?2 = '' OR courier = "
          "?2) ORDER BY id DESC LIMIT ?3");
  q.bind(1, state).bind(2, courier).bind(3, limit);
  std::vector<std::uint64_t> ids;
  while (q.step()) ids.push_back(static_cast<std::uint64_t>(q.i64(0)));
  json out = json::array();
  for (auto id : ids) {
    json v = manifest_view(id, false);
    v["bags"] = v["sorted"]["bags"];
    v["issues"] = v["issues"].size();
    out.push_back(std::move(v));
  }
  return {{"manifests", std::move(out)}};
}

json Bus::cmd_manifest(Ctx& c) {
  const auto id = static_cast<std::uint64_t>(
      c.integer_in("manifest_id", 1, std::numeric_limits<std::int64_t>::max(), "a manifest id"));
  return {{"manifest", manifest_view(id, c.opt_bool("parcels", false))}};
}

std::string Bus::manifest_dir() const {
  fs::path dir = d_.config().manifest_dir;
  const fs::path state = fs::absolute(d_.options().db_path).parent_path();
  if (dir.empty()) return (state / "manifests").string();
  return (dir.is_relative() ? state / dir : dir).string();
}

json Bus::cmd_manifest_close(Ctx& c) {
  const auto id = static_cast<std::uint64_t>(
      c.integer_in("manifest_id", 1, std::numeric_limits<std::int64_t>::max(), "a manifest id"));
  const bool force = c.opt_bool("force", false);
  json v = manifest_view(id, true);
  if (v["state"] != "open")
    throw BusError("conflict", "manifest " + std::to_string(id) + " is closed already");
  // Bags of this courier still filling on a lane: refuse, unless forced (they then join the
  // courier's next manifest).
  json open_bags = json::array();
  const json bags = d_.core().bags_json();
  for (const auto& b : bags)
    if (b["courier"] == v["courier"] && b.value("count", 0) > 0) open_bags.push_back(b["bag_id"]);
  if (!open_bags.empty() && !force)
    throw BusError("conflict",
                   std::to_string(open_bags.size()) + " bag(s) of " +
                       v["courier"].get<std::string>() +
                       " are still open (close them first, or force)",
                   json{{"open_bags", open_bags}});

  // Export first: if the files cannot be written nothing is closed.
  const fs::path dir(manifest_dir());
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw BusError("io_error", "cannot create " + dir.string() + ": " + ec.message());
  const std::int32_t off = d_.config().policies.utc_offset_min;
  v["state"] = "closed";
  v["closed"] = c.now;
  v["closed_at"] = local_time(c.now, off);
  v["closed_by"] = c.user;
  v["forced"] = force;
  std::string wave = v["wave"].get<std::string>();
  wave.erase(std::remove(wave.begin(), wave.end(), '-'), wave.end());
  const std::string base =
      "manifest-" + std::to_string(id) + "-" + v["courier"].get<std::string>() + "-" + wave;
  const auto& cols = manifest_export_columns();
  std::string csv;
  for (std::size_t i = 0; i < cols.size(); ++i) csv += (i ? "," : "") + cols[i];
  csv += "\n";
  ManifestClose e{id, c.user, force, {}};
  for (const auto& r : v["parcels"]) {
    for (std::size_t i = 0; i < cols.size(); ++i) {
      const json& x = r[cols[i]];
      csv += i ? "," : "";
      csv += csv_cell(x.is_string()    ? x.get<std::string>()
                      : x.is_boolean() ? std::string(x.get<bool>() ? "1" : "0")
                                       : x.dump());
    }
    csv += "\n";
    e.parcels.push_back({r["parcel_id"].get<std::uint64_t>(), r["order_id"].get<std::string>(),
                         r["tracking_number"].get<std::string>(), r["bag_id"].get<std::string>()});
  }
  // The handover sheet: one line per bag, totals, and the lines to sign.
  std::ostringstream sheet;
  sheet << "HANDOVER SHEET / 交接单\n"
        << d_.config().station_name << " (" << d_.config().station_id << ")\n"
        << "manifest " << id << "  courier " << v.value("courier_name", "") << " ("
        << v["courier"].get<std::string>() << ")  wave " << v["wave"].get<std::string>()
        << " cutoff " << v["cutoff"].get<std::string>() << "\n"
        << "closed " << v["closed_at"].get<std::string>() << " by " << c.user
        << (force ? " (forced)" : "") << "\n\n"
        << "bag id                  lane  parcels  weight kg  picked up\n";
  for (const auto& b : v["bags"]) {
    char line[160];
    std::snprintf(line, sizeof line, "%-22s  %4lld  %7lld  %9.2f  %s\n",
                  b["bag_id"].get<std::string>().c_str(), b["lane"].get<long long>(),
                  b["count"].get<long long>(), b["grams"].get<double>() / 1000.0,
                  b["picked_up"].get<bool>() ? "yes" : "NO - not taken");
    sheet << line;
  }
  sheet << "\nsorted: " << v["sorted"]["bags"] << " bags, " << v["sorted"]["parcels"]
        << " parcels; picked up: " << v["picked_up"]["bags"] << " bags, "
        << v["picked_up"]["parcels"] << " parcels\n";
  for (const auto& i : v["issues"])
    sheet << "issue: " << i["kind"].get<std::string>() << ": " << i["detail"].get<std::string>()
          << "\n";
  sheet << "\nstation signature: ____________    courier signature: ____________\n";
  const fs::path csv_path = dir / (base + ".csv"), json_path = dir / (base + ".json"),
                 sheet_path = dir / (base + ".txt");
  write_file(csv_path, csv);
  write_file(json_path, v.dump(2) + "\n");
  write_file(sheet_path, sheet.str());

  const std::size_t n = e.parcels.size();
  d_.command(std::move(e), c.now);
  // The not_taken issues the close recorded.
  json closed = manifest_view(id, false);
  return {
      {"manifest_id", id},
      {"courier", closed["courier"]},
      {"parcels", n},
      {"sorted", closed["sorted"]},
      {"picked_up", closed["picked_up"]},
      {"issues", closed["issues"]},
      {"forced", force},
      {"files",
       {{"csv", csv_path.string()}, {"json", json_path.string()}, {"sheet", sheet_path.string()}}}};
}

}  // namespace sortd
