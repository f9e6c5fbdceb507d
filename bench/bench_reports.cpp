// Reports on a big store: N parcels (default 1,000,000) over 30 days of the demo station, each
// with a read and a divert confirmation (3 % no-reads, 7 % exceptions, 2 % recirculations),
// handover issues and the capacity ledger, written straight into a fresh store (schema from
// Store). Then timed, each three times (the best is printed; the first run reads from a cold
// page cache only if the machine dropped it): the report of one day per hour, of one day, of the
// 30 days per day, of the last 31 days per hour; and the one-day reports again without the report
// indexes of schema step 4 (what they buy). Prints each figure; never fails on a figure.
//   bench_reports [parcels] [--keep]      (--keep leaves the temp dir)
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>

#include "reports.h"
#include "store.h"

using namespace sortd;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::int64_t kMin = 60'000, kDay = 24 * 60 * kMin;
constexpr std::int32_t kOff = 480;
constexpr int kDays = 30;

void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "bench_reports: %s: %s\n", sql, err ? err : "?");
    std::exit(1);
  }
}

sqlite3_stmt* prep(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "bench_reports: %s: %s\n", sql, sqlite3_errmsg(db));
    std::exit(1);
  }
  return s;
}

void step(sqlite3_stmt* s) {
  if (sqlite3_step(s) != SQLITE_DONE) {
    std::fprintf(stderr, "bench_reports: insert failed\n");
    std::exit(1);
  }
  sqlite3_reset(s);
}

StationConfig config() {
  StationConfig cfg;
  cfg.station_id = "bench";
  cfg.policies.utc_offset_min = kOff;
  for (const char* id : {"sf", "jd", "zto", "yto", "yunda", "ems", "jt"}) {
    Courier c;
    c.id = id;
    c.daily_parcels = 8000;
    c.daily_kg = 20000;
    cfg.couriers.push_back(c);
  }
  for (int i = 1; i <= 30; ++i) {
    Lane l;
    l.id = i;
    l.courier = i > 28 ? "" : cfg.couriers[static_cast<std::size_t>(i % 7)].id;
    cfg.lanes.push_back(l);
  }
  return cfg;
}

// Best of three, in milliseconds; the report's parcel count for a sanity line.
double time_report(sqlite3* db, const StationConfig& cfg, const char* period,
                   const std::string& from, const std::string& to, TimeMs now,
                   std::int64_t& parcels, std::size_t& buckets) {
  double best = 1e18;
  for (int i = 0; i < 3; ++i) {
    const auto t0 = Clock::now();
    nlohmann::json r = build_report(db, cfg, parse_report_range(period, from, to, kOff, now));
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    best = std::min(best, ms);
    parcels = r["total"]["parcels"].get<std::int64_t>();
    buckets = r["buckets"].size();
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t n = 1'000'000;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--keep") == 0)
      keep = true;
    else
      n = std::atoll(argv[i]);
  }
  const fs::path dir =
      fs::temp_directory_path() / ("sortd-bench-reports-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "sortd.db").string();
  const StationConfig cfg = config();
  // Day 0 of the data: 2026-10-23 (local); the 30 days end 2026-11-21.
  const std::int64_t day0 = 20749;
  const TimeMs now = (day0 + kDays) * kDay - kOff * kMin + 10 * 60 * kMin;  // 2026-11-22 10:00

  {
    Store store(path);
    sqlite3* db = store.handle();
    exec(db, "PRAGMA synchronous = OFF");
    const auto t0 = Clock::now();
    exec(db, "BEGIN");
    sqlite3_stmt* ip = prep(db,
                            "INSERT INTO parcels (id, order_id, tracking_id, state, exception, "
                            "courier, lane, chute, attempt, weight_g, day, created_ms, "
                            "updated_ms) VALUES (?1, 'SO' || ?1, ?1 % 60000, ?2, ?3, ?4, ?5, ?5, "
                            "0, ?6, ?7, ?8, ?8 + 4000)");
    sqlite3_stmt* ir = prep(db,
                            "INSERT INTO reads (id, parcel_id, time_ms, scanner, tracking_id, "
                            "no_read, codes) VALUES (?1, ?1, ?2, 'scanner-1', ?1 % 60000, ?3, ?4)");
    sqlite3_stmt* ic = prep(db,
                            "INSERT INTO confirmations (seq, parcel_id, tracking_id, chute, "
                            "outcome, time_ms) VALUES (?1 % 65536, ?1, ?1 % 60000, ?2, ?3, ?4)");
    std::mt19937_64 rng(42);
    const char* couriers[] = {"sf", "jd", "zto", "yto", "yunda", "ems", "jt"};
    const char* reasons[] = {"no_read", "unknown_code", "multi_read", "duplicate", "lost"};
    std::map<std::pair<std::int64_t, std::string>, std::pair<std::int64_t, std::int64_t>> cap;
    for (std::int64_t id = 1; id <= n; ++id) {
      const std::int64_t day = day0 + (id - 1) * kDays / n;
      // Working hours 08:00-22:00 local.
      const TimeMs t = day * kDay - kOff * kMin + 8 * 60 * kMin +
                       static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(14 * 60 * kMin));
      const unsigned roll = static_cast<unsigned>(rng() % 100);
      const bool no_read = roll < 3, exception = roll < 7, in_flight = roll == 99;
      const char* courier = exception ? "" : couriers[rng() % 7];
      const int lane =
          exception ? 25 + static_cast<int>(rng() % 4) : 1 + static_cast<int>(rng() % 24);
      const int weight = 100 + static_cast<int>(rng() % 5000);
      const char* reason = no_read ? "no_read" : exception ? reasons[1 + rng() % 4] : "none";
      sqlite3_bind_int64(ip, 1, id);
      sqlite3_bind_text(ip, 2, in_flight ? "commanded" : "diverted", -1, SQLITE_STATIC);
      sqlite3_bind_text(ip, 3, reason, -1, SQLITE_STATIC);
      sqlite3_bind_text(ip, 4, courier, -1, SQLITE_STATIC);
      sqlite3_bind_int(ip, 5, lane);
      sqlite3_bind_int(ip, 6, weight);
      sqlite3_bind_int64(ip, 7, day);
      sqlite3_bind_int64(ip, 8, t);
      step(ip);
      sqlite3_bind_int64(ir, 1, id);
      sqlite3_bind_int64(ir, 2, t);
      sqlite3_bind_int(ir, 3, no_read);
      const std::string codes = no_read ? "[]"
                                        : "[{\"text\":\"PK" + std::to_string(100000000000 + id) +
                                              "\",\"symbology\":\"C0\"}]";
      sqlite3_bind_text(ir, 4, codes.c_str(), -1, SQLITE_TRANSIENT);
      step(ir);
      if (!in_flight) {
        sqlite3_bind_int64(ic, 1, id);
        sqlite3_bind_int(ic, 2, lane);
        sqlite3_bind_text(ic, 3, roll >= 97 ? "recirculated" : "diverted", -1, SQLITE_STATIC);
        sqlite3_bind_int64(ic, 4, t + 3000);
        step(ic);
      }
      if (!exception) {
        auto& c = cap[{day, courier}];
        c.first += 1;
        c.second += weight;
      }
    }
    sqlite3_stmt* ik =
        prep(db, "INSERT INTO capacity (day, courier, parcels, grams) VALUES (?1, ?2, ?3, ?4)");
    for (const auto& [k, v] : cap) {
      sqlite3_bind_int64(ik, 1, k.first);
      sqlite3_bind_text(ik, 2, k.second.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(ik, 3, v.first);
      sqlite3_bind_int64(ik, 4, v.second);
      step(ik);
    }
    sqlite3_stmt* ih = prep(db,
                            "INSERT INTO handover_issues (manifest_id, kind, bag_id, courier, "
                            "time_ms) VALUES (?1, ?2, 'BAG' || ?1, ?3, ?4)");
    for (std::int64_t i = 0; i < kDays * 20; ++i) {
      sqlite3_bind_int64(ih, 1, i);
      sqlite3_bind_text(ih, 2,
                        i % 3 == 0   ? "missort"
                        : i % 3 == 1 ? "not_taken"
                                     : "not_on_manifest",
                        -1, SQLITE_STATIC);
      sqlite3_bind_text(ih, 3, couriers[i % 7], -1, SQLITE_STATIC);
      sqlite3_bind_int64(ih, 4, (day0 + i / 20) * kDay - kOff * kMin + 20 * 60 * kMin + i * kMin);
      step(ih);
    }
    for (sqlite3_stmt* s : {ip, ir, ic, ik, ih}) sqlite3_finalize(s);
    exec(db, "COMMIT");
    exec(db, "ANALYZE");
    store.checkpoint();
    std::printf(
        "store: %lld parcels, reads, confirmations over %d days written in %.1f s, %.0f MiB\n",
        static_cast<long long>(n), kDays, std::chrono::duration<double>(Clock::now() - t0).count(),
        static_cast<double>(fs::file_size(path) +
                            (fs::exists(path + "-wal") ? fs::file_size(path + "-wal") : 0)) /
            1048576.0);
  }

  Store store(path);
  sqlite3* db = store.handle();
  const std::string last = "2026-11-21", first = "2026-10-23";
  std::int64_t parcels = 0;
  std::size_t buckets = 0;
  auto line = [&](const char* what, double ms) {
    std::printf("%-44s %9.1f ms  (%lld parcels, %zu periods)\n", what, ms,
                static_cast<long long>(parcels), buckets);
  };
  line("one day per hour", time_report(db, cfg, "hour", last, last, now, parcels, buckets));
  line("one day", time_report(db, cfg, "day", last, last, now, parcels, buckets));
  line("30 days per day (the whole store)",
       time_report(db, cfg, "day", first, last, now, parcels, buckets));
  line("31 days per hour (the longest hourly range)",
       time_report(db, cfg, "hour", "2026-10-22", last, now, parcels, buckets));
  exec(db, "DROP INDEX parcels_report; DROP INDEX reads_report; DROP INDEX confirmations_report");
  line("one day per hour, without the report indexes",
       time_report(db, cfg, "hour", last, last, now, parcels, buckets));
  line("30 days per day, without the report indexes",
       time_report(db, cfg, "day", first, last, now, parcels, buckets));
  if (!keep)
    fs::remove_all(dir);
  else
    std::printf("kept %s\n", dir.c_str());
  return 0;
}
