// Reports (controller/reports.h): the arguments and their errors; periods across local midnight
// in three time zones on hand-made rows; and the recorded demo run replayed through the core into
// a store at four times of a day (one across midnight), with every report figure checked
// against independent COUNT(*) queries over the stored rows; the CSV parsed back.
#define BOOST_TEST_MODULE reports
#include <boost/test/unit_test.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "codec.h"
#include "config.h"
#include "core.h"
#include "orders.h"
#include "report_check.h"
#include "reports.h"
#include "store.h"
#include "temp_dir.h"

using namespace sortd;
using nlohmann::json;
using sortd::test::TempDir;

namespace {

constexpr std::int64_t kMin = 60'000, kHour = 60 * kMin, kDay = 24 * kHour;
// 2026-11-22 00:00 UTC.
constexpr TimeMs kNov22 = 20779 * kDay;

std::string error_of(std::string_view period, std::string_view from, std::string_view to,
                     std::int32_t off = 480) {
  try {
    parse_report_range(period, from, to, off, kNov22 + 3 * kHour);
  } catch (const ReportError& e) {
    return e.what();
  }
  return "(accepted)";
}

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  BOOST_REQUIRE_MESSAGE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) == SQLITE_OK,
                        (err ? err : "?") << ": " << sql);
}

StationConfig small_config(std::int32_t off) {
  StationConfig cfg;
  cfg.station_id = "test";
  cfg.policies.utc_offset_min = off;
  Courier sf;
  sf.id = "sf";
  sf.daily_parcels = 100;
  sf.daily_kg = 50;
  Courier jd;
  jd.id = "jd";
  cfg.couriers = {sf, jd};
  Lane l1;
  l1.id = 1;
  l1.courier = "sf";
  Lane l2;
  l2.id = 2;
  l2.courier = "jd";
  cfg.lanes = {l1, l2};
  return cfg;
}

const json* bucket(const json& rep, const std::string& start) {
  for (const auto& b : rep["buckets"])
    if (b["start"] == start) return &b;
  return nullptr;
}

// Every figure of the JSON report is in the CSV with the same value.
void check_csv_matches(const json& rep) {
  auto csv = report_check::parse_csv(report_csv(rep));
  std::size_t n = 0;
  auto same = [&](const std::string& key, const json& v) {
    auto it = csv.find(key);
    BOOST_REQUIRE_MESSAGE(it != csv.end(), "missing in the CSV: " << key);
    if (v.is_null())
      BOOST_CHECK_EQUAL(it->second, "");
    else if (v.is_number_float())
      BOOST_CHECK_CLOSE(std::stod(it->second), v.get<double>(), 1e-3);
    else
      BOOST_CHECK_EQUAL(it->second, v.dump());
    ++n;
  };
  std::vector<json> all(rep["buckets"].begin(), rep["buckets"].end());
  all.push_back(rep["total"]);
  for (const auto& b : all) {
    const std::string p = b["start"];
    for (const char* m :
         {"parcels", "sorted", "exceptions", "in_flight", "reads", "no_reads", "read_rate",
          "recirculated", "recirculation_rate", "missorts", "not_taken", "not_on_manifest"})
      same(p + "|summary||" + m, b[m]);
    for (const auto& [o, v] : b["confirmations"].items())
      same(p + "|confirmations|" + o + "|count", v);
    for (const auto& c : b["by_courier"])
      for (const char* m :
           {"parcels", "sorted", "grams", "missorts", "not_taken", "not_on_manifest"})
        same(p + "|courier|" + c["courier"].get<std::string>() + "|" + m, c[m]);
    for (const auto& l : b["by_lane"])
      for (const char* m : {"parcels", "sorted"})
        same(p + "|lane|" + l["lane"].dump() + "|" + m, l[m]);
    for (const auto& e : b["exceptions_by_reason"])
      same(p + "|exception|" + e["reason"].get<std::string>() + "|parcels", e["parcels"]);
  }
  for (const auto& c : rep["capacity"])
    for (const char* m :
         {"parcels", "grams", "daily_parcels", "daily_kg", "parcels_share", "kg_share"})
      same(c["day"].get<std::string>() + "|capacity|" + c["courier"].get<std::string>() + "|" + m,
           c[m]);
  BOOST_CHECK_EQUAL(n, csv.size());  // nothing more in the CSV than in the JSON
}

}  // namespace

BOOST_AUTO_TEST_SUITE(arguments)

BOOST_AUTO_TEST_CASE(dates_times_and_defaults) {
  const TimeMs now = kNov22 + 3 * kHour;  // 11:00 on 2026-11-22 at UTC+8
  ReportRange r = parse_report_range("", "", "", 480, now);
  BOOST_CHECK(r.period == ReportPeriod::Day);
  BOOST_CHECK_EQUAL(r.from, kNov22 - 8 * kHour);  // local midnight
  BOOST_CHECK_EQUAL(r.to, kNov22 + 16 * kHour);
  r = parse_report_range("hour", "2026-11-21", "2026-11-22", 480, now);
  BOOST_CHECK_EQUAL(r.to - r.from, 2 * kDay);
  r = parse_report_range("hour", "2026-11-22 09:00", "2026-11-22T12:00", 480, now);
  BOOST_CHECK_EQUAL(r.from, kNov22 + 1 * kHour);
  BOOST_CHECK_EQUAL(r.to, kNov22 + 4 * kHour);
  r = parse_report_range("day", "yesterday", "today", 480, now);
  BOOST_CHECK_EQUAL(r.to - r.from, 2 * kDay);
  r = parse_report_range("hour", "2026-11-22 09:00", "2026-11-22 10:00", -300, now);
  BOOST_CHECK_EQUAL(r.from, kNov22 + 14 * kHour);  // 09:00 at UTC-5
  // Just after 16:00 UTC it is already tomorrow at UTC+8.
  r = parse_report_range("day", "today", "", 480, kNov22 + 16 * kHour);
  BOOST_CHECK_EQUAL(local_time_text(r.from, 480), "2026-11-23 00:00");
  BOOST_CHECK_EQUAL(local_time_text(r.from, 480, false), "2026-11-23");
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_refused_with_a_message_naming_them) {
  auto has = [](const std::string& msg, const std::string& part) {
    BOOST_CHECK_MESSAGE(msg.find(part) != std::string::npos,
                        "'" << msg << "' lacks '" << part << "'");
  };
  has(error_of("week", "", ""), "'period' must be hour or day, not 'week'");
  has(error_of("", "22/11/2026", ""), "'from' must be a date YYYY-MM-DD");
  has(error_of("", "22/11/2026", ""), "not '22/11/2026'");
  has(error_of("", "", "2026-11-2"), "'to' must be a date");
  has(error_of("", "2026-02-30", ""), "'from': 2026-02-30 is not a date");
  has(error_of("", "2026-13-01", ""), "'from': 2026-13-01 is not a date");
  has(error_of("hour", "2026-11-22 24:00", ""), "'from': '24:00' is not a time of day");
  has(error_of("hour", "2026-11-22 09:30", ""), "'from' must be on the hour");
  has(error_of("day", "2026-11-22 09:00", ""), "'from' must be a date (or 00:00)");
  has(error_of("", "2026-11-23", "2026-11-22"),
      "'from' (2026-11-23 00:00) must be before 'to' (2026-11-22, to its end)");
  has(error_of("hour", "2026-11-22 10:00", "2026-11-22 10:00"), "must be before 'to'");
  has(error_of("hour", "2026-10-01", "2026-11-22"), "at most 744 hours (use period day)");
  has(error_of("day", "2024-01-01", "2026-11-22"), "at most 366 days");
  has(error_of("", "2026-11-22x", ""), "'from' must be a date");
  BOOST_CHECK_EQUAL(error_of("hour", "2026-10-22", "2026-11-21"), "(accepted)");  // 31 days
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(periods)

// Hand-made rows one millisecond either side of local midnight (UTC+8: 16:00 UTC), read in
// three time zones.
BOOST_AUTO_TEST_CASE(local_midnight_and_the_station_time_zone) {
  TempDir dir("sortd-reports");
  Store store(dir.db());
  sqlite3* db = store.handle();
  const TimeMs before = kNov22 + 16 * kHour - 1, after = kNov22 + 16 * kHour;
  auto put = [&](int id, TimeMs t, const char* state, const char* exc, const char* courier,
                 int lane) {
    exec(db,
         "INSERT INTO parcels (id, state, exception, courier, lane, weight_g, created_ms, "
         "updated_ms) VALUES (" +
             std::to_string(id) + ", '" + state + "', '" + exc + "', '" + courier + "', " +
             std::to_string(lane) + ", 1000, " + std::to_string(t) + ", " + std::to_string(t) +
             ")");
    exec(db, "INSERT INTO reads (id, parcel_id, time_ms, scanner, no_read, codes) VALUES (" +
                 std::to_string(id) + ", " + std::to_string(id) + ", " + std::to_string(t) +
                 ", 's', " +
                 (std::string(exc) == "no_read" ? "1, '[]'" : "0, '[{\"text\":\"A\"}]'") + ")");
  };
  put(1, before, "diverted", "none", "sf", 1);
  put(2, before, "exception", "no_read", "", 30);
  put(3, after, "diverted", "none", "jd", 2);
  put(4, after, "commanded", "none", "sf", 1);
  exec(db,
       "INSERT INTO confirmations (seq, parcel_id, outcome, time_ms) VALUES (1, 1, "
       "'recirculated', " +
           std::to_string(before) + "), (2, 3, 'diverted', " + std::to_string(after) + ")");
  exec(db,
       "INSERT INTO handover_issues (manifest_id, kind, bag_id, courier, time_ms) VALUES (1, "
       "'missort', 'B1', 'sf', " +
           std::to_string(before) + "), (1, 'not_taken', 'B2', 'jd', " + std::to_string(after) +
           "), (1, 'missort', 'B3', 'jd', " + std::to_string(after) + ")");
  exec(db,
       "INSERT INTO capacity (day, courier, parcels, grams) VALUES (20779, 'sf', 2, 2000), "
       "(20780, 'sf', 1, 1000), (20780, 'jd', 1, 1000), (20778, 'sf', 9, 9)");

  // UTC+8: the two sides are two days, and two hours.
  {
    StationConfig cfg = small_config(480);
    json d = build_report(db, cfg, parse_report_range("day", "2026-11-22", "2026-11-23", 480, 0));
    BOOST_REQUIRE_EQUAL(d["buckets"].size(), 2u);
    const json& d22 = d["buckets"][0];
    const json& d23 = d["buckets"][1];
    BOOST_CHECK_EQUAL(d22["start"], "2026-11-22");
    BOOST_CHECK_EQUAL(d22["parcels"], 2);
    BOOST_CHECK_EQUAL(d22["sorted"], 1);
    BOOST_CHECK_EQUAL(d22["exceptions"], 1);
    BOOST_CHECK_EQUAL(d22["exceptions_by_reason"][0]["reason"], "no_read");
    BOOST_CHECK_EQUAL(d22["reads"], 2);
    BOOST_CHECK_EQUAL(d22["no_reads"], 1);
    BOOST_CHECK_CLOSE(d22["read_rate"].get<double>(), 0.5, 1e-9);
    BOOST_CHECK_EQUAL(d22["recirculated"], 1);
    BOOST_CHECK_CLOSE(d22["recirculation_rate"].get<double>(), 0.5, 1e-9);
    BOOST_CHECK_EQUAL(d22["missorts"], 1);
    BOOST_CHECK_EQUAL(d23["start"], "2026-11-23");
    BOOST_CHECK_EQUAL(d23["parcels"], 2);
    BOOST_CHECK_EQUAL(d23["in_flight"], 1);
    BOOST_CHECK_EQUAL(d23["missorts"], 1);
    BOOST_CHECK_EQUAL(d23["not_taken"], 1);
    BOOST_CHECK_EQUAL(d23["confirmations"]["diverted"], 1);
    BOOST_CHECK_EQUAL(d["total"]["parcels"], 4);
    // The missort by courier: sf on the 22nd, jd on the 23rd.
    BOOST_CHECK_EQUAL(d22["by_courier"][1]["courier"], "sf");
    BOOST_CHECK_EQUAL(d22["by_courier"][1]["missorts"], 1);
    BOOST_CHECK_EQUAL(d23["by_courier"][0]["courier"], "jd");
    BOOST_CHECK_EQUAL(d23["by_courier"][0]["missorts"], 1);
    BOOST_CHECK_EQUAL(d23["by_lane"][0]["courier"], "sf");  // lane 1 belongs to sf
    // Capacity: the two days' ledger rows (not the 21st), with sf's limits.
    BOOST_REQUIRE_EQUAL(d["capacity"].size(), 3u);
    BOOST_CHECK_EQUAL(d["capacity"][0]["day"], "2026-11-22");
    BOOST_CHECK_CLOSE(d["capacity"][0]["parcels_share"].get<double>(), 0.02, 1e-9);
    BOOST_CHECK_CLOSE(d["capacity"][0]["kg_share"].get<double>(), 0.04, 1e-9);
    BOOST_CHECK_EQUAL(d["capacity"][1]["courier"], "jd");
    BOOST_CHECK(d["capacity"][1]["daily_parcels"].is_null());  // unlimited
    BOOST_CHECK(report_check::check_report(db, d) > 0);

    json h = build_report(
        db, cfg, parse_report_range("hour", "2026-11-22 23:00", "2026-11-23 01:00", 480, 0));
    BOOST_REQUIRE_EQUAL(h["buckets"].size(), 2u);
    BOOST_CHECK_EQUAL(bucket(h, "2026-11-22 23:00")->at("parcels"), 2);
    BOOST_CHECK_EQUAL(bucket(h, "2026-11-23 00:00")->at("parcels"), 2);
    BOOST_CHECK(report_check::check_report(db, h) > 0);
    // A range ending at midnight leaves the rows at midnight out; one starting there takes them.
    json upto = build_report(
        db, cfg, parse_report_range("hour", "2026-11-22 20:00", "2026-11-23 00:00", 480, 0));
    BOOST_CHECK_EQUAL(upto["total"]["parcels"], 2);
    BOOST_CHECK_EQUAL(upto["buckets"].size(), 4u);
    BOOST_CHECK_EQUAL(upto["buckets"][0]["parcels"], 0);  // empty hours are there, with zeros
    BOOST_CHECK(upto["buckets"][0]["read_rate"].is_null());
    check_csv_matches(d);
    check_csv_matches(h);
  }
  // UTC-5: both sides are 2026-11-22, 10:59:59.999 and 11:00.
  {
    StationConfig cfg = small_config(-300);
    json d = build_report(db, cfg,
                          parse_report_range("day", "2026-11-22", "", -300, kNov22 + 12 * kHour));
    BOOST_REQUIRE_EQUAL(d["buckets"].size(), 1u);
    BOOST_CHECK_EQUAL(d["buckets"][0]["parcels"], 4);
    json h = build_report(db, cfg,
                          parse_report_range("hour", "2026-11-22", "", -300, kNov22 + 12 * kHour));
    BOOST_CHECK_EQUAL(h["buckets"].size(), 24u);
    BOOST_CHECK_EQUAL(bucket(h, "2026-11-22 10:00")->at("parcels"), 2);
    BOOST_CHECK_EQUAL(bucket(h, "2026-11-22 11:00")->at("parcels"), 2);
    BOOST_CHECK(report_check::check_report(db, h) > 0);
  }
  // UTC+5:30: 21:29:59.999 and 21:30, the same clock hour 21:00 (which starts at 15:30 UTC).
  {
    StationConfig cfg = small_config(330);
    json h = build_report(
        db, cfg, parse_report_range("hour", "2026-11-22 21:00", "2026-11-22 22:00", 330, 0));
    BOOST_REQUIRE_EQUAL(h["buckets"].size(), 1u);
    BOOST_CHECK_EQUAL(h["buckets"][0]["start_ms"], kNov22 + 15 * kHour + 30 * kMin);
    BOOST_CHECK_EQUAL(h["buckets"][0]["parcels"], 4);
    BOOST_CHECK(report_check::check_report(db, h) > 0);
  }
  // The table names every section.
  const std::string table = report_table(build_report(
      db, small_config(480), parse_report_range("day", "2026-11-22", "2026-11-23", 480, 0)));
  BOOST_TEST_MESSAGE(table);
  for (const char* s :
       {"report per day, 2026-11-22 00:00 to 2026-11-24 00:00 (station time UTC+08:00)",
        "parcels by courier", "parcels by lane", "exceptions by reason",
        "capacity used per courier and day", "50.0%"})
    BOOST_CHECK_MESSAGE(table.find(s) != std::string::npos, "the table lacks '" << s << "'");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(demo_day)

// The recorded demo run (tests/replay/demo.events) through the core into a store, started at
// four times of one day: morning, midday, just before the first cutoffs, and across midnight.
// Each run continues the store's ids and capacity ledger (like a restart), with the record's own
// sequence numbers.
BOOST_AUTO_TEST_CASE(reports_add_up_to_the_stored_events) {
  TempDir dir("sortd-reports");
  const std::string record = SORTD_SOURCE_DIR "/tests/replay/demo.events";
  std::ifstream in(record);
  BOOST_REQUIRE(in);
  std::string line;
  std::getline(in, line);
  const json header = json::parse(line);
  std::vector<std::pair<TimeMs, Event>> events;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json j = json::parse(line);
    events.emplace_back(j.at("t").get<TimeMs>(), event_from_json(j.at("event")));
  }
  BOOST_REQUIRE(!events.empty());
  StationConfig cfg = load_config_file(SORTD_SOURCE_DIR "/config/demo-station.toml");
  const std::int32_t off = cfg.policies.utc_offset_min;
  OrderBook book;
  for (auto& o : make_demo_orders(header["orders"]["demo"].get<std::size_t>(),
                                  header["orders"].value("seed", std::uint64_t{42})))
    book.upsert(o);

  Store store(dir.db());
  exec(store.handle(), "PRAGMA synchronous = OFF");  // a test: no fsync per parcel step
  // The record has no recirculation: in the last run, the last five parcels diverted are
  // recirculated instead (the core decides them again, as it does at a full chute).
  std::vector<std::size_t> recirculate;
  for (std::size_t i = events.size(); i-- > 0 && recirculate.size() < 5;)
    if (auto* d = std::get_if<DivertConfirmed>(&events[i].second);
        d && d->outcome == DivertOutcome::Diverted)
      recirculate.push_back(i);
  const TimeMs t0 = events.front().first;
  const std::int64_t day0 = (t0 + off * kMin) / kDay;
  std::uint64_t reads = 0, no_reads = 0;
  // Local start times on 2026-11-... (the record's own day): 08:59:40, 12:00, 17:29:40 (yunda's
  // cutoff is 17:30), 23:59:30 (the run ends after midnight).
  for (std::int64_t start_min_s :
       {(8 * 60 + 59) * 60 + 40, 12 * 3600, (17 * 60 + 29) * 60 + 40, (23 * 60 + 59) * 60 + 30}) {
    const TimeMs start = day0 * kDay + start_min_s * 1000 - off * kMin;
    const TimeMs shift = start - t0;
    RecoveredState rs = store.recover();
    rs.in_flight.clear();      // the previous run's parcels in flight stay so in the store
    rs.order_parcels.clear();  // the same orders again are not duplicates
    rs.alarms.clear();
    rs.lanes.clear();
    rs.next_seq = 1;  // the record's sequence numbers
    Core core(cfg, book, rs);
    const bool last = start_min_s > 23 * 3600;
    for (std::size_t i = 0; i < events.size(); ++i) {
      Event e = events[i].second;
      if (last && std::find(recirculate.begin(), recirculate.end(), i) != recirculate.end())
        std::get<DivertConfirmed>(e).outcome = DivertOutcome::Recirculated;
      Effects fx = core.handle(e, events[i].first + shift);
      store.apply(fx.store);
    }
    reads += core.stats().reads;
    no_reads += core.stats().no_reads;
  }
  sqlite3* db = store.handle();
  // Handover issues (the bags branch writes them): a few each side of midnight.
  const TimeMs midnight = (day0 + 1) * kDay - off * kMin;
  for (int i = 0; i < 12; ++i) {
    const char* kind = i % 3 == 0 ? "missort" : i % 3 == 1 ? "not_taken" : "not_on_manifest";
    const char* courier = i % 2 ? "sf" : "zto";
    exec(db,
         "INSERT INTO handover_issues (manifest_id, kind, bag_id, parcel_id, courier, time_ms, "
         "detail) VALUES (" +
             std::to_string(i / 4 + 1) + ", '" + kind + "', 'BAG" + std::to_string(i) + "', " +
             std::to_string(i + 1) + ", '" + courier + "', " +
             std::to_string(midnight + (i - 6) * 7 * kMin) + ", '')");
  }
  const auto parcels = report_check::count(db, "SELECT count(*) FROM parcels");
  BOOST_TEST_MESSAGE(
      "stored: " << parcels << " parcels, " << report_check::count(db, "SELECT count(*) FROM reads")
                 << " reads, " << report_check::count(db, "SELECT count(*) FROM confirmations")
                 << " confirmations");
  BOOST_REQUIRE(parcels > 800);

  const std::string d0 = local_time_text(t0, off, false);
  const std::string d1 = local_time_text(midnight, off, false);
  for (const char* period : {"day", "hour"}) {
    json rep = build_report(db, cfg, parse_report_range(period, d0, d1, off, 0));
    BOOST_TEST_MESSAGE(report_table(rep));
    const std::size_t n = report_check::check_report(db, rep);
    BOOST_TEST_MESSAGE(period << ": " << n << " figures checked against the store");
    // The range holds every stored event: the totals are the whole tables.
    BOOST_CHECK_EQUAL(rep["total"]["parcels"].get<std::int64_t>(), parcels);
    BOOST_CHECK_EQUAL(rep["total"]["reads"].get<std::uint64_t>(), reads);  // the cores' counters
    BOOST_CHECK_EQUAL(rep["total"]["no_reads"].get<std::uint64_t>(), no_reads);
    BOOST_CHECK_EQUAL(rep["total"]["confirmations"]["recirculated"].get<std::int64_t>() +
                          rep["total"]["confirmations"]["diverted"].get<std::int64_t>() +
                          rep["total"]["confirmations"]["rejected"].get<std::int64_t>() +
                          rep["total"]["confirmations"]["lost"].get<std::int64_t>(),
                      report_check::count(db, "SELECT count(*) FROM confirmations"));
    BOOST_CHECK_EQUAL(rep["total"]["missorts"], 4);
    BOOST_CHECK_EQUAL(rep["total"]["not_taken"], 4);
    BOOST_CHECK_EQUAL(rep["total"]["not_on_manifest"], 4);
    // Real variety: exceptions of several kinds, recirculations, and both days.
    BOOST_CHECK(rep["total"]["exceptions_by_reason"].size() >= 2u);
    BOOST_CHECK_EQUAL(rep["total"]["recirculated"], 5);
    BOOST_CHECK(rep["total"]["by_courier"].size() >= 4u);
    check_csv_matches(rep);
    if (std::string(period) == "day") {
      BOOST_REQUIRE_EQUAL(rep["buckets"].size(), 2u);
      BOOST_CHECK(rep["buckets"][1]["parcels"].get<std::int64_t>() > 0);  // after midnight
      BOOST_CHECK(rep["capacity"].size() >= 4u);
    } else {
      BOOST_CHECK_EQUAL(rep["buckets"].size(), 48u);
      BOOST_CHECK(bucket(rep, d0 + " 08:00")->at("parcels").get<std::int64_t>() > 0);
      BOOST_CHECK(bucket(rep, d0 + " 09:00")->at("parcels").get<std::int64_t>() > 0);
      BOOST_CHECK(bucket(rep, d1 + " 00:00")->at("parcels").get<std::int64_t>() > 0);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
