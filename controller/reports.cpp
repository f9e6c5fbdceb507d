// Reports per hour / per day: SQL over the stored events (docs/reports.md).
#include "reports.h"

#include "store_query.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>
#include <unordered_map>

namespace sortd {

using nlohmann::json;

namespace {

constexpr std::int64_t kMinMs = 60'000;
constexpr std::int64_t kHourMs = 60 * kMinMs;
constexpr std::int64_t kDayMs = 24 * kHourMs;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  using namespace std::chrono;
  return sys_days{year{y} / month{m} / day{d}}.time_since_epoch().count();
}

std::string two(int v) {
  char b[16];
  std::snprintf(b, sizeof b, "%02d", v);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Arguments

struct LocalPoint {
  std::int64_t day = 0;  // local day number
  int minute = 0;        // minute of that day
  bool is_date = false;  // given as a date (no time of day)
};

LocalPoint parse_point(std::string_view name, std::string_view text, std::int32_t off, TimeMs now) {
  const std::string q = "'" + std::string(name) + "'";
  const std::int64_t today = floor_div(floor_div(now, kMinMs) + off, 24 * 60);
  if (text == "today") return {today, 0, true};
  if (text == "yesterday") return {today - 1, 0, true};
  auto digits = [&](std::size_t at, std::size_t n) {
    if (at + n > text.size()) return -1;
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return -1;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  const bool shape_date = text.size() >= 10 && text[4] == '-' && text[7] == '-';
  const bool shape_time =
      text.size() == 16 && (text[10] == ' ' || text[10] == 'T') && text[13] == ':';
  const int y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2);
  if (!shape_date || (text.size() != 10 && !shape_time) || y < 0 || mo < 0 || d < 0)
    throw ReportError(q +
                      " must be a date YYYY-MM-DD, a time YYYY-MM-DD HH:MM (station time), "
                      "today or yesterday, not '" +
                      std::string(text) + "'");
  using namespace std::chrono;
  if (!year_month_day{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}}
           .ok() ||
      y < 1970)
    throw ReportError(q + ": " + std::string(text.substr(0, 10)) + " is not a date");
  LocalPoint p{days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)), 0,
               text.size() == 10};
  if (shape_time) {
    const int h = digits(11, 2), mi = digits(14, 2);
    if (h < 0 || mi < 0 || h > 23 || mi > 59)
      throw ReportError(q + ": '" + std::string(text.substr(11)) +
                        "' is not a time of day HH:MM (00:00 to 23:59)");
    p.minute = h * 60 + mi;
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Queries

struct CourierSums {
  std::int64_t parcels = 0, sorted = 0, grams = 0, missorts = 0, not_taken = 0, not_on_manifest = 0;
};
struct LaneSums {
  std::int64_t parcels = 0, sorted = 0;
};
constexpr std::array<const char*, 4> kOutcomes{"diverted", "recirculated", "rejected", "lost"};

struct Bucket {
  std::int64_t parcels = 0, sorted = 0, exceptions = 0, in_flight = 0;
  std::int64_t reads = 0, no_reads = 0;
  std::array<std::int64_t, 4> confirmations{};
  std::int64_t missorts = 0, not_taken = 0, not_on_manifest = 0;
  std::map<std::string, CourierSums> couriers;
  std::map<std::int64_t, LaneSums> lanes;
  std::map<std::string, std::int64_t> reasons;
};

json rate(std::int64_t num, std::int64_t den) {
  return den > 0 ? json(static_cast<double>(num) / static_cast<double>(den)) : json(nullptr);
}

json bucket_json(const Bucket& b, const StationConfig& cfg) {
  json j = {{"parcels", b.parcels},
            {"sorted", b.sorted},
            {"exceptions", b.exceptions},
            {"in_flight", b.in_flight},
            {"reads", b.reads},
            {"no_reads", b.no_reads},
            {"read_rate", rate(b.reads - b.no_reads, b.reads)},
            {"recirculated", b.confirmations[1]},
            {"recirculation_rate", rate(b.confirmations[1], b.parcels)},
            {"missorts", b.missorts},
            {"not_taken", b.not_taken},
            {"not_on_manifest", b.not_on_manifest}};
  json conf = json::object();
  for (std::size_t i = 0; i < kOutcomes.size(); ++i) conf[kOutcomes[i]] = b.confirmations[i];
  j["confirmations"] = std::move(conf);
  json couriers = json::array(), lanes = json::array(), reasons = json::array();
  for (const auto& [id, c] : b.couriers)
    couriers.push_back({{"courier", id},
                        {"parcels", c.parcels},
                        {"sorted", c.sorted},
                        {"grams", c.grams},
                        {"missorts", c.missorts},
                        {"not_taken", c.not_taken},
                        {"not_on_manifest", c.not_on_manifest}});
  for (const auto& [id, l] : b.lanes) {
    const Lane* lane = cfg.lane(static_cast<int>(id));
    lanes.push_back({{"lane", id},
                     {"courier", lane ? lane->courier : std::string()},
                     {"parcels", l.parcels},
                     {"sorted", l.sorted}});
  }
  for (const auto& [reason, n] : b.reasons) reasons.push_back({{"reason", reason}, {"parcels", n}});
  j["by_courier"] = std::move(couriers);
  j["by_lane"] = std::move(lanes);
  j["exceptions_by_reason"] = std::move(reasons);
  return j;
}

}  // namespace

std::string local_time_text(TimeMs t, std::int32_t off, bool with_time) {
  const std::int64_t local_min = floor_div(t, kMinMs) + off;
  const std::int64_t day = floor_div(local_min, 24 * 60);
  const int minute = static_cast<int>(local_min - day * 24 * 60);
  using namespace std::chrono;
  const year_month_day ymd{sys_days{days{day}}};
  std::string s = std::to_string(static_cast<int>(ymd.year())) + "-" +
                  two(static_cast<int>(static_cast<unsigned>(ymd.month()))) + "-" +
                  two(static_cast<int>(static_cast<unsigned>(ymd.day())));
  if (with_time) s += " " + two(minute / 60) + ":" + two(minute % 60);
  return s;
}

ReportRange parse_report_range(std::string_view period, std::string_view from, std::string_view to,
                               std::int32_t off, TimeMs now) {
  ReportRange r;
  r.utc_offset_min = off;
  if (period.empty() || period == "day")
    r.period = ReportPeriod::Day;
  else if (period == "hour")
    r.period = ReportPeriod::Hour;
  else
    throw ReportError("'period' must be hour or day, not '" + std::string(period) + "'");
  const LocalPoint f = parse_point("from", from.empty() ? "today" : from, off, now);
  const LocalPoint t = parse_point("to", to.empty() ? "today" : to, off, now);
  auto check_aligned = [&](const char* name, const LocalPoint& p, std::string_view text) {
    if (r.period == ReportPeriod::Hour && p.minute % 60 != 0)
      throw ReportError(std::string("'") + name +
                        "' must be on the hour for an hourly report, not '" + std::string(text) +
                        "'");
    if (r.period == ReportPeriod::Day && p.minute != 0)
      throw ReportError(std::string("'") + name +
                        "' must be a date (or 00:00) for a daily report, not '" +
                        std::string(text) + "'");
  };
  check_aligned("from", f, from);
  check_aligned("to", t, to);
  auto utc = [&](std::int64_t day, int minute) {
    return ((day * 24 * 60) + minute - off) * kMinMs;
  };
  r.from = utc(f.day, f.minute);
  r.to = t.is_date ? utc(t.day + 1, 0) : utc(t.day, t.minute);
  if (r.from >= r.to)
    throw ReportError("'from' (" + local_time_text(r.from, off) + ") must be before 'to' (" +
                      (t.is_date ? local_time_text(r.to - kDayMs, off, false) + ", to its end"
                                 : local_time_text(r.to, off)) +
                      ")");
  const std::int64_t len = r.period == ReportPeriod::Hour ? kHourMs : kDayMs;
  const std::int64_t n = (r.to - r.from) / len,
                     max = r.period == ReportPeriod::Hour ? kReportMaxHours : kReportMaxDays;
  if (n > max)
    throw ReportError(std::string("the range from 'from' to 'to' is ") + std::to_string(n) +
                      (r.period == ReportPeriod::Hour ? " hours" : " days") +
                      "; a report covers at most " + std::to_string(max) +
                      (r.period == ReportPeriod::Hour ? " hours (use period day)" : " days"));
  return r;
}

json build_report(sqlite3* db, const StationConfig& cfg, const ReportRange& range) {
  const std::int64_t len = range.period == ReportPeriod::Hour ? kHourMs : kDayMs;
  const std::int64_t off = std::int64_t{range.utc_offset_min} * kMinMs;
  const std::int64_t b0 = floor_div(range.from + off, len), b1 = floor_div(range.to + off, len);
  std::map<std::int64_t, Bucket> buckets;
  for (std::int64_t b = b0; b < b1; ++b) buckets[b];
  Bucket total;
  auto at = [&](std::int64_t b) -> Bucket& {
    auto it = buckets.find(b);
    if (it == buckets.end())
      throw ReportError("report: a row outside the range (bucket " + std::to_string(b) + ")");
    return it->second;
  };

  // One read transaction: every query sees the same store.
  const bool own_txn = sqlite3_get_autocommit(db) != 0;
  if (own_txn && sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK)
    throw StoreError(std::string("report: ") + sqlite3_errmsg(db));
  try {
    // Parcels, in the period they were scanned (their first decision), by their latest courier,
    // lane, state and exception. The rows come in created_ms order straight from the covering
    // index; they are summed here per period and (courier, lane, state, exception) rather than
    // by a GROUP BY, which would sort every row of the range first (4x slower on a month).
    Query p(db,
            "SELECT created_ms, courier, lane, state, exception, weight_g FROM parcels WHERE "
            "created_ms >= ?1 AND created_ms < ?2 ORDER BY created_ms");
    p.bind(1, range.from).bind(2, range.to);
    struct Group {
      std::string courier, state, exc;
      std::int64_t lane = 0, n = 0, grams = 0;
    };
    std::unordered_map<std::string, Group> groups;
    std::int64_t cur = b0;
    std::string key;
    auto flush = [&] {
      for (const auto& [_, g] : groups) {
        const bool sorted = g.state == "diverted" && g.exc == "none";
        const bool exception = g.exc != "none";
        const bool in_flight = !exception && (g.state == "decided" || g.state == "commanded");
        for (Bucket* b : {&at(cur), &total}) {
          b->parcels += g.n;
          b->sorted += sorted ? g.n : 0;
          b->exceptions += exception ? g.n : 0;
          b->in_flight += in_flight ? g.n : 0;
          CourierSums& c = b->couriers[g.courier];
          c.parcels += g.n;
          c.sorted += sorted ? g.n : 0;
          c.grams += g.grams;
          LaneSums& l = b->lanes[g.lane];
          l.parcels += g.n;
          l.sorted += sorted ? g.n : 0;
          if (exception) b->reasons[g.exc] += g.n;
        }
      }
      groups.clear();
    };
    while (p.step()) {
      const std::int64_t b = floor_div(p.i64(0) + off, len);
      if (b != cur) {
        flush();
        cur = b;
      }
      const std::int64_t lane = p.i64(2);
      key.assign(p.view(1));
      key += '\x1f';
      key += p.view(3);
      key += '\x1f';
      key += p.view(4);
      key += '\x1f';
      key.append(reinterpret_cast<const char*>(&lane), sizeof lane);
      auto it = groups.find(key);
      if (it == groups.end())
        it = groups
                 .emplace(key, Group{std::string(p.view(1)), std::string(p.view(3)),
                                     std::string(p.view(4)), lane, 0, 0})
                 .first;
      it->second.n += 1;
      it->second.grams += p.i64(5);
    }
    flush();
    // Reads and confirmations: one aggregate per period over its index range (no sort).
    // A read with a code is one with no no-read flag and at least one code.
    Query r(db,
            "SELECT count(*), sum(no_read <> 0 OR codes = '[]') FROM reads WHERE time_ms >= ?1 "
            "AND time_ms < ?2");
    Query c(db,
            "SELECT sum(outcome = 'diverted'), sum(outcome = 'recirculated'), sum(outcome = "
            "'rejected'), sum(outcome = 'lost') FROM confirmations WHERE time_ms >= ?1 AND "
            "time_ms < ?2");
    for (auto& [b, sums] : buckets) {
      const TimeMs start = b * len - off;
      r.bind(1, start).bind(2, start + len);
      if (r.step()) {
        sums.reads = r.i64(0);
        sums.no_reads = r.i64(1);
      }
      r.reset();
      total.reads += sums.reads;
      total.no_reads += sums.no_reads;
      c.bind(1, start).bind(2, start + len);
      if (c.step())
        for (std::size_t i = 0; i < kOutcomes.size(); ++i) {
          sums.confirmations[i] = c.i64(static_cast<int>(i));
          total.confirmations[i] += sums.confirmations[i];
        }
      c.reset();
    }
    Query h(db,
            "SELECT (time_ms + ?3) / ?4, courier, kind, count(*) FROM handover_issues WHERE "
            "time_ms >= ?1 AND time_ms < ?2 GROUP BY 1, 2, 3");
    h.bind(1, range.from).bind(2, range.to).bind(3, off).bind(4, len);
    while (h.step()) {
      const std::string courier = h.str(1), kind = h.str(2);
      const std::int64_t n = h.i64(3);
      for (Bucket* b : {&at(h.i64(0)), &total}) {
        CourierSums& cs = b->couriers[courier];
        if (kind == "missort") b->missorts += n, cs.missorts += n;
        if (kind == "not_taken") b->not_taken += n, cs.not_taken += n;
        if (kind == "not_on_manifest") b->not_on_manifest += n, cs.not_on_manifest += n;
      }
    }

    json out = {{"period", range.period == ReportPeriod::Hour ? "hour" : "day"},
                {"from", local_time_text(range.from, range.utc_offset_min)},
                {"to", local_time_text(range.to, range.utc_offset_min)},
                {"from_ms", range.from},
                {"to_ms", range.to},
                {"utc_offset_min", range.utc_offset_min},
                {"station", cfg.station_id}};
    json list = json::array();
    for (const auto& [b, sums] : buckets) {
      const TimeMs start = b * len - off;
      json j = bucket_json(sums, cfg);
      j["start"] = local_time_text(start, range.utc_offset_min, range.period == ReportPeriod::Hour);
      j["start_ms"] = start;
      list.push_back(std::move(j));
    }
    out["buckets"] = std::move(list);
    out["total"] = bucket_json(total, cfg);
    out["total"]["start"] = "total";

    // Capacity used per courier and local day (the ledger the core reserves against), with the
    // courier's daily limits.
    const std::int64_t d0 = floor_div(range.from + std::int64_t{range.utc_offset_min} * kMinMs,
                                      kDayMs),
                       d1 = floor_div(range.to - 1 + std::int64_t{range.utc_offset_min} * kMinMs,
                                      kDayMs);
    Query k(db,
            "SELECT day, courier, parcels, grams FROM capacity WHERE day >= ?1 AND day <= ?2 "
            "ORDER BY day, courier");
    k.bind(1, d0).bind(2, d1);
    json cap = json::array();
    while (k.step()) {
      const std::string courier = k.str(1);
      const std::int64_t parcels = k.i64(2), grams = k.i64(3);
      const Courier* cc = cfg.courier(courier);
      const std::int64_t lp = cc ? cc->daily_parcels : 0, lk = cc ? cc->daily_kg : 0;
      cap.push_back({{"day", local_time_text(k.i64(0) * kDayMs, 0, false)},
                     {"courier", courier},
                     {"parcels", parcels},
                     {"grams", grams},
                     {"daily_parcels", lp ? json(lp) : json(nullptr)},
                     {"daily_kg", lk ? json(lk) : json(nullptr)},
                     {"parcels_share", lp ? rate(parcels, lp) : json(nullptr)},
                     {"kg_share", lk ? rate(grams, lk * 1000) : json(nullptr)}});
    }
    out["capacity"] = std::move(cap);
    if (own_txn) sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    return out;
  } catch (...) {
    if (own_txn) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

// ---------------------------------------------------------------------------------------------
// Renderings

namespace {

std::string cell(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    char b[32];
    std::snprintf(b, sizeof b, "%.6g", v.get<double>());
    return b;
  }
  return v.dump();
}

std::string percent(const json& v) {
  if (!v.is_number()) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.1f%%", v.get<double>() * 100);
  return b;
}

// Columns padded to their widest cell (all ASCII but courier ids, which are ASCII too).
void print_table(std::ostringstream& out, const std::vector<std::string>& head,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> w(head.size());
  for (std::size_t i = 0; i < head.size(); ++i) w[i] = head[i].size();
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], r[i].size());
  auto line = [&](const std::vector<std::string>& r) {
    std::string s;
    for (std::size_t i = 0; i < r.size(); ++i) {
      // Text left, figures right.
      const bool left = i == 0 || (i == 1 && head.size() > 1 && !head[1].empty() &&
                                   (head[1] == "courier" || head[1] == "reason"));
      const std::string pad(w[i] - r[i].size(), ' ');
      s += left ? r[i] + pad : pad + r[i];
      if (i + 1 < r.size()) s += "  ";
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out << s << "\n";
  };
  line(head);
  for (const auto& r : rows) line(r);
}

std::string num(const json& v) {
  return v.is_null() ? "-" : cell(v);
}

}  // namespace

std::string report_table(const json& rep) {
  std::ostringstream out;
  const int off = rep.value("utc_offset_min", 0);
  const int aoff = off < 0 ? -off : off;
  out << "report per " << rep.value("period", "") << ", " << rep.value("from", "") << " to "
      << rep.value("to", "") << " (station time UTC" << (off < 0 ? "-" : "+") << two(aoff / 60)
      << ":" << two(aoff % 60) << ")\n\n";
  std::vector<const json*> rows;
  for (const auto& b : rep["buckets"]) rows.push_back(&b);
  rows.push_back(&rep["total"]);

  std::vector<std::vector<std::string>> t;
  for (const json* b : rows)
    t.push_back({b->value("start", ""), num((*b)["parcels"]), num((*b)["sorted"]),
                 num((*b)["exceptions"]), num((*b)["in_flight"]), num((*b)["reads"]),
                 num((*b)["no_reads"]), percent((*b)["read_rate"]), num((*b)["recirculated"]),
                 percent((*b)["recirculation_rate"]), num((*b)["missorts"]), num((*b)["not_taken"]),
                 num((*b)["not_on_manifest"])});
  print_table(
      out,
      {"period", "parcels", "sorted", "exceptions", "in_flight", "reads", "no_reads", "read_rate",
       "recirculated", "recirc_rate", "missorts", "not_taken", "not_on_manifest"},
      t);

  t.clear();
  for (const json* b : rows)
    for (const auto& c : (*b)["by_courier"])
      t.push_back({b->value("start", ""),
                   c.value("courier", "").empty() ? "-" : c.value("courier", ""), num(c["parcels"]),
                   num(c["sorted"]), num(c["grams"]), num(c["missorts"]), num(c["not_taken"]),
                   num(c["not_on_manifest"])});
  out << "\nparcels by courier (- : none, an exception at the decision)\n";
  print_table(out,
              {"period", "courier", "parcels", "sorted", "grams", "missorts", "not_taken",
               "not_on_manifest"},
              t);

  t.clear();
  for (const json* b : rows)
    for (const auto& l : (*b)["by_lane"])
      t.push_back({b->value("start", ""), num(l["lane"]),
                   l.value("courier", "").empty() ? "-" : l.value("courier", ""), num(l["parcels"]),
                   num(l["sorted"])});
  out << "\nparcels by lane\n";
  print_table(out, {"period", "lane", "courier", "parcels", "sorted"}, t);

  t.clear();
  for (const json* b : rows)
    for (const auto& e : (*b)["exceptions_by_reason"])
      t.push_back({b->value("start", ""), e.value("reason", ""), num(e["parcels"])});
  out << "\nexceptions by reason\n";
  print_table(out, {"period", "reason", "parcels"}, t);

  t.clear();
  for (const auto& c : rep["capacity"])
    t.push_back({c.value("day", ""), c.value("courier", ""), num(c["parcels"]),
                 num(c["daily_parcels"]), percent(c["parcels_share"]), num(c["grams"]),
                 num(c["daily_kg"]), percent(c["kg_share"])});
  out << "\ncapacity used per courier and day\n";
  print_table(
      out, {"day", "courier", "parcels", "daily_parcels", "used", "grams", "daily_kg", "kg_used"},
      t);
  return out.str();
}

std::string report_csv(const json& rep) {
  std::ostringstream out;
  auto field = [](const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return q + "\"";
  };
  auto row = [&](const std::string& period, const char* section, const std::string& key,
                 const char* metric, const json& value) {
    out << field(period) << "," << section << "," << field(key) << "," << metric << ","
        << cell(value) << "\r\n";
  };
  out << "period,section,key,metric,value\r\n";
  std::vector<const json*> rows;
  for (const auto& b : rep["buckets"]) rows.push_back(&b);
  rows.push_back(&rep["total"]);
  for (const json* b : rows) {
    const std::string p = b->value("start", "");
    for (const char* m :
         {"parcels", "sorted", "exceptions", "in_flight", "reads", "no_reads", "read_rate",
          "recirculated", "recirculation_rate", "missorts", "not_taken", "not_on_manifest"})
      row(p, "summary", "", m, (*b)[m]);
    for (const auto& [outcome, n] : (*b)["confirmations"].items())
      row(p, "confirmations", outcome, "count", n);
    for (const auto& c : (*b)["by_courier"])
      for (const char* m :
           {"parcels", "sorted", "grams", "missorts", "not_taken", "not_on_manifest"})
        row(p, "courier", c.value("courier", ""), m, c[m]);
    for (const auto& l : (*b)["by_lane"])
      for (const char* m : {"parcels", "sorted"}) row(p, "lane", cell(l["lane"]), m, l[m]);
    for (const auto& e : (*b)["exceptions_by_reason"])
      row(p, "exception", e.value("reason", ""), "parcels", e["parcels"]);
  }
  for (const auto& c : rep["capacity"])
    for (const char* m :
         {"parcels", "grams", "daily_parcels", "daily_kg", "parcels_share", "kg_share"})
      row(c.value("day", ""), "capacity", c.value("courier", ""), m, c[m]);
  return out.str();
}

}  // namespace sortd
