// Order import at scale: 1,000,000 demo orders written to a CSV file in a temp dir, then timed:
// parse the CSV, insert into the OrderBook (and look every code up), upsert into a fresh store,
// read the store back into a new OrderBook (what the daemon does at start). Prints each figure,
// rows/s and memory; never fails on a figure.
//   bench_import [orders] [--keep]      (default 1000000; --keep leaves the temp dir)
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "orders.h"
#include "store.h"

using namespace sortd;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}
double cpu_mark = 0;

double rss_mib() {
  std::ifstream in("/proc/self/statm");
  long pages = 0, resident = 0;
  in >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1048576.0;
}

// Wall time, CPU time of this process (the machine may be shared), rows/s by wall time.
void report(const char* what, double secs, std::size_t rows) {
  double cpu = cpu_seconds() - cpu_mark;
  std::printf("%-34s %7.2f s (cpu %6.2f s) %9.0f rows/s  rss %7.1f MiB  peak %7.1f MiB\n", what,
              secs, cpu, secs > 0 ? static_cast<double>(rows) / secs : 0.0, rss_mib(),
              peak_rss_mib());
  std::fflush(stdout);
  cpu_mark = cpu_seconds();
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 1'000'000;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--keep") == 0) {
      keep = true;
    } else {
      char* end = nullptr;
      n = std::strtoull(argv[i], &end, 10);
      if (!end || *end || n == 0) {
        std::fprintf(stderr, "usage: bench_import [orders] [--keep]\n");
        return 2;
      }
    }
  }
  std::string tmpl = (fs::temp_directory_path() / "sortd-bench-import-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) {
    std::perror("mkdtemp");
    return 1;
  }
  const fs::path dir = tmpl;
  const std::string csv = (dir / "orders.csv").string();
  const std::string db = (dir / "sortd.db").string();
  std::printf("bench_import: %zu demo orders in %s\n", n, dir.c_str());

  cpu_mark = cpu_seconds();
  // Generate in slices so that the generator's own orders are not in the figures below.
  auto t0 = Clock::now();
  {
    std::ofstream out(csv, std::ios::binary);
    std::string buf = orders_csv_header();
    for (std::size_t first = 0; first < n; first += 20'000) {
      for (const auto& o : make_demo_orders(std::min<std::size_t>(20'000, n - first), 2024, first))
        append_order_csv(buf, o);
      out << buf;
      buf.clear();
    }
  }
  report("generate + write CSV", seconds_since(t0), n);
  std::printf("  CSV file: %.1f MiB\n", static_cast<double>(fs::file_size(csv)) / 1048576.0);

  t0 = Clock::now();
  ImportResult imported = load_orders_file(csv);
  report("parse CSV", seconds_since(t0), imported.rows);
  if (!imported.errors.empty()) {
    std::printf("  %zu errors, first: %s\n", imported.errors.size(),
                imported.errors[0].str().c_str());
  }

  double before_book = rss_mib();
  t0 = Clock::now();
  OrderBook book;
  for (const auto& o : imported.orders) book.upsert(o);
  report("OrderBook insert", seconds_since(t0), book.size());
  std::printf("  OrderBook: %.1f MiB by its own count, rss grew %.1f MiB (%.0f bytes/order)\n",
              static_cast<double>(book.memory_bytes()) / 1048576.0, rss_mib() - before_book,
              static_cast<double>(book.memory_bytes()) / static_cast<double>(book.size()));

  t0 = Clock::now();
  std::size_t found = 0, codes = 0;
  for (const auto& o : imported.orders)
    for (const auto& c : o.codes) {
      ++codes;
      found += book.id_by_code(c).has_value();
    }
  report("OrderBook id_by_code (every code)", seconds_since(t0), codes);
  if (found != codes) std::printf("  MISSING: %zu of %zu codes not found\n", codes - found, codes);

  {
    Store store(db);
    t0 = Clock::now();
    store.upsert_orders(imported.orders);
    report("store upsert (one transaction)", seconds_since(t0), imported.orders.size());
    std::printf("  database %.1f MiB + WAL %.1f MiB\n",
                static_cast<double>(fs::file_size(db)) / 1048576.0,
                static_cast<double>(fs::file_size(db + "-wal")) / 1048576.0);
    t0 = Clock::now();
    store.checkpoint();
    report("store checkpoint", seconds_since(t0), imported.orders.size());

    // Re-import the same file: every order is an update.
    t0 = Clock::now();
    store.upsert_orders(imported.orders);
    report("store upsert again (all updates)", seconds_since(t0), imported.orders.size());
  }
  std::size_t rows = imported.orders.size();
  imported = ImportResult{};  // as in the daemon: only the book stays
  book = OrderBook{};

  {
    Store store(db);
    t0 = Clock::now();
    OrderBook loaded;
    loaded.reserve(rows);
    store.for_each_order([&](Order&& o) { loaded.upsert(o); });
    report("store -> OrderBook (daemon start)", seconds_since(t0), loaded.size());
    std::printf("  rss with the book of %zu orders loaded: %.1f MiB\n", loaded.size(), rss_mib());
  }
  std::printf("peak RSS (ru_maxrss): %.1f MiB\n", peak_rss_mib());

  if (keep) {
    std::printf("kept %s\n", dir.c_str());
  } else {
    fs::remove_all(dir);
  }
  return 0;
}
