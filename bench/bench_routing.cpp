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

#include "routing.h"
#include "routing_regions.h"

using namespace sortd;

namespace {

const std::vector<std::vector<std::string>> kCities{{"北京"},
                                                    {"天津"},
                                                    {"石家庄", "唐山", "保定"},
                                                    {"太原", "大同"},
                                                    {"呼和浩特", "包头"},
                                                    {"沈阳", "大连"},
                                                    {"长春", "吉林"},
                                                    {"哈尔滨", "大庆"},
                                                    {"上海"},
                                                    {"南京", "苏州", "无锡", "宿迁"},
                                                    {"杭州", "宁波", "温州", "金华"},
                                                    {"合肥", "芜湖"},
                                                    {"福州", "厦门", "泉州"},
                                                    {"南昌", "赣州"},
                                                    {"济南", "青岛", "烟台"},
                                                    {"郑州", "洛阳"},
                                                    {"武汉", "宜昌"},
                                                    {"长沙", "株洲"},
                                                    {"广州", "深圳", "东莞", "佛山"},
                                                    {"南宁", "桂林"},
                                                    {"海口", "三亚"},
                                                    {"重庆"},
                                                    {"成都", "绵阳", "甘孜藏族自治州"},
                                                    {"贵阳", "遵义"},
                                                    {"昆明", "大理"},
                                                    {"拉萨"},
                                                    {"西安", "宝鸡"},
                                                    {"兰州"},
                                                    {"西宁"},
                                                    {"银川"},
                                                    {"乌鲁木齐", "喀什地区"},
                                                    {"台北"},
                                                    {"香港"},
                                                    {"澳门"}};

std::string prov(std::size_t i) {
  return std::string(regions::kProvinces[i]);
}

StationConfig make_station(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  StationConfig cfg;
  cfg.station_id = "bench";
  cfg.policies.origin_province = "浙江";
  const std::size_t np = regions::kProvinces.size();
  int lane_id = 1;
  for (int i = 0; i < 50; ++i) {
    Courier c;
    c.id = "c" + std::to_string(i);
    c.name = "courier " + std::to_string(i);
    if (i % 2) {
      c.pricing = Pricing::ByWeight;
      c.zones = {{"local", 1000, 1000 + pick(0, 300), 1000, 200},
                 {"near", 1000, 1500 + pick(0, 500), 1000, 400 + pick(0, 200)},
                 {"far", 1000, 2000 + pick(0, 800), 500, 600 + pick(0, 400)}};
      for (std::size_t p = 0; p < np; ++p)
        if (pick(0, 2) == 0) c.zone_of[prov(p)] = pick(0, 1) ? "near" : "local";
      c.zone_of["*"] = "far";
      c.volumetric_divisor = pick(0, 2) ? 6000 : 0;
    } else {
      c.pricing = Pricing::PerPiece;
      c.piece_fen = 250 + pick(0, 150);
    }
    if (i % 5 == 0)
      for (int k = 0; k < 12; ++k) c.serves.push_back(prov(std::size_t(pick(0, int(np) - 1))));
    for (int k = 0; k < 3; ++k) c.excludes.push_back(prov(std::size_t(pick(0, int(np) - 1))));
    for (int k = 0; k < 6; ++k) {
      std::size_t p = std::size_t(pick(0, int(np) - 1));
      RegionScore s;
      s.province = prov(p);
      if (pick(0, 1)) s.city = kCities[p][std::size_t(pick(0, int(kCities[p].size()) - 1))];
      s.score = pick(10, 100) / 100.0;
      c.strengths.push_back(s);
    }
    c.strengths.push_back({"", "", std::to_string(pick(10, 85)), 0.9});
    c.cod = pick(0, 1);
    c.cod_limit_fen = c.cod ? 100'000 * pick(1, 50) : 0;
    c.invoice = pick(0, 3) != 0;
    c.express = pick(0, 1);
    c.same_day = pick(0, 4) == 0;
    c.pickup_point = pick(0, 1);
    c.fragile = pick(0, 3) != 0;
    c.max_weight_g = 1000 * pick(5, 50);
    c.max_side_mm = 10 * pick(60, 150);
    c.max_girth_mm = 10 * pick(150, 300);
    c.daily_parcels = pick(0, 3) ? 500 * pick(1, 20) : 0;
    c.daily_kg = pick(0, 2) ? 0 : 1000 * pick(1, 20);
    c.cutoff_min = 60 * pick(16, 21);
    cfg.couriers.push_back(c);
  }
  // 150 courier lanes (3 per courier: two by region, one for the rest), 40 overflow lanes.
  std::vector<int> overflow_of(50, 0);
  for (int i = 0; i < 40; ++i) {
    Lane l;
    l.id = 1000 + i;
    l.chute = 1000 + i;
    l.kind = LaneKind::Overflow;
    l.courier = "c" + std::to_string(i);
    overflow_of[std::size_t(i)] = l.id;
    cfg.lanes.push_back(l);
  }
  for (int i = 0; i < 50; ++i)
    for (int k = 0; k < 3; ++k) {
      Lane l;
      l.id = lane_id++;
      l.chute = l.id;
      l.courier = "c" + std::to_string(i);
      l.overflow = overflow_of[std::size_t(i)];
      if (k < 2)
        for (int r = 0; r < 4; ++r) {
          std::size_t p = std::size_t(pick(0, int(np) - 1));
          l.regions.push_back(
              pick(0, 2)
                  ? prov(p)
                  : prov(p) + "/" + kCities[p][std::size_t(pick(0, int(kCities[p].size()) - 1))]);
        }
      cfg.lanes.push_back(l);
    }
  // 10 exception lanes.
  for (int k = 1; k <= 9; ++k) {
    Lane l;
    l.id = 2000 + k;
    l.chute = 2000 + k;
    l.kind = LaneKind::Exception;
    l.takes = {ExceptionKind(k), ExceptionKind(k + 3 > 12 ? 12 : k + 3)};
    cfg.lanes.push_back(l);
  }
  Lane all;
  all.id = 2999;
  all.chute = 2999;
  all.kind = LaneKind::Exception;
  cfg.lanes.push_back(all);
  return cfg;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  if (!(seconds > 0)) seconds = 3.0;
  std::mt19937 rng(42);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  StationConfig cfg = make_station(rng);

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
