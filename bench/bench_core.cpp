// bench_core: one parcel through the station core with its durable commit, on a station of 50
// couriers and 200 lanes with 1,000,000 orders loaded.
//   - paced at 100 parcels/s: latency of the read -> decision -> durable commit step, p50 / p99 /
//     p99.9, beside a bare SQLite WAL/FULL transaction of the same rows timed in the same run
//     (interleaved), and the ratio;
//   - saturated: parcels/s with the daemon's group commit (every event the drivers queued since
//     the last poll in one transaction), and with one transaction per event for comparison;
//   - peak RSS of the real daemon (`sortd`) with 1,000,000 orders.
// Prints figures; never fails on them. Usage: bench_core [--dir D] [--orders N] [--parcels N]
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bench_station.h"
#include "core.h"
#include "orders.h"
#include "store.h"

using namespace sortd;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double us_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

struct Pct {
  double p50, p99, p999, mean;
};
Pct pct(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double p) { return v[std::min(v.size() - 1, std::size_t(p * (v.size() - 1)))]; };
  double sum = 0;
  for (double x : v) sum += x;
  return {at(0.5), at(0.99), at(0.999), sum / v.size()};
}

// A bare SQLite transaction with the same rows a parcel's decision writes (a read, a decision
// with its ranked candidates, a capacity change, a sort command, a parcel state).
class BareTx {
 public:
  explicit BareTx(const std::string& path) {
    sqlite3_open(path.c_str(), &db_);
    exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0;");
    exec(
        "CREATE TABLE IF NOT EXISTS r(a INTEGER, b INTEGER, c TEXT);"
        "CREATE TABLE IF NOT EXISTS d(a INTEGER, b TEXT, c TEXT, e INTEGER, f TEXT);"
        "CREATE TABLE IF NOT EXISTS k(a INTEGER, b TEXT, c INTEGER, d INTEGER);"
        "CREATE TABLE IF NOT EXISTS s(a INTEGER PRIMARY KEY, b INTEGER, c INTEGER, d INTEGER);"
        "CREATE TABLE IF NOT EXISTS p(a INTEGER PRIMARY KEY, b INTEGER, c INTEGER, d INTEGER);");
    sqlite3_prepare_v2(db_, "INSERT INTO r VALUES(?,?,?)", -1, &r_, nullptr);
    sqlite3_prepare_v2(db_, "INSERT INTO d VALUES(?,?,?,?,?)", -1, &d_, nullptr);
    sqlite3_prepare_v2(db_, "INSERT INTO k VALUES(?,?,?,?)", -1, &k_, nullptr);
    sqlite3_prepare_v2(db_, "INSERT INTO s VALUES(?,?,?,?)", -1, &s_, nullptr);
    sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO p VALUES(?,?,?,?)", -1, &p_, nullptr);
  }
  ~BareTx() {
    for (auto* st : {r_, d_, k_, s_, p_}) sqlite3_finalize(st);
    sqlite3_close(db_);
  }
  void run(std::int64_t i, const std::string& candidates) {
    exec("BEGIN IMMEDIATE");
    step(r_, i, i, "[{\"text\":\"PK000000000000\",\"symbology\":\"C0\"}]");
    sqlite3_bind_int64(d_, 1, i);
    sqlite3_bind_text(d_, 2, "O000000000", -1, SQLITE_STATIC);
    sqlite3_bind_text(d_, 3, "c1", -1, SQLITE_STATIC);
    sqlite3_bind_int64(d_, 4, i % 200);
    sqlite3_bind_text(d_, 5, candidates.c_str(), int(candidates.size()), SQLITE_STATIC);
    sqlite3_step(d_);
    sqlite3_reset(d_);
    step(k_, i, 20261123, "c1");
    bind4(s_, i);
    bind4(p_, i);
    exec("COMMIT");
  }
  void checkpoint() {
    sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }

 private:
  void exec(const char* sql) { sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); }
  void step(sqlite3_stmt* st, std::int64_t a, std::int64_t b, const char* c) {
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    sqlite3_bind_text(st, 3, c, -1, SQLITE_STATIC);
    if (sqlite3_bind_parameter_count(st) == 4) sqlite3_bind_int64(st, 4, 1);
    sqlite3_step(st);
    sqlite3_reset(st);
  }
  void bind4(sqlite3_stmt* st, std::int64_t i) {
    for (int c = 1; c <= 4; ++c) sqlite3_bind_int64(st, c, i + c);
    sqlite3_step(st);
    sqlite3_reset(st);
  }
  sqlite3* db_ = nullptr;
  sqlite3_stmt *r_ = nullptr, *d_ = nullptr, *k_ = nullptr, *s_ = nullptr, *p_ = nullptr;
};

struct Rig {
  StationConfig cfg;
  OrderBook book;
  std::vector<std::string> codes;
  std::unique_ptr<Store> store;
  std::unique_ptr<Core> core;
  TimeMs now = 1795399200000;  // 10:00 local
  std::uint32_t tid = 1;
  std::size_t next_code = 0;
};

ScanRead read_of(Rig& r, std::uint32_t tid) {
  ScanRead s;
  s.scanner = "s1";
  s.tracking_id = tid;
  s.codes = {{r.codes[(r.next_code++ * 7919) % r.codes.size()], "C0"}};
  return s;
}

void run_paced(Rig& r, const std::string& dir, int parcels, double rate) {
  BareTx bare(dir + "/bare.db");
  std::vector<double> ours, theirs, whole;
  std::string cand;
  const auto period = std::chrono::duration<double>(1.0 / rate);
  auto next = Clock::now();
  for (int i = 0; i < parcels; ++i) {
    std::this_thread::sleep_until(next);
    next += std::chrono::duration_cast<Clock::duration>(period);
    r.now += 10;
    const std::uint32_t tid = r.tid++;
    auto t_all = Clock::now();
    r.store->apply(r.core->handle(ParcelInducted{tid}, r.now).store);
    auto t0 = Clock::now();
    Effects fx = r.core->handle(read_of(r, tid), r.now);
    r.store->apply(fx.store);
    ours.push_back(us_since(t0));
    for (const auto& op : fx.store)
      if (auto* d = std::get_if<StoreDecision>(&op)) cand = d->candidates_json;
    if (!fx.sort.empty()) {
      const SortCommand c = fx.sort[0];
      r.store->apply(r.core->handle(SortAcked{c.seq}, r.now).store);
      r.store->apply(
          r.core
              ->handle(DivertConfirmed{c.seq, c.tracking_id, c.chute, DivertOutcome::Diverted},
                       r.now)
              .store);
    }
    whole.push_back(us_since(t_all));
    auto t1 = Clock::now();
    bare.run(i, cand);
    theirs.push_back(us_since(t1));
    if (i % 500 == 499) {  // the daemon checkpoints when idle, outside the parcel path
      r.store->checkpoint();
      bare.checkpoint();
    }
  }
  Pct a = pct(ours), b = pct(theirs), w = pct(whole);
  std::printf("  paced %.0f/s, %d parcels, store in %s\n", rate, parcels, dir.c_str());
  std::printf("    read->decision->durable commit  p50 %8.1f us  p99 %8.1f us  p99.9 %8.1f us\n",
              a.p50, a.p99, a.p999);
  std::printf("    bare SQLite WAL/FULL tx (same)  p50 %8.1f us  p99 %8.1f us  p99.9 %8.1f us\n",
              b.p50, b.p99, b.p999);
  std::printf(
      "    ratio ours/bare                 p50 %8.2f     p99 %8.2f     p99.9 %8.2f  (goal <= "
      "1.5)\n",
      a.p50 / b.p50, a.p99 / b.p99, a.p999 / b.p999);
  std::printf("    whole parcel (induct, read, ack, confirm: 3 commits) p50 %.1f us p99 %.1f us\n",
              w.p50, w.p99);
}

void run_saturated(Rig& r, int parcels, bool group) {
  // The drivers have always something queued: the loop takes up to 256 events a poll. A batch
  // holds the induction and read of 64 new parcels and the ack and confirmation of the 64
  // parcels of the batch before.
  const int per_batch = 64;
  std::vector<SortCommand> prev;
  auto t0 = Clock::now();
  int done = 0;
  while (done < parcels) {
    std::vector<Event> batch;
    for (const auto& c : prev) {
      batch.push_back(SortAcked{c.seq});
      batch.push_back(DivertConfirmed{c.seq, c.tracking_id, c.chute, DivertOutcome::Diverted});
    }
    for (int i = 0; i < per_batch; ++i) {
      const std::uint32_t tid = r.tid++;
      batch.push_back(ParcelInducted{tid});
      batch.push_back(read_of(r, tid));
    }
    r.now += 20;
    Effects all;
    for (const auto& e : batch) {
      Effects fx = r.core->handle(e, r.now);
      if (group) {
        all.append(std::move(fx));
      } else {
        r.store->apply(fx.store);
        all.sort.insert(all.sort.end(), fx.sort.begin(), fx.sort.end());
      }
    }
    if (group) r.store->apply(all.store);
    prev = all.sort;
    done += per_batch;
  }
  const double s = us_since(t0) / 1e6;
  std::printf("  saturated, %s: %d parcels in %.2f s = %.0f parcels/s (goal >= 2000)\n",
              group ? "group commit (as the daemon)" : "one transaction per event", done, s,
              done / s);
  r.store->checkpoint();
}

long peak_rss_of_daemon(std::size_t orders, const std::string& dir) {
  const std::string sortd = std::string(SORTD_BINARY_DIR) + "/controller/sortd";
  const std::string config = std::string(SORTD_SOURCE_DIR) + "/config/demo-station.toml";
  const std::string db = dir + "/daemon.db";
  for (const char* ext : {"", "-wal", "-shm"}) fs::remove(db + ext);
  std::fflush(stdout);  // or the child's stdio would print our buffered lines again
  pid_t pid = fork();
  if (pid == 0) {
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    std::string n = std::to_string(orders);
    execl(sortd.c_str(), "sortd", "--config", config.c_str(), "--db", db.c_str(), "--demo-orders",
          n.c_str(), "--run-seconds", "8", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  return ru.ru_maxrss;
}

long self_rss_kb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = fs::current_path().string() + "/bench-core-data";
  std::size_t orders = 1'000'000;
  int parcels = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
    if (!std::strcmp(argv[i], "--orders")) orders = std::stoul(argv[i + 1]);
    if (!std::strcmp(argv[i], "--parcels")) parcels = std::stoi(argv[i + 1]);
  }
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::printf("bench_core: 50 couriers, 200 lanes, %zu orders\n", orders);

  Rig r;
  std::mt19937 rng(20261123);
  r.cfg = bench::make_bench_station(rng);
  StationConfig::Device sorter;
  sorter.name = "plc";
  sorter.kind = "sorter";
  sorter.driver = "sim";
  r.cfg.devices.push_back(sorter);
  auto t0 = Clock::now();
  std::vector<Order> all = make_demo_orders(orders, 7);
  r.book.reserve(orders);
  for (const auto& o : all) {
    r.book.upsert(o);
    if (o.status == OrderStatus::Active) r.codes.push_back(o.codes[0]);
  }
  std::printf("  orders generated and indexed in %.1f s\n", us_since(t0) / 1e6);

  auto setup = [&](const std::string& d) {
    for (const char* ext : {"", "-wal", "-shm"}) fs::remove(d + "/core.db" + ext);
    for (const char* ext : {"", "-wal", "-shm"}) fs::remove(d + "/bare.db" + ext);
    r.core.reset();
    r.store = std::make_unique<Store>(d + "/core.db");
    auto t = Clock::now();
    r.store->upsert_orders(all);
    r.store->checkpoint();
    std::printf("  %zu orders written to %s/core.db in %.1f s\n", orders, d.c_str(),
                us_since(t) / 1e6);
    r.core = std::make_unique<Core>(r.cfg, r.book, r.store->recover());
    r.core->handle(DeviceStatus{"plc", DeviceKind::Sorter, true, ""}, r.now);
  };

  std::printf("\n[disk: durable fsync per commit]\n");
  setup(dir);
  run_paced(r, dir, parcels, 100.0);
  run_saturated(r, 20000, true);
  run_saturated(r, 2000, false);

  if (fs::exists("/dev/shm")) {
    const std::string shm = "/dev/shm/sortd-bench-core-" + std::to_string(getpid());
    fs::create_directories(shm);
    std::printf("\n[tmpfs: the same path without the disk's fsync cost]\n");
    setup(shm);
    run_paced(r, shm, parcels, 100.0);
    run_saturated(r, 20000, true);
    fs::remove_all(shm);
  }
  std::printf("\n  bench process peak RSS: %.0f MiB\n", self_rss_kb() / 1024.0);
  all.clear();
  all.shrink_to_fit();

  long rss = peak_rss_of_daemon(orders, dir);
  if (rss > 0)
    std::printf("  sortd daemon with %zu orders: peak RSS %.0f MiB\n", orders, rss / 1024.0);
  else
    std::printf("  sortd daemon: could not run %s/controller/sortd\n", SORTD_BINARY_DIR);
  fs::remove_all(dir);
  return 0;
}
