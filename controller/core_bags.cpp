// The station core's bags, manifests and handover (docs/bags.md). Each lane with a courier holds
// one open bag; a parcel joins it when its divert into the lane is confirmed. A bag closes at its
// count or weight limit, when the chute-full sensor rises, by hand (bus bag.close) or by a scan
// of the lane's close barcode; closing prints the bag label, adds the bag to its courier's open
// manifest for the wave and opens the next bag (after chute-full: when the bit clears). While a
// lane has no open bag, routing treats it as full and sends its parcels to the overflow lane.
#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "core.h"

namespace sortd {

using nlohmann::json;

namespace {

// Civil date of a day number (days since 1970-01-01), after H. Hinnant's days_from_civil.
void civil(std::int32_t days, int& y, int& m, int& d) {
  std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yoe + era * 400 + (m <= 2));
}

std::string date_of(std::int32_t day, const char* fmt = "%04d-%02d-%02d") {
  int y = 0, m = 0, d = 0;
  civil(day, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, y, m, d);
  return buf;
}

std::string hhmm(std::int32_t minutes) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d", (minutes / 60) % 100, minutes % 60);
  return buf;
}

std::string kg(std::int64_t grams) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(grams) / 1000.0);
  return buf;
}

}  // namespace

bool Core::bag_lane(std::size_t i) const {
  return i < cfg_.lanes.size() && cfg_.lanes[i].kind != LaneKind::Exception &&
         !cfg_.lanes[i].courier.empty();
}

void Core::update_avail(std::size_t i) {
  if (i >= avail_.full.size()) return;
  avail_.full[i] = chute_full_[i] || (bag_lane(i) && open_bag_[i].empty());
}

void Core::settle_bags(TimeMs now, Effects& fx) {
  bags_pending_ = false;
  for (std::size_t i = 0; i < cfg_.lanes.size(); ++i) {
    if (!open_bag_[i].empty()) {
      const Bag& b = bags_.at(open_bag_[i]);
      if (bag_lane(i) && b.courier == cfg_.lanes[i].courier) continue;
      // The lane was given to another courier (or holds no bags any more): its bag is done.
      close_bag(i, "reassigned", "", bag_lane(i), now, fx);
    } else if (bag_lane(i) && !chute_full_[i]) {
      open_bag(i, now, fx);
    } else {
      continue;
    }
    update_avail(i);
    publish_lane(i, fx);
  }
}

void Core::open_bag(std::size_t i, TimeMs now, Effects& fx) {
  const Lane& l = cfg_.lanes[i];
  const std::int32_t day = local_day(now, cfg_.policies.utc_offset_min);
  auto& [seq_day, seq] = bag_seq_[i];
  if (seq_day != day) seq_day = day, seq = 0;
  ++seq;
  char id[64];
  std::snprintf(id, sizeof id, "B%s-%02d-%03d", date_of(day, "%04d%02d%02d").c_str(), l.id, seq);
  Bag b;
  b.id = id;
  b.lane = l.id;
  b.courier = l.courier;
  b.day = day;
  b.seq = seq;
  b.opened = now;
  open_bag_[i] = b.id;
  fx.store.push_back(
      StoreBag{b.id, b.lane, b.courier, b.day, b.seq, false, now, 0, 0, 0, "", "", 0, 0});
  fx.publish.push_back({"bag", json{{"event", "opened"},
                                    {"bag_id", b.id},
                                    {"lane", b.lane},
                                    {"courier", b.courier},
                                    {"time", now}}
                                   .dump()});
  bags_.emplace(b.id, std::move(b));
  update_avail(i);
}

void Core::close_bag(std::size_t i, const std::string& reason, const std::string& user, bool reopen,
                     TimeMs now, Effects& fx) {
  auto it = bags_.find(open_bag_[i]);
  if (it == bags_.end()) return;
  Bag& b = it->second;
  b.closed = true;
  b.closed_time = now;
  b.count = lane_fill_[i];
  b.grams = lane_grams_[i];
  b.reason = reason;
  b.closed_by = user;
  const Lane& l = cfg_.lanes[i];
  if (b.count > 0) {
    // Its label, through the normal print path, and its place on the courier's manifest.
    b.manifest_id = manifest_for(b.courier, now, fx);
    PrintJob job;
    job.job_id = next_job_id_++;
    job.kind = "bag";
    job.courier = b.courier;
    job.lane = b.lane;
    job.weight_g = static_cast<std::int32_t>(std::min<std::int64_t>(b.grams, INT32_MAX));
    const std::int32_t minute = local_minute(now, cfg_.policies.utc_offset_min);
    job.fields = {
        {"bag_id", b.id},
        {"count", std::to_string(b.count)},
        {"weight_kg", kg(b.grams)},
        {"closed_at", date_of(local_day(now, cfg_.policies.utc_offset_min)) + " " + hhmm(minute)},
        {"station", cfg_.station_name + " " + cfg_.station_id}};
    b.label_job = job.job_id;
    fx.store.push_back(StoreLabelJob{job.job_id, 0, "bag", "", JobOutcome::Queued, b.id, now});
    fx.print.push_back(std::move(job));
    ++stats_.labels;
  }
  fx.store.push_back(StoreBag{b.id, b.lane, b.courier, b.day, b.seq, true, b.opened, now, b.count,
                              b.grams, reason, user, b.manifest_id, b.label_job});
  if (!user.empty())
    fx.store.push_back(StoreAudit{user, "bag.close",
                                  "lane " + std::to_string(b.lane) + " bag " + b.id + " (" +
                                      std::to_string(b.count) + " parcels, " + reason + ")",
                                  now});
  json body = bag_json(b);
  body["event"] = "closed";
  body["time"] = now;
  fx.publish.push_back({"bag", body.dump()});
  fx.log.push_back("bag " + b.id + " of lane " + std::to_string(b.lane) + " closed (" + reason +
                   "): " + std::to_string(b.count) + " parcels, " + kg(b.grams) + " kg" +
                   (b.manifest_id ? ", manifest " + std::to_string(b.manifest_id) : ""));
  if (b.count == 0 || !b.manifest_id) bags_.erase(it);  // nothing to hand over
  open_bag_[i].clear();
  lane_fill_[i] = 0;
  lane_grams_[i] = 0;
  fx.store.push_back(StoreLane{l.id, enabled_by_operator_[i] != 0, 0, 0});
  if (reopen) open_bag(i, now, fx);
  update_avail(i);
}

void Core::bag_parcel(std::size_t i, std::uint64_t parcel_id, TimeMs now, Effects& fx) {
  // A parcel that lands while the lane waits for its bag swap goes into the next bag.
  if (open_bag_[i].empty()) open_bag(i, now, fx);
  fx.store.push_back(StoreBagParcel{parcel_id, open_bag_[i], now});
  const Lane& l = cfg_.lanes[i];
  if (l.bag_max_count > 0 && lane_fill_[i] >= l.bag_max_count)
    close_bag(i, "count", "", true, now, fx);
  else if (l.bag_max_weight_g > 0 && lane_grams_[i] >= l.bag_max_weight_g)
    close_bag(i, "weight", "", true, now, fx);
}

std::string Core::bag_close_refusal(int lane_id) const {
  const std::size_t i = lane_index(lane_id);
  const std::string lane = "lane " + std::to_string(lane_id);
  if (i >= cfg_.lanes.size()) return "no " + lane;
  if (!bag_lane(i)) return lane + " holds no bags (an exception lane, or no courier)";
  if (open_bag_[i].empty()) return lane + " has no open bag (waiting for the bag swap)";
  if (lane_fill_[i] == 0) return lane + "'s bag " + open_bag_[i] + " is empty: nothing to close";
  return {};
}

void Core::on(const BagClose& e, TimeMs now, Effects& fx) {
  const std::string why = bag_close_refusal(e.lane);
  if (!why.empty()) {
    fx.log.push_back("bag close by " + e.user + " refused: " + why);
    fx.publish.push_back({"bag", json{{"event", "refused"},
                                      {"lane", e.lane},
                                      {"reason", why},
                                      {"user", e.user},
                                      {"time", now}}
                                     .dump()});
    return;
  }
  const std::size_t i = lane_index(e.lane);
  close_bag(i, "manual", e.user, true, now, fx);
  publish_lane(i, fx);
}

bool Core::close_code(const ScanRead& r, TimeMs now, Effects& fx) {
  // A handover scanner's reads are bag labels scanned at handover, never parcels.
  if (std::find(handover_scanners_.begin(), handover_scanners_.end(), r.scanner) !=
      handover_scanners_.end()) {
    if (!r.no_read)
      for (const auto& c : r.codes) on(HandoverScan{c.text, "", "scanner:" + r.scanner}, now, fx);
    return true;
  }
  const std::string& prefix = cfg_.bag_close_prefix;
  if (prefix.empty() || r.no_read || r.codes.size() != 1) return false;
  const std::string& text = r.codes.front().text;
  if (text.size() <= prefix.size() || text.compare(0, prefix.size(), prefix) != 0) return false;
  const std::string rest = text.substr(prefix.size());
  std::string why;
  int lane = 0;
  if (rest.size() > 6 || rest.find_first_not_of("0123456789") != std::string::npos)
    why = "'" + rest + "' after the close prefix is not a lane number";
  else
    lane = std::stoi(rest);
  if (why.empty()) why = bag_close_refusal(lane);
  if (!why.empty()) {
    fx.log.push_back("close barcode " + text + " from scanner " + r.scanner + " ignored: " + why);
    fx.publish.push_back({"bag", json{{"event", "refused"},
                                      {"lane", lane},
                                      {"code", text},
                                      {"scanner", r.scanner},
                                      {"reason", why},
                                      {"time", now}}
                                     .dump()});
    return true;
  }
  const std::size_t i = lane_index(lane);
  close_bag(i, "scan", "scanner:" + r.scanner, true, now, fx);
  publish_lane(i, fx);
  return true;
}

std::uint64_t Core::manifest_for(const std::string& courier, TimeMs now, Effects& fx) {
  const Courier* c = cfg_.courier(courier);
  const std::int32_t cutoff = c ? c->cutoff_min : 24 * 60;
  // The wave: today's pickup, or tomorrow's once today's cutoff has passed.
  std::int32_t day = local_day(now, cfg_.policies.utc_offset_min);
  if (local_minute(now, cfg_.policies.utc_offset_min) > cutoff) ++day;
  for (const auto& [id, m] : manifests_)
    if (m.courier == courier && m.day == day) return id;
  Manifest m{next_manifest_id_++, courier, day, cutoff, now};
  fx.store.push_back(StoreManifest{m.id, courier, day, cutoff, false, now, 0, "", false});
  json body = manifest_json(m);
  body["event"] = "opened";
  fx.publish.push_back({"manifest", body.dump()});
  manifests_.emplace(m.id, m);
  return m.id;
}

void Core::handover_issue(std::uint64_t manifest_id, const char* kind, const std::string& bag_id,
                          std::uint64_t parcel_id, const std::string& courier,
                          const std::string& detail, const std::string& user, TimeMs now,
                          Effects& fx) {
  fx.store.push_back(
      StoreHandoverIssue{manifest_id, kind, bag_id, parcel_id, courier, now, detail});
  fx.publish.push_back({"handover", json{{"event", "issue"},
                                         {"kind", kind},
                                         {"manifest_id", manifest_id},
                                         {"bag_id", bag_id},
                                         {"parcel_id", parcel_id},
                                         {"courier", courier},
                                         {"detail", detail},
                                         {"user", user},
                                         {"time", now}}
                                        .dump()});
  fx.log.push_back(std::string("handover issue (") + kind + "): " + detail);
}

void Core::on(const HandoverScan& e, TimeMs now, Effects& fx) {
  auto it = bags_.find(e.bag_id);
  std::uint64_t manifest = 0;  // the manifest of the courier being handed over to
  if (!e.courier.empty())
    for (const auto& [id, m] : manifests_)
      if (m.courier == e.courier) manifest = id;  // the latest open one
  std::string why;
  if (it == bags_.end())
    why = "bag " + e.bag_id + " is on no open manifest (unknown, or handed over already)";
  else if (!it->second.closed)
    why = "bag " + e.bag_id + " is still open on lane " + std::to_string(it->second.lane);
  else if (!e.courier.empty() && it->second.courier != e.courier)
    why = "bag " + e.bag_id + " belongs to " + it->second.courier + ", not " + e.courier;
  if (!why.empty()) {
    handover_issue(manifest, "not_on_manifest", e.bag_id, 0, e.courier, why, e.user, now, fx);
    fx.store.push_back(StoreAudit{e.user, "handover.scan", e.bag_id + ": " + why, now});
    return;
  }
  Bag& b = it->second;
  const bool again = b.picked;
  if (!again) {
    b.picked = true;
    fx.store.push_back(StoreBagPicked{b.id, now, e.user});
    fx.store.push_back(StoreAudit{e.user, "handover.scan", b.id, now});
  }
  json body = bag_json(b);
  body["event"] = again ? "scanned_again" : "picked";
  body["user"] = e.user;
  body["time"] = now;
  fx.publish.push_back({"handover", body.dump()});
}

void Core::on(const HandoverMissort& e, TimeMs now, Effects& fx) {
  auto it = bags_.find(e.bag_id);
  const std::uint64_t manifest = it == bags_.end() ? 0 : it->second.manifest_id;
  const std::string courier = it == bags_.end() ? std::string() : it->second.courier;
  std::string detail = "code " + e.code;
  if (e.parcel_id) detail += " (parcel " + std::to_string(e.parcel_id) + ")";
  if (!e.parcel_courier.empty()) detail += " for " + e.parcel_courier;
  detail += " found in bag " + e.bag_id + (courier.empty() ? "" : " of " + courier);
  handover_issue(manifest, "missort", e.bag_id, e.parcel_id, courier, detail, e.user, now, fx);
  fx.store.push_back(StoreAudit{e.user, "handover.missort", detail, now});
}

void Core::on(const ManifestClose& e, TimeMs now, Effects& fx) {
  auto mit = manifests_.find(e.manifest_id);
  if (mit == manifests_.end()) {
    fx.log.push_back("manifest " + std::to_string(e.manifest_id) + " is not open: close ignored");
    return;
  }
  const Manifest m = mit->second;
  std::int64_t bags = 0, picked = 0, not_taken = 0;
  for (auto it = bags_.begin(); it != bags_.end();) {
    const Bag& b = it->second;
    if (!b.closed || b.manifest_id != m.id) {
      ++it;
      continue;
    }
    ++bags;
    if (b.picked) {
      ++picked;
    } else {
      ++not_taken;
      handover_issue(m.id, "not_taken", b.id, 0, m.courier,
                     "bag " + b.id + " (lane " + std::to_string(b.lane) + ", " +
                         std::to_string(b.count) + " parcels) was sorted but not taken",
                     e.user, now, fx);
    }
    it = bags_.erase(it);
  }
  fx.store.push_back(
      StoreManifest{m.id, m.courier, m.day, m.cutoff_min, true, m.opened, now, e.user, e.forced});
  fx.store.push_back(StoreAudit{e.user, "manifest.close",
                                "manifest " + std::to_string(m.id) + " " + m.courier + " (" +
                                    std::to_string(bags) + " bags, " +
                                    std::to_string(e.parcels.size()) + " parcels" +
                                    (e.forced ? ", forced" : "") + ")",
                                now});
  for (const auto& p : e.parcels)
    fx.publish.push_back({"parcel.shipped", json{{"parcel_id", p.parcel_id},
                                                 {"order_id", p.order_id},
                                                 {"tracking_number", p.tracking},
                                                 {"courier", m.courier},
                                                 {"bag_id", p.bag_id},
                                                 {"manifest_id", m.id},
                                                 {"time", now}}
                                                .dump()});
  json body = manifest_json(m);
  body.erase("bags");
  body.erase("picked");
  body.erase("parcels");
  body.update(json{{"event", "closed"},
                   {"bags", bags},
                   {"picked", picked},
                   {"not_taken", not_taken},
                   {"parcels", e.parcels.size()},
                   {"forced", e.forced},
                   {"user", e.user},
                   {"time", now}});
  fx.publish.push_back({"manifest", body.dump()});
  fx.log.push_back("manifest " + std::to_string(m.id) + " of " + m.courier +
                   " closed: " + std::to_string(bags) + " bags (" + std::to_string(picked) +
                   " picked up), " + std::to_string(e.parcels.size()) + " parcels shipped");
  manifests_.erase(m.id);
}

json Core::bags_json() const {
  json bags = json::array();
  for (std::size_t i = 0; i < open_bag_.size(); ++i)
    if (!open_bag_[i].empty()) bags.push_back(bag_json(bags_.at(open_bag_[i])));
  return bags;
}

json Core::manifests_json() const {
  json out = json::array();
  for (const auto& [_, m] : manifests_) out.push_back(manifest_json(m));
  return out;
}

json Core::bag_json(const Bag& b) const {
  json j = {{"bag_id", b.id},       {"lane", b.lane},
            {"courier", b.courier}, {"state", b.closed ? "closed" : "open"},
            {"opened", b.opened},   {"count", b.count},
            {"grams", b.grams},     {"manifest_id", b.manifest_id},
            {"picked", b.picked},   {"reason", b.reason}};
  if (!b.closed) {
    const std::size_t i = lane_index(b.lane);
    if (i < cfg_.lanes.size()) {
      j["count"] = lane_fill_[i];
      j["grams"] = lane_grams_[i];
      j["max_count"] = cfg_.lanes[i].bag_max_count;
      j["max_g"] = cfg_.lanes[i].bag_max_weight_g;
    }
  } else {
    j["closed"] = b.closed_time;
  }
  return j;
}

json Core::manifest_json(const Manifest& m) const {
  std::int64_t bags = 0, picked = 0, parcels = 0;
  for (const auto& [_, b] : bags_)
    if (b.closed && b.manifest_id == m.id) {
      ++bags;
      picked += b.picked;
      parcels += b.count;
    }
  json j = {{"manifest_id", m.id},
            {"courier", m.courier},
            {"day", m.day},
            {"wave", date_of(m.day)},
            {"cutoff", hhmm(m.cutoff_min)},
            {"opened", m.opened},
            {"bags", bags},
            {"picked", picked},
            {"parcels", parcels},
            {"state", "open"}};
  if (const Courier* c = cfg_.courier(m.courier)) j["courier_name"] = c->name;
  return j;
}

}  // namespace sortd
