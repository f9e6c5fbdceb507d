// Routing throughput on one thread: a generated station with 50 couriers and 200 lanes, a pool
// of random parcels over real provinces and cities, routed for a few seconds. Prints
// decisions/s and ns/decision; never fails on the figures.
//   bench_routing [seconds]   (default 3)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "bench_station.h"
#include "routing.h"
#include "routing_regions.h"

using namespace sortd;

using bench::kCities;
using bench::prov;

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  if (!(seconds > 0)) seconds = 3.0;
  std::mt19937 rng(42);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  StationConfig cfg = bench::make_bench_station(rng);

  // A pool of parcels over real provinces and cities, with the usual mix of needs.
  std::vector<Order> orders(20'000);
  for (std::size_t i = 0; i < orders.size(); ++i) {
    Order& o = orders[i];
    o.id = "B" + std::to_string(i);
    std::size_t p = std::size_t(pick(0, int(kCities.size()) - 1));
    o.province = pick(0, 1) ? prov(p) : prov(p) + (p < 4 || p == 8 || p == 21 ? "市" : "省");
    o.city = kCities[p][std::size_t(pick(0, int(kCities[p].size()) - 1))] + "市";
    o.postcode = std::to_string(pick(100000, 859999));
    o.weight_g = pick(0, 9) ? pick(100, 5000) : pick(5000, 40000);
    o.length_mm = pick(100, 800), o.width_mm = pick(50, 500), o.height_mm = pick(20, 400);
    o.cod_fen = pick(0, 4) == 0 ? 100 * pick(10, 20000) : 0;
    o.invoice = pick(0, 4) == 0;
    o.service = ServiceLevel(pick(0, 9) < 8 ? 0 : pick(1, 2));
    o.pickup_point = pick(0, 5) == 0;
    o.fragile = pick(0, 6) == 0;
    if (pick(0, 9) == 0) o.preferred = {"c" + std::to_string(pick(0, 49))};
    if (pick(0, 9) == 0) o.forbidden = {"c" + std::to_string(pick(0, 49))};
  }
  std::vector<ParcelFacts> parcels(orders.size());
  for (std::size_t i = 0; i < orders.size(); ++i)
    parcels[i] = ParcelFacts{&orders[i], orders[i].weight_g, orders[i].length_mm,
                             orders[i].width_mm, orders[i].height_mm};

  CapacityLedger ledger;
  for (const Courier& c : cfg.couriers)
    ledger.used.push_back(CapacityUse{c.daily_parcels ? pick(0, c.daily_parcels) : pick(0, 900),
                                      std::int64_t(pick(0, 20'000)) * 1000});
  LaneAvailability lanes = LaneAvailability::all_open(cfg);
  for (std::size_t i = 0; i < lanes.full.size(); ++i) lanes.full[i] = pick(0, 9) == 0;

  Router router(cfg);
  const TimeMs day = 19'800LL * 86'400'000LL;
  std::map<std::string, long> outcome;
  long n = 0;
  std::size_t checksum = 0;
  using clock = std::chrono::steady_clock;
  auto cpu_now = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
  };
  double cpu0 = cpu_now();
  auto t0 = clock::now();
  auto deadline = t0 + std::chrono::duration<double>(seconds);
  clock::time_point t1;
  for (;;) {
    for (int k = 0; k < 1000; ++k, ++n) {
      const ParcelFacts& p = parcels[std::size_t(n) % parcels.size()];
      // Local time walks from 08:00 to 22:00 through the run, so cutoffs bite.
      TimeMs now = day + TimeMs(n % 840) * 60'000LL;
      Decision d = router.route(p, ledger, lanes, now);
      checksum += std::size_t(d.lane) + d.ranked.size() * 7 + d.excluded.size();
      if (n < 200'000)
        ++outcome[d.exception == ExceptionKind::None ? "sorted" : to_string(d.exception)];
    }
    t1 = clock::now();
    if (t1 >= deadline) break;
  }
  double secs = std::chrono::duration<double>(t1 - t0).count();
  double cpu = cpu_now() - cpu0;
  std::printf("bench_routing: %zu couriers, %zu lanes, %zu parcels in the pool, 1 thread\n",
              cfg.couriers.size(), cfg.lanes.size(), parcels.size());
  std::printf("  %ld decisions in %.2f s wall: %.0f decisions/s, %.0f ns/decision\n", n, secs,
              double(n) / secs, secs * 1e9 / double(n));
  // On a shared machine the thread may not have had the core to itself: CPU time tells.
  std::printf("  on this thread's CPU time (%.2f s): %.0f decisions/s per core, %.0f ns/decision\n",
              cpu, double(n) / cpu, cpu * 1e9 / double(n));
  std::printf("  checksum %zu\n", checksum);
  std::printf("  outcomes of the first 200000:");
  for (const auto& [k, v] : outcome) std::printf(" %s=%ld", k.c_str(), v);
  std::printf("\n");
  return 0;
}
