// SIGHUP reloads the station configuration in a running daemon (controller/daemon_signals.h):
// the demo station runs with its simulated devices, the test edits the station file and sends
// the process SIGHUP. A valid edit (a lane disabled) takes effect on the loop thread: no parcel
// is decided to that lane afterwards, and the reload is audited. An invalid edit is refused with
// its errors (file, line, key) and the previous configuration keeps sorting.
#define BOOST_TEST_MODULE systemd_reload
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "daemon.h"
#include "daemon_signals.h"
#include "test_sql.h"

using namespace sortd;
using sortd::test::eventually;
using sortd::test::scalar;
namespace fs = std::filesystem;

namespace {

const std::string kDemo = std::string(SORTD_SOURCE_DIR) + "/config/demo-station.toml";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
void write_text(const std::string& path, const std::string& text) {
  // Written beside and renamed, as an editor or a configuration tool does.
  std::ofstream(path + ".new", std::ios::binary) << text;
  fs::rename(path + ".new", path);
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() /
           ("sortd-reload-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// A read-only connection of the test's own (the daemon's loop owns its connection).
struct Reader {
  sqlite3* db = nullptr;
  explicit Reader(const std::string& path) {
    BOOST_REQUIRE_EQUAL(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
                        SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
  }
  ~Reader() { sqlite3_close(db); }
  std::int64_t count(const std::string& sql) const { return scalar(db, sql); }
};

// The demo station with lane 5 (中通, 浙江) given `enabled = false`.
std::string with_lane_disabled(std::string text, int lane) {
  const std::string head = "[[lanes]]\nid = " + std::to_string(lane) + "\n";
  auto pos = text.find(head);
  BOOST_REQUIRE(pos != std::string::npos);
  text.insert(pos + head.size(), "enabled = false\n");
  return text;
}

struct RunningDaemon {
  WorkerSignalMask mask;  // the drivers' threads never take SIGHUP; the loop thread does
  TempDir dir;
  std::string config, db;
  std::unique_ptr<Daemon> d;
  std::unique_ptr<ReloadOnSighup> hup;
  std::thread loop;
  std::mutex mu;
  std::vector<ReloadResult> results;
  std::vector<std::int64_t> boundaries;  // decisions rowid when each reload was handled

  RunningDaemon() {
    config = (dir.path / "station.toml").string();
    db = (dir.path / "sortd.db").string();
    write_text(config, read_text(kDemo));
    DaemonOptions o;
    o.clock_start = "09:30";  // the demo couriers are all before their cutoffs
    o.config_path = config;
    o.db_path = db;
    o.demo_orders = 20000;
    d = std::make_unique<Daemon>(o);
    d->start();
    hup = std::make_unique<ReloadOnSighup>(*d);
    hup->on_reload([this](const ReloadResult& r) {
      // On the loop thread: nothing is decided between the reload and this query.
      const std::int64_t b =
          scalar(d->store().handle(), "SELECT COALESCE(MAX(rowid), 0) FROM decisions");
      std::lock_guard<std::mutex> lk(mu);
      results.push_back(r);
      boundaries.push_back(b);
    });
    loop = std::thread([this] {
      WorkerSignalMask::unblock_in_this_thread();
      d->run();
    });
  }
  ~RunningDaemon() {
    d->stop();
    if (loop.joinable()) loop.join();
    hup.reset();
    d.reset();
  }
  std::size_t reloads() {
    std::lock_guard<std::mutex> lk(mu);
    return results.size();
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(journal_stream_is_recognised_only_when_it_names_stderr) {
  struct stat st {};
  BOOST_REQUIRE_EQUAL(::fstat(STDERR_FILENO, &st), 0);
  const char* old = std::getenv("JOURNAL_STREAM");
  const std::string saved = old ? old : "";
  ::unsetenv("JOURNAL_STREAM");
  BOOST_TEST(!stderr_is_journal());
  const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  ::setenv("JOURNAL_STREAM", mine.c_str(), 1);
  BOOST_TEST(stderr_is_journal());
  // A child whose stderr was redirected elsewhere inherits the variable: not the journal.
  const std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
  ::setenv("JOURNAL_STREAM", other.c_str(), 1);
  BOOST_TEST(!stderr_is_journal());
  for (const char* garbage : {"", "12", "x:y", "1:2:3", "1:2x"}) {
    ::setenv("JOURNAL_STREAM", garbage, 1);
    BOOST_TEST(!stderr_is_journal(), "JOURNAL_STREAM='" << garbage << "'");
  }
  if (old)
    ::setenv("JOURNAL_STREAM", saved.c_str(), 1);
  else
    ::unsetenv("JOURNAL_STREAM");
}

BOOST_AUTO_TEST_CASE(sighup_activates_a_valid_edit_and_refuses_an_invalid_one) {
  RunningDaemon r;
  Reader rd(r.db);
  const std::string original = read_text(r.config);

  // Lane 5 takes 中通's parcels to 浙江: wait until it has had some.
  BOOST_REQUIRE_MESSAGE(eventually([&] {
                          return rd.count(
                                     "SELECT COUNT(*) FROM decisions WHERE "
                                     "lane = 5") > 0;
                        }),
                        "no parcel was decided to lane 5 before the reload");
  BOOST_TEST(r.d->config().lane(5)->enabled);

  // 1. A valid edit: lane 5 disabled in the file.
  write_text(r.config, with_lane_disabled(original, 5));
  BOOST_REQUIRE_EQUAL(::kill(::getpid(), SIGHUP), 0);
  BOOST_REQUIRE_MESSAGE(eventually([&] { return r.reloads() == 1; }), "SIGHUP was not handled");
  BOOST_TEST(r.hup->activated() == 1u);
  BOOST_TEST(r.hup->refused() == 0u);
  const std::int64_t after_valid = r.boundaries[0];
  BOOST_TEST(r.results[0].activated);
  BOOST_TEST(r.results[0].errors.empty());
  BOOST_TEST(r.results[0].devices_changed.empty());
  // The daemon keeps deciding parcels to 浙江, and never to lane 5 again.
  BOOST_REQUIRE_MESSAGE(
      eventually([&] {
        return rd.count(
                   "SELECT COUNT(*) FROM decisions d JOIN orders o ON o.id = d.order_id "
                   "WHERE d.rowid > " +
                   std::to_string(after_valid) + " AND o.province LIKE '浙江%'") >= 20;
      }),
      "no more parcels to 浙江 were decided after the reload");
  BOOST_TEST(rd.count("SELECT COUNT(*) FROM decisions WHERE lane = 5 AND rowid > " +
                      std::to_string(after_valid)) == 0);
  BOOST_TEST(rd.count("SELECT COUNT(*) FROM audit WHERE action = 'config.reload' AND user = "
                      "'config:SIGHUP'") == 1);
  BOOST_TEST(rd.count("SELECT COUNT(*) FROM audit WHERE action = 'lane_disable'") == 1);

  // 2. An invalid edit: an unknown key and an impossible value. Refused, named, and the
  // configuration activated above keeps running.
  std::string bad = with_lane_disabled(original, 5);
  auto pos = bad.find("recirculation_limit = 2");
  BOOST_REQUIRE(pos != std::string::npos);
  bad.replace(pos, 23, "recirculation_limit = -4\nrecirculation_limt = 2");
  write_text(r.config, bad);
  BOOST_REQUIRE_EQUAL(::kill(::getpid(), SIGHUP), 0);
  BOOST_REQUIRE_MESSAGE(eventually([&] { return r.reloads() == 2; }), "SIGHUP was not handled");
  BOOST_TEST(r.hup->activated() == 1u);
  BOOST_TEST(r.hup->refused() == 1u);
  const ReloadResult& refused = r.results[1];
  BOOST_TEST(!refused.activated);
  BOOST_TEST_REQUIRE(refused.errors.size() >= 2u);
  std::string all;
  for (const auto& e : refused.errors) all += e + "\n";
  BOOST_TEST_MESSAGE("refused with:\n" << all);
  BOOST_TEST(all.find(r.config + ":") != std::string::npos);
  BOOST_TEST(all.find("recirculation_limt") != std::string::npos);
  BOOST_TEST(all.find("recirculation_limit") != std::string::npos);
  BOOST_TEST(!r.d->config().lane(5)->enabled);  // the one activated by the valid edit
  BOOST_TEST(rd.count("SELECT COUNT(*) FROM audit WHERE action = 'config.reload_refused'") == 1);
  const std::int64_t after_refused = r.boundaries[1];
  BOOST_REQUIRE_MESSAGE(eventually([&] {
                          return rd.count("SELECT COUNT(*) FROM decisions WHERE rowid > " +
                                          std::to_string(after_refused)) >= 10;
                        }),
                        "the daemon stopped deciding after a refused reload");
  BOOST_TEST(rd.count("SELECT COUNT(*) FROM decisions WHERE lane = 5 AND rowid > " +
                      std::to_string(after_valid)) == 0);

  // 3. The file gone: refused too, with the reason.
  fs::remove(r.config);
  BOOST_REQUIRE_EQUAL(::kill(::getpid(), SIGHUP), 0);
  BOOST_REQUIRE_MESSAGE(eventually([&] { return r.reloads() == 3; }), "SIGHUP was not handled");
  BOOST_TEST(!r.results[2].activated);
  BOOST_TEST_REQUIRE(!r.results[2].errors.empty());
  BOOST_TEST(r.results[2].errors[0].find(r.config) != std::string::npos);
  BOOST_TEST(r.hup->refused() == 2u);

  // 4. The original file again: lane 5 enabled by the file, decided to again.
  write_text(r.config, original);
  BOOST_REQUIRE_EQUAL(::kill(::getpid(), SIGHUP), 0);
  BOOST_REQUIRE_MESSAGE(eventually([&] { return r.reloads() == 4; }), "SIGHUP was not handled");
  BOOST_TEST(r.results[3].activated);
  BOOST_TEST(r.d->config().lane(5)->enabled);
  const std::int64_t after_restore = r.boundaries[3];
  BOOST_REQUIRE_MESSAGE(eventually([&] {
                          return rd.count(
                                     "SELECT COUNT(*) FROM decisions WHERE lane = 5 AND "
                                     "rowid > " +
                                     std::to_string(after_restore)) > 0;
                        }),
                        "lane 5 was not used again after it was enabled by the file");
}

BOOST_AUTO_TEST_CASE(a_device_change_is_reported_as_needing_a_restart) {
  RunningDaemon r;
  std::string text = read_text(r.config);
  const std::string block = "name = \"printer-1\"\nkind = \"printer\"\ndriver = \"sim\"";
  auto pos = text.find(block);
  BOOST_REQUIRE(pos != std::string::npos);
  text.insert(pos + block.size(),
              "\n\n[[devices]]\nname = \"printer-2\"\nkind = \"printer\"\ndriver = \"sim\"");
  write_text(r.config, text);
  BOOST_REQUIRE_EQUAL(::kill(::getpid(), SIGHUP), 0);
  BOOST_REQUIRE_MESSAGE(eventually([&] { return r.reloads() == 1; }), "SIGHUP was not handled");
  BOOST_TEST(r.results[0].activated);
  BOOST_TEST(r.results[0].devices_changed == std::vector<std::string>{"printer-2 (added)"},
             boost::test_tools::per_element());
  // Reloaded again, the same file still differs from what the drivers run with.
  BOOST_REQUIRE_EQUAL(::kill(::getpid(), SIGHUP), 0);
  BOOST_REQUIRE_MESSAGE(eventually([&] { return r.reloads() == 2; }), "SIGHUP was not handled");
  BOOST_TEST(r.results[1].activated);
  BOOST_TEST(r.results[1].devices_changed == std::vector<std::string>{"printer-2 (added)"},
             boost::test_tools::per_element());
  // A device removed from the file is reported too.
  std::string no_scanner = read_text(kDemo);
  const std::string scanner =
      "[[devices]]\nname = \"scanner-1\"\nkind = \"scanner\"\ndriver = \"sim\"\n";
  const auto at = no_scanner.find(scanner);
  BOOST_REQUIRE(at != std::string::npos);
  no_scanner.erase(at, scanner.size());
  write_text(r.config, no_scanner);
  BOOST_REQUIRE_EQUAL(::kill(::getpid(), SIGHUP), 0);
  BOOST_REQUIRE_MESSAGE(eventually([&] { return r.reloads() == 3; }), "SIGHUP was not handled");
  BOOST_TEST(r.results[2].activated);
  BOOST_TEST(r.results[2].devices_changed == std::vector<std::string>{"scanner-1 (removed)"},
             boost::test_tools::per_element());
}
