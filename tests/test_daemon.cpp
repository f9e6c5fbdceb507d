// The daemon end to end on the demo station with its in-process simulated devices: parcels
// flow, every step is in the store, the record replays to exactly the decisions that were
// stored, and a bad configuration stops the daemon before anything starts.
#define BOOST_TEST_MODULE daemon
#include <boost/test/unit_test.hpp>

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "daemon.h"
#include "print.h"
#include "temp_dir.h"

using namespace sortd;
using sortd::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::vector<std::vector<std::string>> rows(sqlite3* db, const std::string& sql) {
  std::vector<std::vector<std::string>> out;
  sqlite3_stmt* st = nullptr;
  BOOST_REQUIRE_EQUAL(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW) {
    std::vector<std::string> r;
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      const unsigned char* t = sqlite3_column_text(st, i);
      r.push_back(t ? reinterpret_cast<const char*>(t) : "");
    }
    out.push_back(std::move(r));
  }
  sqlite3_finalize(st);
  return out;
}

const std::string kDemo = std::string(SORTD_SOURCE_DIR) + "/config/demo-station.toml";

}  // namespace

BOOST_AUTO_TEST_CASE(demo_station_sorts_and_its_record_replays_to_the_stored_decisions) {
  TempDir dir;
  DaemonOptions o;
  o.clock_start = "09:30";  // the demo couriers are all before their cutoffs
  o.config_path = kDemo;
  o.db_path = (dir.path / "s.db").string();
  o.demo_orders = 5000;
  o.record_path = (dir.path / "run.events").string();
  o.run_seconds = 8;
  std::vector<std::string> decisions_live;
  {
    Daemon d(o);
    d.start();
    BOOST_TEST(d.run() == 0);
    const auto& s = d.core().stats();
    BOOST_TEST(s.reads > 10u);
    BOOST_TEST(s.diverted > 5u);
    BOOST_TEST(d.decision_latency().samples.size() > 0u);
    // Every decision in the store, in order, described like the replay describes it.
    sqlite3* db = d.store().handle();
    for (const auto& r :
         rows(db,
              "SELECT parcel_id, COALESCE(order_id,''), courier, lane, exception, attempt "
              "FROM decisions ORDER BY rowid"))
      decisions_live.push_back(r[0] + "|" + (r[1].empty() ? "-" : r[1]) + "|" +
                               (r[2].empty() ? "-" : r[2]) + "|" + r[3] + "|" + r[4] + "|" + r[5]);
    // No parcel got two sort commands that differ without a recirculation between them.
    auto dup = rows(db,
                    "SELECT parcel_id, COUNT(DISTINCT chute) FROM sort_commands GROUP BY parcel_id "
                    "HAVING COUNT(*) > 1 + (SELECT COUNT(*) FROM confirmations c WHERE "
                    "c.parcel_id = sort_commands.parcel_id AND c.outcome = 'recirculated')");
    BOOST_TEST(dup.empty());
  }
  BOOST_REQUIRE(decisions_live.size() > 10u);

  std::ifstream in(o.record_path);
  ReplayResult r = replay(in);
  std::vector<std::string> replayed;
  for (const auto& l : r.lines) {
    if (l.rfind("decide ", 0) != 0) continue;
    std::map<std::string, std::string> kv;
    std::istringstream s(l.substr(7));
    std::string tok;
    while (s >> tok) {
      auto eq = tok.find('=');
      kv[tok.substr(0, eq)] = tok.substr(eq + 1);
    }
    replayed.push_back(kv["parcel"] + "|" + kv["order"] + "|" + kv["courier"] + "|" + kv["lane"] +
                       "|" + kv["exception"] + "|" + kv["attempt"]);
  }
  BOOST_TEST(replayed == decisions_live, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(restart_resumes_from_the_store_without_reusing_sequences) {
  TempDir dir;
  DaemonOptions o;
  o.clock_start = "09:30";  // the demo couriers are all before their cutoffs
  o.config_path = kDemo;
  o.db_path = (dir.path / "s.db").string();
  o.demo_orders = 3000;
  o.run_seconds = 4;
  std::uint64_t decided_first = 0;
  {
    Daemon d(o);
    d.start();
    d.run();
    decided_first = d.core().stats().decided;
  }
  BOOST_REQUIRE(decided_first > 0u);
  {
    Daemon d(o);
    d.start();
    d.run();
    sqlite3* db = d.store().handle();
    auto seqs =
        rows(db, "SELECT seq, COUNT(*) FROM sort_commands GROUP BY seq HAVING COUNT(*) > 1");
    BOOST_TEST(seqs.empty());
    auto parcels = rows(db, "SELECT COUNT(*), COUNT(DISTINCT id) FROM parcels");
    BOOST_TEST(parcels[0][0] == parcels[0][1]);
    auto orders = rows(db, "SELECT COUNT(*) FROM orders");
    BOOST_TEST(orders[0][0] == "3000");  // demo orders are loaded into an empty store only
  }
}

BOOST_AUTO_TEST_CASE(a_bad_configuration_stops_the_daemon_before_it_starts) {
  TempDir dir;
  std::ifstream in(kDemo);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto pos = text.find("driver = \"sim\"");
  BOOST_REQUIRE(pos != std::string::npos);
  text.replace(pos, 14, "driver = \"warp-drive\"");
  const std::string bad = (dir.path / "bad.toml").string();
  std::ofstream(bad) << text;
  DaemonOptions o;
  o.clock_start = "09:30";  // the demo couriers are all before their cutoffs
  o.config_path = bad;
  o.db_path = (dir.path / "s.db").string();
  Daemon d(o);
  try {
    d.start();
    BOOST_FAIL("started with an unknown driver");
  } catch (const ConfigError& e) {
    BOOST_REQUIRE_EQUAL(e.issues().size(), 1u);
    BOOST_TEST(e.issues()[0].key.find(".driver") != std::string::npos);
    BOOST_TEST(e.issues()[0].line > 0);
    BOOST_TEST(e.issues()[0].message.find("warp-drive") != std::string::npos);
  }
  BOOST_TEST(!fs::exists(o.db_path));  // nothing was created
}

// The demo/test station clock: a run at any hour of the real day sees the station's local time
// it was told to start at, in the station's time zone, and the clock runs on from there.
BOOST_AUTO_TEST_CASE(the_station_clock_starts_at_the_time_of_day_it_is_given) {
  const TimeMs day = 24LL * 3600 * 1000;
  for (TimeMs real : {TimeMs(1795305600000), TimeMs(1795305600000) + day / 3 + 12345,
                      TimeMs(1795305600000) + day - 1, TimeMs(0), TimeMs(-day / 2 - 7)}) {
    for (std::int32_t utc_offset : {8 * 60, 0, -5 * 60, 5 * 60 + 30}) {
      for (std::int32_t minute : {0, 9 * 60 + 30, 18 * 60 + 29, 23 * 60 + 59}) {
        const std::int64_t shift = clock_offset_to(minute, utc_offset, real);
        BOOST_TEST(local_minute(real + shift, utc_offset) == minute,
                   "real " << real << " tz " << utc_offset << " minute " << minute);
        BOOST_TEST((real + shift) % 60'000 == 0);  // at the start of that minute
        BOOST_TEST(std::abs(shift) < day);
        BOOST_TEST(local_minute(real + shift + 61'000, utc_offset) == (minute + 1) % (24 * 60));
      }
    }
  }
}
