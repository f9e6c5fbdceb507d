// A large generated station for the benchmarks: N couriers with varied pricing, limits,
// strengths and cutoffs, and M lanes spread over them by region, plus overflow and exception
// lanes. Deterministic for a given size.
#pragma once

#include <string>
#include <vector>

#include "model.h"

namespace sortd::bench {

inline const std::vector<std::string>& provinces() {
  static const std::vector<std::string> p = {
      "北京市",          "天津市",         "河北省", "山西省", "内蒙古自治区", "辽宁省",
      "吉林省",          "黑龙江省",       "上海市", "江苏省", "浙江省",       "安徽省",
      "福建省",          "江西省",         "山东省", "河南省", "湖北省",       "湖南省",
      "广东省",          "广西壮族自治区", "海南省", "重庆市", "四川省",       "贵州省",
      "云南省",          "西藏自治区",     "陕西省", "甘肃省", "青海省",       "宁夏回族自治区",
      "新疆维吾尔自治区"};
  return p;
}

inline StationConfig make_bench_station(int couriers, int lanes) {
  StationConfig cfg;
  cfg.source = "generated";
  cfg.station_id = "bench";
  cfg.station_name = "benchmark station";
  cfg.policies.origin_province = "浙江省";
  const auto& prov = provinces();
  for (int i = 0; i < couriers; ++i) {
    Courier c;
    c.id = "c" + std::to_string(i);
    c.name = "Courier " + std::to_string(i);
    c.color = "#336699";
    if (i % 2 == 0) {
      c.pricing = Pricing::PerPiece;
      c.piece_fen = 400 + (i * 37) % 500;
    } else {
      c.pricing = Pricing::ByWeight;
      for (int z = 0; z < 4; ++z)
        c.zones.push_back(
            {"z" + std::to_string(z), 1000, 800 + z * 200 + i * 5, 1000, 200 + z * 100});
      for (std::size_t p = 0; p < prov.size(); ++p)
        c.zone_of[prov[p]] = "z" + std::to_string(p % 4);
      c.zone_of["*"] = "z3";
      c.volumetric_divisor = i % 3 == 0 ? 6000 : 0;
    }
    if (i % 5 == 1) c.excludes = {"西藏自治区", "新疆维吾尔自治区"};
    for (int k = 0; k < 3; ++k) {
      RegionScore r;
      r.province = prov[(i * 7 + k * 3) % prov.size()];
      r.score = 0.3 + 0.2 * k;
      c.strengths.push_back(r);
    }
    c.cod = i % 3 != 2;
    c.cod_limit_fen = c.cod ? 500000 : 0;
    c.express = i % 2 == 0;
    c.same_day = i % 7 == 0;
    c.pickup_point = i % 4 != 3;
    c.max_weight_g = 30000 + (i % 4) * 10000;
    c.daily_parcels = 1000000;
    c.cutoff_min = 23 * 60 + 30;
    cfg.couriers.push_back(c);
  }
  // Courier lanes: each courier gets lanes/couriers lanes, each over a slice of provinces.
  const int exception_lanes = 5;
  const int courier_lanes = lanes - exception_lanes;
  int id = 1;
  for (int l = 0; l < courier_lanes; ++l) {
    Lane lane;
    lane.id = id++;
    lane.chute = lane.id;
    lane.courier = cfg.couriers[l % couriers].id;
    const int per = courier_lanes / couriers;
    const int slot = l / couriers;
    if (slot == per - 1) {
      lane.kind = LaneKind::Overflow;
    } else {
      for (std::size_t p = slot; p < prov.size(); p += per) lane.regions.push_back(prov[p]);
    }
    cfg.lanes.push_back(lane);
  }
  for (auto& lane : cfg.lanes) {
    if (lane.kind != LaneKind::Courier) continue;
    for (const auto& o : cfg.lanes)
      if (o.kind == LaneKind::Overflow && o.courier == lane.courier) lane.overflow = o.id;
  }
  const ExceptionKind kinds[][2] = {
      {ExceptionKind::NoRead, ExceptionKind::UnknownCode},
      {ExceptionKind::MultiRead, ExceptionKind::Duplicate},
      {ExceptionKind::Cancelled, ExceptionKind::Held},
      {ExceptionKind::NoEligibleCourier, ExceptionKind::WaitNextWave}};
  for (int e = 0; e < exception_lanes; ++e) {
    Lane lane;
    lane.id = id++;
    lane.chute = lane.id;
    lane.kind = LaneKind::Exception;
    if (e < 4) lane.takes = {kinds[e][0], kinds[e][1]};
    cfg.lanes.push_back(lane);
  }
  StationConfig::Device sorter;
  sorter.name = "plc";
  sorter.kind = "sorter";
  sorter.driver = "sim";
  cfg.devices.push_back(sorter);
  return cfg;
}

}  // namespace sortd::bench
