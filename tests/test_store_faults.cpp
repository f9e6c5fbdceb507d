// A full disk and an I/O error under a running station (tests/fault_vfs.h fails the database's
// writes underneath SQLite): the station goes to its safe state with an alarm (no sort command
// leaves without its record, so the PLC's fail-safe takes those parcels to the exception
// chute), its core falls back to what the store holds (no capacity counted for parcels the store
// never saw), and it resumes by itself when the database can be written again. An operator's
// command that cannot be recorded is refused with store_error and does not happen.
#define BOOST_TEST_MODULE store_faults
#include <boost/test/unit_test.hpp>

#include <sqlite3.h>

#include <chrono>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "daemon.h"
#include "fault_vfs.h"
#include "temp_dir.h"
#include "test_bus_fixture.h"
#include "test_sql.h"

using namespace sortd;
using sortd::test::eventually;
using sortd::test::FaultVfs;
using sortd::test::scalar;
using sortd::test::TempDir;
using json = nlohmann::json;

namespace {

// What the bus would publish, as the loop publishes it.
struct Published {
  std::mutex mu;
  std::vector<std::pair<std::string, json>> items;
  void add(const Publish& p) {
    std::lock_guard<std::mutex> lk(mu);
    items.emplace_back(p.topic, json::parse(p.json));
  }
  std::vector<json> alarms(const std::string& key) {
    std::lock_guard<std::mutex> lk(mu);
    std::vector<json> out;
    for (auto& [t, b] : items)
      if (t == "alarm" && b.value("key", "") == key) out.push_back(b);
    return out;
  }
  std::size_t size() {
    std::lock_guard<std::mutex> lk(mu);
    return items.size();
  }
  std::size_t count_since(std::size_t from, const std::string& topic) {
    std::lock_guard<std::mutex> lk(mu);
    std::size_t n = 0;
    for (std::size_t i = from; i < items.size(); ++i) n += items[i].first == topic;
    return n;
  }
};

// The capacity the store holds for every courier today, against the core's ledger.
void check_ledger_matches_store(Daemon& d, sqlite3* db) {
  const auto& ledger = d.core().ledger();
  const auto& couriers = d.config().couriers;
  for (std::size_t i = 0; i < couriers.size() && i < ledger.used.size(); ++i) {
    const std::int64_t stored =
        scalar(db, "SELECT COALESCE(SUM(parcels), 0) FROM capacity WHERE day = " +
                       std::to_string(ledger.day) + " AND courier = '" + couriers[i].id + "'");
    BOOST_TEST(ledger.used[i].parcels == stored, "courier " << couriers[i].id);
  }
}

void fault_episode(FaultVfs::Mode mode, const char* what) {
  BOOST_TEST_MESSAGE("fault: " << what);
  FaultVfs::install();
  TempDir dir;
  DaemonOptions o;
  o.clock_start = "09:30";  // the demo couriers are all before their cutoffs
  o.config_path = std::string(SORTD_SOURCE_DIR) + "/config/demo-station.toml";
  o.db_path = (dir.path / "s.db").string();
  o.demo_orders = 5000;
  Daemon d(o);
  d.start();
  Published pub;
  d.on_publish = [&](const Publish& p) { pub.add(p); };
  std::thread loop([&] { d.run(); });

  sqlite3* db = nullptr;
  BOOST_REQUIRE_EQUAL(sqlite3_open_v2(o.db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
                      SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  auto diverted = [&] {
    return scalar(db,
                  "SELECT COUNT(*) FROM parcels WHERE state = 'diverted' AND exception = "
                  "'none'");
  };
  BOOST_REQUIRE_MESSAGE(eventually([&] { return diverted() >= 5; }), "the demo never sorted");

  // The disk fails under the running station.
  const std::size_t before = pub.size();
  const std::int64_t decisions_before = scalar(db, "SELECT COUNT(*) FROM decisions");
  const long injected_before = FaultVfs::injected();
  FaultVfs::set(mode);
  BOOST_REQUIRE_MESSAGE(eventually([&] { return !pub.alarms("store:error").empty(); }),
                        "no store alarm was raised");
  const json raised = pub.alarms("store:error").front();
  BOOST_TEST(raised["raised"] == true);
  BOOST_TEST(raised["severity"] == "error");
  BOOST_TEST(raised["text"].get<std::string>().find("exception chute") != std::string::npos);
  // Parcels keep coming while it fails: their commands are withheld.
  BOOST_REQUIRE_MESSAGE(eventually([&] { return d.store_fault().withheld_commands >= 5; }),
                        "no sort command was withheld during the fault");
  BOOST_TEST(d.store_failing());
  BOOST_TEST(FaultVfs::injected() > injected_before);
  // Nothing was published for the parcels the store could not record: only the alarm.
  BOOST_TEST(pub.count_since(before, "parcel.decided") == 0u);
  BOOST_TEST(pub.count_since(before, "parcel.diverted") == 0u);

  // The disk is back: the station carries on by itself, the alarm clears.
  FaultVfs::set(FaultVfs::Mode::Pass);
  BOOST_REQUIRE_MESSAGE(eventually([&] { return pub.alarms("store:error").size() >= 2; }),
                        "the store alarm did not clear");
  BOOST_TEST(pub.alarms("store:error").back()["raised"] == false);
  BOOST_TEST(!d.store_failing());
  const std::int64_t after = diverted();
  BOOST_REQUIRE_MESSAGE(eventually([&] { return diverted() >= after + 5; }),
                        "the station did not sort again after the fault");
  d.stop();
  loop.join();

  // The record: no sort command without its decision, every decision's parcel stored, the
  // episode in the alarm log, the database sound, and the core's ledger equal to the store's.
  BOOST_TEST(scalar(db, "SELECT COUNT(*) FROM decisions") > decisions_before);
  BOOST_TEST(scalar(db,
                    "SELECT COUNT(*) FROM sort_commands c WHERE NOT EXISTS (SELECT 1 FROM "
                    "decisions d WHERE d.parcel_id = c.parcel_id AND d.chute = c.chute)") == 0);
  BOOST_TEST(scalar(db,
                    "SELECT COUNT(*) FROM decisions d WHERE NOT EXISTS (SELECT 1 FROM "
                    "parcels p WHERE p.id = d.parcel_id)") == 0);
  BOOST_TEST(scalar(db, "SELECT COUNT(*) FROM alarm_log WHERE key = 'store:error' AND raised") ==
             1);
  BOOST_TEST(scalar(db,
                    "SELECT COUNT(*) FROM alarm_log WHERE key = 'store:error' AND NOT "
                    "raised") == 1);
  sqlite3_stmt* st = nullptr;
  BOOST_REQUIRE_EQUAL(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr),
                      SQLITE_OK);
  BOOST_REQUIRE_EQUAL(sqlite3_step(st), SQLITE_ROW);
  BOOST_TEST(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "ok");
  sqlite3_finalize(st);
  check_ledger_matches_store(d, db);
  sqlite3_close(db);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_full_disk_withholds_commands_with_an_alarm_and_the_station_resumes) {
  fault_episode(FaultVfs::Mode::DiskFull, "disk full (SQLITE_FULL)");
}

BOOST_AUTO_TEST_CASE(an_io_error_withholds_commands_with_an_alarm_and_the_station_resumes) {
  fault_episode(FaultVfs::Mode::IoError, "I/O error (SQLITE_IOERR_WRITE)");
}

BOOST_AUTO_TEST_CASE(a_command_that_cannot_be_recorded_is_refused_and_does_not_happen) {
  using namespace bus_test;
  FaultVfs::install();
  const fs::path dir = make_temp_dir("store-faults-bus");
  BusOptions bo;
  bo.users_file = write_users(dir);
  {
    Station st(dir, demo_config(dir, "rate = 20"), bo);
    Client sara(st.router);
    sara.login("sara", "sara-pw");  // a login is recorded too: before the fault
    auto lane3_enabled = [&] {
      const json lanes = sara.ok({{"cmd", "lanes"}})["lanes"];
      for (const auto& l : lanes)
        if (l["lane"] == 3) return l["enabled"].get<bool>();
      BOOST_FAIL("no lane 3");
      return false;
    };
    sara.ok({{"cmd", "lane.disable"}, {"lane", 3}});
    BOOST_TEST(!lane3_enabled());

    FaultVfs::set(FaultVfs::Mode::DiskFull);
    json r = sara.call({{"cmd", "lane.enable"}, {"lane", 3}});
    BOOST_TEST(r["ok"] == false);
    BOOST_TEST(r["error"]["code"] == "store_error");
    BOOST_TEST(r["error"]["message"].get<std::string>().find("not carried out") !=
               std::string::npos);
    BOOST_TEST(!lane3_enabled(), "the refused command changed the lane");
    BOOST_TEST(st.daemon->store_failing());

    FaultVfs::set(FaultVfs::Mode::Pass);
    sara.ok({{"cmd", "lane.enable"}, {"lane", 3}});
    BOOST_TEST(lane3_enabled());
    BOOST_TEST(!st.daemon->store_failing());
  }
  // The record: the disable and the second enable, not the refused one.
  sqlite3* db = nullptr;
  BOOST_REQUIRE_EQUAL(
      sqlite3_open_v2((dir / "sortd.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  BOOST_TEST(scalar(db, "SELECT COUNT(*) FROM audit WHERE action = 'lane_enable'") == 1);
  BOOST_TEST(scalar(db, "SELECT COUNT(*) FROM audit WHERE action = 'lane_disable'") == 1);
  sqlite3_close(db);
  fs::remove_all(dir);
}
