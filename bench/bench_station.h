// The benchmarks' station: 50 couriers with random but realistic pricing (per piece, or first
// weight + steps by zone, volumetric), regions served and of strength, limits, capacities and
// cutoffs; 150 courier lanes by region, 40 overflow lanes and 10 exception lanes (200 lanes).
// Deterministic for a given random generator state. Shared by bench_routing and bench_core.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "model.h"
#include "routing_regions.h"

namespace sortd::bench {

inline const std::vector<std::vector<std::string>> kCities{{"北京"},
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

inline std::string prov(std::size_t i) {
  return std::string(regions::kProvinces[i]);
}

inline StationConfig make_bench_station(std::mt19937& rng) {
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

}  // namespace sortd::bench
