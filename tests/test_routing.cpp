// Routing: every eligibility rule, every ranking factor moving the winner, capacity spill,
// both cutoff policies, lanes by region, overflow on full and on disabled, the next courier when
// the overflow is unusable too, every exception lane, price arithmetic, determinism, the demo
// station, and a seeded property test over thousands of random parcels checked against a
// straightforward re-statement of the rules.
#define BOOST_TEST_MODULE routing
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "config.h"
#include "routing.h"
#include "routing_regions.h"

using namespace sortd;

namespace {

// A UTC time that is hh:mm local time (+08:00) on some day in 2024.
TimeMs at(int hh, int mm) {
  const TimeMs day = 19'800LL * 86'400'000LL;
  return day + (TimeMs(hh) * 60 + mm - 8 * 60) * 60'000LL;
}

Courier& add_courier(StationConfig& cfg, const std::string& id, Fen piece_fen = 500) {
  Courier c;
  c.id = id;
  c.name = id + " express";
  c.pricing = Pricing::PerPiece;
  c.piece_fen = piece_fen;
  cfg.couriers.push_back(c);
  return cfg.couriers.back();
}

Lane& add_lane(StationConfig& cfg, int id, LaneKind kind, const std::string& courier,
               std::vector<std::string> regions = {}, int overflow = 0) {
  Lane l;
  l.id = id;
  l.chute = 100 + id;
  l.kind = kind;
  l.courier = courier;
  l.regions = std::move(regions);
  l.overflow = overflow;
  cfg.lanes.push_back(l);
  return cfg.lanes.back();
}

void add_exception_lanes(StationConfig& cfg) {
  auto& a = add_lane(cfg, 90, LaneKind::Exception, "");
  a.takes = {ExceptionKind::NoRead, ExceptionKind::UnknownCode};
  auto& b = add_lane(cfg, 91, LaneKind::Exception, "");
  b.takes = {ExceptionKind::MultiRead, ExceptionKind::Duplicate};
  auto& c = add_lane(cfg, 92, LaneKind::Exception, "");
  c.takes = {ExceptionKind::Cancelled, ExceptionKind::Held};
  auto& d = add_lane(cfg, 93, LaneKind::Exception, "");
  d.takes = {ExceptionKind::NoEligibleCourier, ExceptionKind::WaitNextWave};
  auto& e = add_lane(cfg, 94, LaneKind::Exception, "");
  e.takes = {ExceptionKind::RecirculationLimit, ExceptionKind::Rejected, ExceptionKind::Lost,
             ExceptionKind::Degraded};
  add_lane(cfg, 99, LaneKind::Exception, "");  // catch-all
}

// Two plain couriers "a" and "b" (a first in config order, same price), one lane each with an
// overflow lane, and the exception lanes.
StationConfig two_couriers() {
  StationConfig cfg;
  cfg.policies.origin_province = "浙江";
  add_courier(cfg, "a");
  add_courier(cfg, "b");
  add_lane(cfg, 1, LaneKind::Courier, "a", {}, 11);
  add_lane(cfg, 2, LaneKind::Courier, "b", {}, 12);
  add_lane(cfg, 11, LaneKind::Overflow, "a");
  add_lane(cfg, 12, LaneKind::Overflow, "b");
  add_exception_lanes(cfg);
  return cfg;
}

Order order_to(const std::string& province, const std::string& city = "") {
  Order o;
  o.id = "o1";
  o.codes = {"T1"};
  o.province = province;
  o.city = city;
  o.weight_g = 1000;
  o.length_mm = 300, o.width_mm = 200, o.height_mm = 100;
  return o;
}

ParcelFacts facts(const Order& o) {
  ParcelFacts p;
  p.order = &o;
  p.weight_g = o.weight_g;
  p.length_mm = o.length_mm, p.width_mm = o.width_mm, p.height_mm = o.height_mm;
  return p;
}

const Exclusion* excluded(const Decision& d, const std::string& courier) {
  for (const auto& e : d.excluded)
    if (e.courier == courier) return &e;
  return nullptr;
}
const Candidate* ranked(const Decision& d, const std::string& courier) {
  for (const auto& c : d.ranked)
    if (c.courier == courier) return &c;
  return nullptr;
}

struct Fixture {
  StationConfig cfg = two_couriers();
  CapacityLedger ledger;
  TimeMs now = at(10, 0);

  Decision route(const Order& o, const LaneAvailability* lanes = nullptr) {
    Router r(cfg);
    LaneAvailability open = LaneAvailability::all_open(cfg);
    return r.route(facts(o), ledger, lanes ? *lanes : open, now);
  }
  std::size_t lane_index(int id) const {
    for (std::size_t i = 0; i < cfg.lanes.size(); ++i)
      if (cfg.lanes[i].id == id) return i;
    BOOST_FAIL("no lane " << id);
    return 0;
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(eligibility)

// Each case: change courier "a" or the order so that exactly one rule excludes "a"; "b" wins.
struct RuleCase {
  const char* rule;
  std::function<void(Courier&, Order&, Fixture&)> setup;
};

BOOST_AUTO_TEST_CASE(each_rule_excludes_with_its_key) {
  std::vector<RuleCase> cases{
      {"region",
       [](Courier& a, Order&, Fixture&) {
         a.serves = {"广东", "福建"};
       }},
      {"region", [](Courier& a, Order&, Fixture&) { a.excludes = {"浙江"}; }},
      {"region",
       [](Courier& a, Order& o, Fixture&) { a.excludes = {"浙江/杭州"}, o.city = "杭州市"; }},
      {"weight", [](Courier& a, Order& o, Fixture&) { a.max_weight_g = 5000, o.weight_g = 5001; }},
      {"size", [](Courier& a, Order& o, Fixture&) { a.max_side_mm = 600, o.length_mm = 601; }},
      {"size", [](Courier& a, Order&, Fixture&) { a.max_girth_mm = 599; }},
      {"cod", [](Courier& a, Order& o,
                 Fixture& f) { a.cod = false, o.cod_fen = 100, f.cfg.couriers[1].cod = true; }},
      {"cod_limit",
       [](Courier& a, Order& o, Fixture& f) {
         a.cod = true, a.cod_limit_fen = 50000, o.cod_fen = 50001, f.cfg.couriers[1].cod = true;
       }},
      {"invoice", [](Courier& a, Order& o, Fixture&) { a.invoice = false, o.invoice = true; }},
      {"service",
       [](Courier& a, Order& o, Fixture& f) {
         a.express = false, o.service = ServiceLevel::Express, f.cfg.couriers[1].express = true;
       }},
      {"service",
       [](Courier& a, Order& o, Fixture& f) {
         a.same_day = false, o.service = ServiceLevel::SameDay, f.cfg.couriers[1].same_day = true;
       }},
      {"pickup_point",
       [](Courier& a, Order& o, Fixture& f) {
         a.pickup_point = false, o.pickup_point = true, f.cfg.couriers[1].pickup_point = true;
       }},
      {"fragile", [](Courier& a, Order& o, Fixture&) { a.fragile = false, o.fragile = true; }},
      {"forbidden", [](Courier&, Order& o, Fixture&) { o.forbidden = {"a"}; }},
      {"capacity",
       [](Courier& a, Order&, Fixture& f) {
         a.daily_parcels = 10, f.ledger.used = {CapacityUse{10, 0}};
       }},
      {"capacity_kg",
       [](Courier& a, Order&, Fixture& f) {
         a.daily_kg = 20, f.ledger.used = {CapacityUse{3, 19'500}};
       }},
      {"cutoff", [](Courier& a, Order&, Fixture&) { a.cutoff_min = 9 * 60 + 59; }},
      {"no_lane", [](Courier&, Order&, Fixture& f) { f.cfg.lanes.erase(f.cfg.lanes.begin()); }},
  };
  for (const auto& rc : cases) {
    BOOST_TEST_CONTEXT("rule " << rc.rule) {
      Fixture f;
      Order o = order_to("浙江", "杭州");
      // Make "a" the clear favourite, so only the rule can make it lose.
      f.cfg.couriers[0].piece_fen = 300;
      rc.setup(f.cfg.couriers[0], o, f);
      Decision d = f.route(o);
      BOOST_TEST(d.courier == "b");
      BOOST_TEST((d.exception == ExceptionKind::None));
      const Exclusion* e = excluded(d, "a");
      BOOST_REQUIRE(e);
      BOOST_TEST(e->rule == rc.rule);
      BOOST_TEST(!e->reason.empty());
      BOOST_TEST(!excluded(d, "b"));
      // Without the rule, "a" wins.
      Fixture g;
      g.cfg.couriers[0].piece_fen = 300;
      Decision d2 = g.route(order_to("浙江", "杭州"));
      BOOST_TEST(d2.courier == "a");
    }
  }
}

BOOST_AUTO_TEST_CASE(limits_are_inclusive_and_reasons_name_the_numbers) {
  Fixture f;
  f.cfg.couriers[0].max_weight_g = 5000;
  f.cfg.couriers[0].cod = true;
  f.cfg.couriers[0].cod_limit_fen = 50000;
  Order o = order_to("浙江");
  o.weight_g = 5000;
  o.cod_fen = 50000;
  f.cfg.couriers[0].piece_fen = 300;
  BOOST_TEST(f.route(o).courier == "a");  // exactly at the limits: fine
  o.weight_g = 5200;
  Decision d = f.route(o);
  BOOST_TEST(excluded(d, "a")->reason == "weight 5.2 kg over its limit of 5 kg");
  o.weight_g = 100;
  o.cod_fen = 60000;
  d = f.route(o);
  BOOST_TEST(excluded(d, "a")->reason == "COD 600.00 yuan over its limit of 500.00 yuan");
}

BOOST_AUTO_TEST_CASE(province_names_short_or_full) {
  Fixture f;
  f.cfg.couriers[0].serves = {"新疆"};
  f.cfg.couriers[1].serves = {"浙江"};
  BOOST_TEST(f.route(order_to("新疆维吾尔自治区", "乌鲁木齐市")).courier == "a");
  BOOST_TEST(f.route(order_to("浙江省", "杭州市")).courier == "b");
  Decision d = f.route(order_to("火星"));
  BOOST_TEST((d.exception == ExceptionKind::NoEligibleCourier));
  BOOST_TEST(excluded(d, "a")->rule == "region");
}

BOOST_AUTO_TEST_CASE(nobody_eligible_gives_no_eligible_courier_with_reasons) {
  Fixture f;
  Order o = order_to("浙江");
  o.weight_g = 80'000;
  f.cfg.couriers[0].max_weight_g = 30'000;
  f.cfg.couriers[1].max_weight_g = 50'000;
  Decision d = f.route(o);
  BOOST_TEST((d.exception == ExceptionKind::NoEligibleCourier));
  BOOST_TEST(d.courier.empty());
  BOOST_TEST(d.lane == 93);
  BOOST_TEST(d.chute == 193);
  BOOST_TEST(d.ranked.empty());
  BOOST_TEST(d.excluded.size() == 2u);
  BOOST_TEST(d.reason.find("a: weight 80 kg over its limit of 30 kg") != std::string::npos,
             d.reason);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(ranking)

BOOST_AUTO_TEST_CASE(tie_breaks_on_config_order) {
  Fixture f;
  Decision d = f.route(order_to("浙江"));
  BOOST_REQUIRE_EQUAL(d.ranked.size(), 2u);
  BOOST_TEST(d.ranked[0].score == d.ranked[1].score);
  BOOST_TEST(d.courier == "a");
  std::swap(f.cfg.couriers[0], f.cfg.couriers[1]);
  BOOST_TEST(f.route(order_to("浙江")).courier == "b");
}

BOOST_AUTO_TEST_CASE(capacity_left_moves_the_winner) {
  Fixture f;
  f.cfg.couriers[0].daily_parcels = 1000;
  f.ledger.used = {CapacityUse{100, 0}};
  Decision d = f.route(order_to("浙江"));
  BOOST_TEST(d.courier == "b");  // b is unlimited: factor 1
  BOOST_TEST(ranked(d, "a")->f_capacity == 0.9, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(ranked(d, "b")->f_capacity == 1.0);
  // kg capacity: the smaller share of the two counts.
  f.cfg.couriers[1].daily_parcels = 1000;
  f.cfg.couriers[1].daily_kg = 100;
  f.ledger.used = {CapacityUse{100, 0}, CapacityUse{10, 50'000}};
  d = f.route(order_to("浙江"));
  BOOST_TEST(ranked(d, "b")->f_capacity == 0.5, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(d.courier == "a");
}

BOOST_AUTO_TEST_CASE(region_advantage_moves_the_winner_and_specific_beats_general) {
  Fixture f;
  f.cfg.couriers[1].strengths = {
      {"广东", "", "", 0.2}, {"广东", "深圳", "", 0.6}, {"", "", "518", 0.9}};
  f.cfg.couriers[0].strengths = {{"广东", "", "", 0.7}};
  Order o = order_to("广东", "深圳");
  o.postcode = "518000";
  Decision d = f.route(o);
  BOOST_TEST(ranked(d, "b")->f_region == 0.9);  // postcode prefix
  BOOST_TEST(d.courier == "b");
  o.postcode = "510000";
  d = f.route(o);
  BOOST_TEST(ranked(d, "b")->f_region == 0.6);  // city, not the province's 0.2
  BOOST_TEST(d.courier == "a");                 // 0.7 beats 0.6
  o = order_to("广东", "广州");
  d = f.route(o);
  BOOST_TEST(ranked(d, "b")->f_region == 0.2);  // province
  BOOST_TEST(ranked(d, "a")->f_region == 0.7);
  d = f.route(order_to("浙江"));
  BOOST_TEST(ranked(d, "b")->f_region == 0.0);  // no match
  // An entry with no province applies anywhere, below any matching entry.
  f.cfg.couriers[1].strengths.push_back({"", "", "", 0.4});
  BOOST_TEST(ranked(f.route(order_to("浙江")), "b")->f_region == 0.4);
  BOOST_TEST(ranked(f.route(order_to("广东", "广州")), "b")->f_region == 0.2);
  // A city-level strength with a full city name on the order.
  BOOST_TEST(ranked(f.route(order_to("广东省", "深圳市")), "b")->f_region == 0.6);
}

BOOST_AUTO_TEST_CASE(price_moves_the_winner) {
  Fixture f;
  f.cfg.couriers[0].piece_fen = 400;
  f.cfg.couriers[1].piece_fen = 300;
  Decision d = f.route(order_to("浙江"));
  BOOST_TEST(d.courier == "b");
  BOOST_TEST(ranked(d, "b")->f_price == 1.0);
  BOOST_TEST(ranked(d, "a")->f_price == 0.75);
  BOOST_TEST(ranked(d, "a")->price_fen == 400);
}

BOOST_AUTO_TEST_CASE(time_to_cutoff_moves_the_winner) {
  Fixture f;
  f.cfg.couriers[0].cutoff_min = 10 * 60 + 30;  // 30 min left at 10:00
  f.cfg.couriers[1].cutoff_min = 18 * 60;       // 8 h left: saturates
  Decision d = f.route(order_to("浙江"));
  BOOST_TEST(d.courier == "b");
  BOOST_TEST(ranked(d, "a")->f_cutoff == 30.0 / 240.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(ranked(d, "b")->f_cutoff == 1.0);
}

BOOST_AUTO_TEST_CASE(preferred_courier_moves_the_winner) {
  Fixture f;
  f.cfg.couriers[1].piece_fen = 250;  // b is cheaper
  Order o = order_to("浙江");
  BOOST_TEST(f.route(o).courier == "b");
  o.preferred = {"a"};
  Decision d = f.route(o);
  BOOST_TEST(d.courier == "a");
  BOOST_TEST(ranked(d, "a")->f_preferred == 1.0);
  BOOST_TEST(ranked(d, "b")->f_preferred == 0.0);
}

BOOST_AUTO_TEST_CASE(weights_are_the_stations) {
  Fixture f;
  f.cfg.couriers[0].piece_fen = 400;
  f.cfg.couriers[1].piece_fen = 300;                      // b cheaper
  f.cfg.couriers[0].strengths = {{"浙江", "", "", 1.0}};  // a strong here
  BOOST_TEST(f.route(order_to("浙江")).courier == "a");   // 0.3 region > 0.3*(1-0.75)
  f.cfg.policies.weights.region = 0.0;
  Decision d = f.route(order_to("浙江"));
  BOOST_TEST(d.courier == "b");
  const Candidate* a = ranked(d, "a");
  const RankWeights& w = f.cfg.policies.weights;
  BOOST_TEST(a->score == w.capacity * a->f_capacity + w.region * a->f_region +
                             w.price * a->f_price + w.cutoff * a->f_cutoff +
                             w.preferred * a->f_preferred,
             boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(capacity)

BOOST_AUTO_TEST_CASE(spills_to_the_next_courier_by_parcels) {
  Fixture f;
  f.cfg.couriers[0].daily_parcels = 3;
  f.cfg.couriers[0].piece_fen = 300;
  Router r(f.cfg);
  auto lanes = LaneAvailability::all_open(f.cfg);
  std::vector<std::string> got;
  Order o = order_to("浙江");
  o.preferred = {"a"};  // a wins while it has any capacity left
  CapacityLedger ledger;
  ledger.used.resize(2);
  for (int i = 0; i < 6; ++i) {
    Decision d = r.route(facts(o), ledger, lanes, f.now);
    got.push_back(d.courier);
    std::size_t ci = d.courier == "a" ? 0 : 1;
    ledger.used[ci].parcels += 1;  // the core reserves
    ledger.used[ci].grams += o.weight_g;
  }
  BOOST_TEST((got == std::vector<std::string>{"a", "a", "a", "b", "b", "b"}));
}

BOOST_AUTO_TEST_CASE(spills_to_the_next_courier_by_kg) {
  Fixture f;
  f.cfg.couriers[0].daily_kg = 10;
  f.cfg.couriers[0].piece_fen = 300;
  f.ledger.used = {CapacityUse{5, 9'600}};
  Order o = order_to("浙江");
  o.preferred = {"a"};
  o.weight_g = 400;  // exactly fills 10 kg: still fits
  BOOST_TEST(f.route(o).courier == "a");
  o.weight_g = 401;
  Decision d = f.route(o);
  BOOST_TEST(d.courier == "b");
  BOOST_TEST(excluded(d, "a")->rule == "capacity_kg");
}

BOOST_AUTO_TEST_CASE(short_ledger_means_nothing_used) {
  Fixture f;
  f.cfg.couriers[1].daily_parcels = 1;
  f.cfg.couriers[0].max_weight_g = 1;   // a out
  f.ledger.used = {CapacityUse{7, 0}};  // only a's entry
  BOOST_TEST(f.route(order_to("浙江")).courier == "b");
  f.ledger.used.clear();
  BOOST_TEST(f.route(order_to("浙江")).courier == "b");
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(cutoff)

BOOST_AUTO_TEST_CASE(next_courier_policy) {
  Fixture f;
  f.cfg.couriers[0].piece_fen = 300;
  f.cfg.couriers[0].cutoff_min = 17 * 60;
  f.cfg.couriers[1].cutoff_min = 19 * 60;
  f.now = at(16, 59);
  BOOST_TEST(f.route(order_to("浙江")).courier == "a");
  f.now = at(17, 0);  // at the cutoff: too late
  Decision d = f.route(order_to("浙江"));
  BOOST_TEST(d.courier == "b");
  BOOST_TEST(excluded(d, "a")->rule == "cutoff");
  BOOST_TEST(excluded(d, "a")->reason == "cutoff 17:00 has passed (now 17:00)");
  f.now = at(19, 5);
  d = f.route(order_to("浙江"));
  BOOST_TEST((d.exception == ExceptionKind::WaitNextWave));
  BOOST_TEST(d.lane == 93);
  BOOST_TEST(d.courier.empty());
  // Next morning everyone is back.
  f.now = at(6, 0) + 86'400'000LL;
  BOOST_TEST(f.route(order_to("浙江")).courier == "a");
}

BOOST_AUTO_TEST_CASE(hold_policy) {
  Fixture f;
  f.cfg.policies.cutoff = CutoffPolicy::Hold;
  f.cfg.couriers[0].piece_fen = 300;  // a is the best
  f.cfg.couriers[0].cutoff_min = 17 * 60;
  f.cfg.couriers[1].cutoff_min = 19 * 60;
  f.now = at(17, 30);
  Decision d = f.route(order_to("浙江"));
  // a is still best (ranked ignoring its cutoff) and has passed it: hold, even though b could go.
  BOOST_TEST((d.exception == ExceptionKind::WaitNextWave));
  BOOST_TEST(d.reason.find("held for tomorrow's wave") != std::string::npos);
  BOOST_TEST(d.lane == 93);
  BOOST_TEST(!excluded(d, "a"));
  BOOST_TEST(ranked(d, "a")->f_cutoff == 0.0);
  // When the best courier has not passed its cutoff, it gets the parcel.
  f.cfg.couriers[1].piece_fen = 100;
  d = f.route(order_to("浙江"));
  BOOST_TEST(d.courier == "b");
  BOOST_TEST((d.exception == ExceptionKind::None));
}

BOOST_AUTO_TEST_CASE(cutoff_uses_the_station_time_zone) {
  Fixture f;
  f.cfg.couriers[0].cutoff_min = 17 * 60;
  f.cfg.couriers[0].piece_fen = 300;
  f.now = at(17, 30);  // 17:30 at +08:00 = 09:30 UTC
  BOOST_TEST(f.route(order_to("浙江")).courier == "b");
  f.cfg.policies.utc_offset_min = 0;  // the same instant is 09:30 in UTC
  BOOST_TEST(f.route(order_to("浙江")).courier == "a");
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(lanes)

BOOST_AUTO_TEST_CASE(lane_by_region_city_beats_province_beats_rest) {
  StationConfig cfg;
  add_courier(cfg, "a");
  add_lane(cfg, 1, LaneKind::Courier, "a");                    // rest
  add_lane(cfg, 2, LaneKind::Courier, "a", {"浙江", "上海"});  // province
  add_lane(cfg, 3, LaneKind::Courier, "a", {"浙江/杭州"});     // city
  add_exception_lanes(cfg);
  Router r(cfg);
  auto lanes = LaneAvailability::all_open(cfg);
  auto lane_for = [&](const char* p, const char* c) {
    Order o = order_to(p, c);
    return r.route(facts(o), {}, lanes, at(10, 0)).lane;
  };
  BOOST_TEST(lane_for("浙江", "杭州") == 3);
  BOOST_TEST(lane_for("浙江省", "杭州市") == 3);
  BOOST_TEST(lane_for("浙江", "宁波") == 2);
  BOOST_TEST(lane_for("上海", "上海") == 2);
  BOOST_TEST(lane_for("广东", "深圳") == 1);
  // Without a rest lane, a destination no lane covers has no lane.
  cfg.lanes.erase(cfg.lanes.begin());
  Router r2(cfg);
  auto lanes2 = LaneAvailability::all_open(cfg);
  Order o = order_to("广东", "深圳");
  Decision d = r2.route(facts(o), {}, lanes2, at(10, 0));
  BOOST_TEST((d.exception == ExceptionKind::NoEligibleCourier));
  BOOST_TEST(excluded(d, "a")->rule == "no_lane");
  BOOST_TEST(excluded(d, "a")->reason.find("has no lane for 广东") != std::string::npos);
  BOOST_TEST(ranked(d, "a")->lane == 0);
}

BOOST_AUTO_TEST_CASE(overflow_when_full) {
  Fixture f;
  auto lanes = LaneAvailability::all_open(f.cfg);
  lanes.full[f.lane_index(1)] = 1;
  Decision d = f.route(order_to("浙江"), &lanes);
  BOOST_TEST(d.courier == "a");
  BOOST_TEST(d.lane == 11);
  BOOST_TEST(d.chute == 111);
  BOOST_TEST(d.overflow);
  BOOST_TEST(d.reason.find("lane 1 full") != std::string::npos, d.reason);
  BOOST_TEST(ranked(d, "a")->overflow);
}

BOOST_AUTO_TEST_CASE(overflow_when_disabled_by_operator_or_config) {
  Fixture f;
  auto lanes = LaneAvailability::all_open(f.cfg);
  lanes.enabled[f.lane_index(1)] = 0;
  Decision d = f.route(order_to("浙江"), &lanes);
  BOOST_TEST(d.lane == 11);
  BOOST_TEST(d.overflow);
  BOOST_TEST(d.reason.find("lane 1 disabled") != std::string::npos, d.reason);
  f.cfg.lanes[f.lane_index(1)].enabled = false;  // all_open() honours the configuration
  d = f.route(order_to("浙江"));
  BOOST_TEST(d.lane == 11);
}

BOOST_AUTO_TEST_CASE(next_courier_when_overflow_unusable_too) {
  Fixture f;
  auto lanes = LaneAvailability::all_open(f.cfg);
  lanes.full[f.lane_index(1)] = 1;
  lanes.enabled[f.lane_index(11)] = 0;
  Decision d = f.route(order_to("浙江"), &lanes);
  BOOST_TEST(d.courier == "b");
  BOOST_TEST(d.lane == 2);
  BOOST_TEST(!d.overflow);
  const Exclusion* e = excluded(d, "a");
  BOOST_REQUIRE(e);
  BOOST_TEST(e->rule == "no_lane");
  BOOST_TEST(e->reason.find("lane 1 full, overflow lane 11 disabled") != std::string::npos,
             e->reason);
  BOOST_TEST(ranked(d, "a")->lane == 0);  // still ranked first, visibly without a lane
  BOOST_TEST(d.ranked.front().courier == "a");
  BOOST_TEST(d.reason.find("next courier b") != std::string::npos, d.reason);
  // Every lane of every courier unusable: no eligible courier, with the lane reasons.
  lanes.full[f.lane_index(2)] = 1;
  lanes.full[f.lane_index(12)] = 1;
  d = f.route(order_to("浙江"), &lanes);
  BOOST_TEST((d.exception == ExceptionKind::NoEligibleCourier));
  BOOST_TEST(d.lane == 93);
  BOOST_TEST(d.reason.find("no usable lane") != std::string::npos, d.reason);
}

BOOST_AUTO_TEST_CASE(overflow_chain_in_the_demo_station) {
  StationConfig cfg = load_config_file(std::string(SORTD_SOURCE_DIR) + "/config/demo-station.toml");
  Router r(cfg);
  auto lanes = LaneAvailability::all_open(cfg);
  Order o = order_to("浙江", "杭州");
  o.service = ServiceLevel::SameDay;  // only SF
  Decision d = r.route(facts(o), {}, lanes, at(10, 0));
  BOOST_TEST(d.courier == "sf");
  BOOST_TEST(d.lane == 3);
  auto idx = [&](int id) { return std::size_t(cfg.lane(id) - cfg.lanes.data()); };
  lanes.full[idx(3)] = 1;
  d = r.route(facts(o), {}, lanes, at(10, 0));
  BOOST_TEST(d.lane == 4);
  BOOST_TEST(d.overflow);
  lanes.full[idx(4)] = 1;
  d = r.route(facts(o), {}, lanes, at(10, 0));
  BOOST_TEST(d.lane == 19);
  lanes.full[idx(19)] = 1;
  d = r.route(facts(o), {}, lanes, at(10, 0));
  BOOST_TEST((d.exception == ExceptionKind::NoEligibleCourier));
  BOOST_TEST(d.lane == 28);
}

BOOST_AUTO_TEST_CASE(every_exception_kind_has_its_lane) {
  Fixture f;
  Router r(f.cfg);
  auto lanes = LaneAvailability::all_open(f.cfg);
  std::map<ExceptionKind, int> want{{ExceptionKind::NoRead, 90},
                                    {ExceptionKind::UnknownCode, 90},
                                    {ExceptionKind::MultiRead, 91},
                                    {ExceptionKind::Duplicate, 91},
                                    {ExceptionKind::Cancelled, 92},
                                    {ExceptionKind::Held, 92},
                                    {ExceptionKind::NoEligibleCourier, 93},
                                    {ExceptionKind::WaitNextWave, 93},
                                    {ExceptionKind::RecirculationLimit, 94},
                                    {ExceptionKind::Rejected, 94},
                                    {ExceptionKind::Lost, 94},
                                    {ExceptionKind::Degraded, 94}};
  for (auto [kind, lane] : want) BOOST_TEST(r.exception_lane(kind, lanes) == lane, to_string(kind));
  // Typed lane full -> the catch-all.
  lanes.full[f.lane_index(90)] = 1;
  BOOST_TEST(r.exception_lane(ExceptionKind::NoRead, lanes) == 99);
  // Catch-all disabled too -> any usable exception lane rather than none.
  lanes.enabled[f.lane_index(99)] = 0;
  BOOST_TEST(r.exception_lane(ExceptionKind::NoRead, lanes) == 91);
  // No usable exception lane: 0, and a decision says so.
  for (int id : {91, 92, 93, 94}) lanes.enabled[f.lane_index(id)] = 0;
  BOOST_TEST(r.exception_lane(ExceptionKind::NoRead, lanes) == 0);
  Order o = order_to("火星");
  Decision d = r.route(facts(o), {}, lanes, f.now);
  BOOST_TEST((d.exception == ExceptionKind::NoEligibleCourier));
  BOOST_TEST(d.lane == 0);
  BOOST_TEST(d.reason.find("no usable exception lane") != std::string::npos);
  // An empty availability vector means nothing is usable (not undefined behaviour).
  BOOST_TEST(r.exception_lane(ExceptionKind::NoRead, LaneAvailability{}) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(price)

StationConfig priced() {
  StationConfig cfg;
  Courier& c = add_courier(cfg, "sf");
  c.pricing = Pricing::ByWeight;
  c.zones = {{"local", 1000, 1200, 1000, 200}, {"far", 1000, 2200, 500, 800}};
  c.zone_of = {{"浙江", "local"}, {"*", "far"}};
  c.volumetric_divisor = 6000;
  add_lane(cfg, 1, LaneKind::Courier, "sf");
  add_exception_lanes(cfg);
  return cfg;
}

BOOST_AUTO_TEST_CASE(first_weight_plus_started_steps) {
  StationConfig cfg = priced();
  Router r(cfg);
  const Courier& c = cfg.couriers[0];
  Order o = order_to("浙江");
  ParcelFacts p = facts(o);
  p.length_mm = p.width_mm = p.height_mm = 0;  // no volume: actual weight only
  std::int32_t billable = -1;
  for (auto [g, fen] : std::vector<std::pair<int, Fen>>{{0, 1200},
                                                        {1, 1200},
                                                        {1000, 1200},
                                                        {1001, 1400},
                                                        {2000, 1400},
                                                        {2001, 1600},
                                                        {10'000, 1200 + 9 * 200}}) {
    p.weight_g = g;
    BOOST_TEST(r.price(c, p, &billable) == fen, g << " g");
    BOOST_TEST(billable == g);
  }
  // Another zone through "*": steps of 500 g.
  Order far = order_to("新疆维吾尔自治区");
  ParcelFacts q = facts(far);
  q.length_mm = q.width_mm = q.height_mm = 0;
  q.weight_g = 2200;  // 1200 g over: three started 500 g steps
  BOOST_TEST(r.price(c, q) == 2200 + 3 * 800);
}

BOOST_AUTO_TEST_CASE(volumetric_weight_when_billed) {
  StationConfig cfg = priced();
  Router r(cfg);
  Order o = order_to("浙江");
  ParcelFacts p = facts(o);
  p.weight_g = 1500;
  p.length_mm = 400, p.width_mm = 300, p.height_mm = 200;  // 24,000 cm³ / 6000 = 4 kg
  std::int32_t billable = 0;
  BOOST_TEST(r.price(cfg.couriers[0], p, &billable) == 1200 + 3 * 200);
  BOOST_TEST(billable == 4000);
  p.length_mm = 401;  // 24,060 cm³ -> 4.01 kg, a started step more
  BOOST_TEST(r.price(cfg.couriers[0], p, &billable) == 1200 + 4 * 200);
  BOOST_TEST(billable == 4010);
  // Not billed volumetrically: actual weight.
  Courier copy = cfg.couriers[0];  // a courier outside the configuration works too
  copy.volumetric_divisor = 0;
  BOOST_TEST(r.price(copy, p, &billable) == 1200 + 1 * 200);
  BOOST_TEST(billable == 1500);
  // Heavy and small: actual weight wins.
  p.weight_g = 9000;
  BOOST_TEST(r.price(cfg.couriers[0], p, &billable) == 1200 + 8 * 200);
  BOOST_TEST(billable == 9000);
  // The decision carries the same numbers.
  p.weight_g = 1500;
  Decision d = r.route(p, {}, LaneAvailability::all_open(cfg), at(10, 0));
  BOOST_TEST(d.ranked.at(0).price_fen == 1200 + 4 * 200);
  BOOST_TEST(d.ranked.at(0).billable_g == 4010);
}

BOOST_AUTO_TEST_CASE(per_piece_ignores_weight) {
  Fixture f;
  Router r(f.cfg);
  Order o = order_to("西藏");
  ParcelFacts p = facts(o);
  p.weight_g = 25'000;
  BOOST_TEST(r.price(f.cfg.couriers[0], p) == 500);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(demo_station)

StationConfig demo() {
  return load_config_file(std::string(SORTD_SOURCE_DIR) + "/config/demo-station.toml");
}

BOOST_AUTO_TEST_CASE(tibet_goes_by_ems) {
  StationConfig cfg = demo();
  Router r(cfg);
  Order o = order_to("西藏自治区", "拉萨市");
  Decision d = r.route(facts(o), {}, LaneAvailability::all_open(cfg), at(10, 0));
  BOOST_TEST(d.courier == "ems");
  BOOST_TEST(d.lane == 14);
  // SF delivers there too (at its remote-zone price); the others do not.
  BOOST_REQUIRE_EQUAL(d.ranked.size(), 2u);
  BOOST_TEST(d.ranked[1].courier == "sf");
  BOOST_TEST(d.ranked[1].price_fen == 2500);
  BOOST_TEST(d.excluded.size() == cfg.couriers.size() - 2);
  for (const auto& e : d.excluded) BOOST_TEST(e.rule == "region", e.courier);
}

BOOST_AUTO_TEST_CASE(small_courier_runs_out_and_parcels_spill) {
  StationConfig cfg = demo();
  Router r(cfg);
  auto lanes = LaneAvailability::all_open(cfg);
  CapacityLedger ledger;
  ledger.used.resize(cfg.couriers.size());
  std::size_t yunda = std::size_t(cfg.courier("yunda") - cfg.couriers.data());
  Order o = order_to("山东", "济南");
  o.weight_g = 600;
  o.length_mm = 200, o.width_mm = 150, o.height_mm = 80;
  std::map<std::string, int> count;
  for (int i = 0; i < 1000; ++i) {
    Decision d = r.route(facts(o), ledger, lanes, at(9, 0));
    BOOST_REQUIRE(!d.courier.empty());
    ++count[d.courier];
    std::size_t ci = std::size_t(cfg.courier(d.courier) - cfg.couriers.data());
    ledger.used[ci].parcels++;
    ledger.used[ci].grams += o.weight_g;
    if (i == 999) BOOST_TEST(excluded(d, "yunda")->rule == "capacity");
  }
  BOOST_TEST(count["yunda"] == 300);  // cheapest and strong in 山东: until it runs out
  BOOST_TEST(ledger.used[yunda].parcels == 300);
  BOOST_TEST(count.size() >= 2u);
}

BOOST_AUTO_TEST_CASE(late_evening_cutoffs_leave_sf_then_nobody) {
  StationConfig cfg = demo();
  Router r(cfg);
  auto lanes = LaneAvailability::all_open(cfg);
  Order o = order_to("江苏", "南京");
  BOOST_TEST(r.route(facts(o), {}, lanes, at(20, 0)).courier == "sf");  // latest cutoff 20:30
  Decision d = r.route(facts(o), {}, lanes, at(21, 0));
  BOOST_TEST((d.exception == ExceptionKind::WaitNextWave));
  BOOST_TEST(d.lane == 28);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(properties)

BOOST_AUTO_TEST_CASE(deterministic) {
  StationConfig cfg = load_config_file(std::string(SORTD_SOURCE_DIR) + "/config/demo-station.toml");
  Router r1(cfg), r2(cfg);
  auto lanes = LaneAvailability::all_open(cfg);
  Order o = order_to("广东", "深圳");
  o.postcode = "518057";
  Decision a = r1.route(facts(o), {}, lanes, at(11, 0));
  for (int i = 0; i < 3; ++i) {
    Decision b = (i % 2 ? r1 : r2).route(facts(o), {}, lanes, at(11, 0));
    BOOST_TEST(a.courier == b.courier);
    BOOST_TEST(a.lane == b.lane);
    BOOST_TEST(a.reason == b.reason);
    BOOST_REQUIRE_EQUAL(a.ranked.size(), b.ranked.size());
    for (std::size_t k = 0; k < a.ranked.size(); ++k) {
      BOOST_TEST(a.ranked[k].courier == b.ranked[k].courier);
      BOOST_TEST(a.ranked[k].score == b.ranked[k].score);  // bit for bit
    }
    BOOST_REQUIRE_EQUAL(a.excluded.size(), b.excluded.size());
    for (std::size_t k = 0; k < a.excluded.size(); ++k)
      BOOST_TEST(a.excluded[k].reason == b.excluded[k].reason);
  }
}

// The rules restated plainly, to check each decision against.
std::string rule_failing(const Courier& c, const Order& o, const ParcelFacts& p,
                         const CapacityUse& used, int minute, bool hold) {
  auto prov = [](std::string s) {
    for (const char* suf :
         {"特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"}) {
      std::string t(suf);
      if (s.size() > t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0)
        return s.substr(0, s.size() - t.size());
    }
    return s;
  };
  std::string pv = prov(o.province);
  bool known = std::find(regions::kProvinces.begin(), regions::kProvinces.end(), pv) !=
               regions::kProvinces.end();  // not a province: nobody delivers there
  std::string city = o.city;
  if (city.size() > 6 && city.compare(city.size() - 3, 3, "市") == 0) city.resize(city.size() - 3);
  if (std::find(o.forbidden.begin(), o.forbidden.end(), c.id) != o.forbidden.end())
    return "forbidden";
  bool served = known && (c.serves.empty() ||
                          std::find(c.serves.begin(), c.serves.end(), pv) != c.serves.end());
  for (const auto& e : c.excludes)
    if (e == pv || e == pv + "/" + city) served = false;
  if (!served) return "region";
  if (c.max_weight_g && p.weight_g > c.max_weight_g) return "weight";
  int longest = std::max({p.length_mm, p.width_mm, p.height_mm});
  if (c.max_side_mm && longest > c.max_side_mm) return "size";
  if (c.max_girth_mm && p.length_mm + p.width_mm + p.height_mm > c.max_girth_mm) return "size";
  if (o.cod_fen > 0 && !c.cod) return "cod";
  if (o.cod_fen > 0 && c.cod_limit_fen && o.cod_fen > c.cod_limit_fen) return "cod_limit";
  if (o.invoice && !c.invoice) return "invoice";
  bool svc = o.service == ServiceLevel::Standard  ? c.standard
             : o.service == ServiceLevel::Express ? c.express
                                                  : c.same_day;
  if (!svc) return "service";
  if (o.pickup_point && !c.pickup_point) return "pickup_point";
  if (o.fragile && !c.fragile) return "fragile";
  if (c.daily_parcels && used.parcels >= c.daily_parcels) return "capacity";
  if (c.daily_kg && used.grams + p.weight_g > std::int64_t(c.daily_kg) * 1000) return "capacity_kg";
  if (!hold && minute >= c.cutoff_min) return "cutoff";
  return "";
}

BOOST_AUTO_TEST_CASE(random_parcels_obey_the_rules) {
  StationConfig cfg = load_config_file(std::string(SORTD_SOURCE_DIR) + "/config/demo-station.toml");
  std::mt19937_64 rng(20240611);
  const std::vector<std::pair<std::string, std::string>> places{{"浙江省", "杭州市"},
                                                                {"浙江", "宁波"},
                                                                {"上海市", "上海市"},
                                                                {"江苏省", "南京市"},
                                                                {"江苏", "宿迁"},
                                                                {"广东省", "深圳市"},
                                                                {"广东", "广州"},
                                                                {"北京市", "北京市"},
                                                                {"天津", "天津"},
                                                                {"河北省", "石家庄市"},
                                                                {"山东省", "济南市"},
                                                                {"四川省", "成都市"},
                                                                {"四川省", "甘孜藏族自治州"},
                                                                {"西藏自治区", "拉萨市"},
                                                                {"新疆维吾尔自治区", "喀什地区"},
                                                                {"青海", "西宁"},
                                                                {"广西壮族自治区", "南宁市"},
                                                                {"云南", "昆明"},
                                                                {"内蒙古自治区", "呼和浩特市"},
                                                                {"台湾", "台北"},
                                                                {"香港特别行政区", "香港"},
                                                                {"黑龙江省", "哈尔滨市"},
                                                                {"火星", "基地"}};
  const std::vector<std::string> ids{"sf", "jd", "zto", "yto", "yunda", "ems", "jt", "nobody"};
  auto pick = [&](auto lo, auto hi) {
    return std::uniform_int_distribution<long long>(lo, hi)(rng);
  };
  std::map<std::string, int> outcomes;
  for (int policy = 0; policy < 2; ++policy) {
    cfg.policies.cutoff = policy ? CutoffPolicy::Hold : CutoffPolicy::NextCourier;
    Router r(cfg);
    for (int n = 0; n < 2500; ++n) {
      Order o;
      o.id = "P" + std::to_string(n);
      auto& pl = places[std::size_t(pick(0, long(places.size()) - 1))];
      o.province = pl.first;
      o.city = pl.second;
      if (pick(0, 4) == 0) o.postcode = std::to_string(pick(100000, 859999));
      o.weight_g = int(pick(50, pick(0, 9) == 0 ? 60'000 : 6'000));
      o.length_mm = int(pick(50, pick(0, 9) == 0 ? 1700 : 600));
      o.width_mm = int(pick(30, 400));
      o.height_mm = int(pick(10, 300));
      o.cod_fen = pick(0, 2) == 0 ? pick(100, 1'500'000) : 0;
      o.invoice = pick(0, 4) == 0;
      o.service = ServiceLevel(pick(0, 9) < 7 ? 0 : pick(1, 2));
      o.pickup_point = pick(0, 5) == 0;
      o.fragile = pick(0, 5) == 0;
      if (pick(0, 6) == 0) o.preferred = {ids[std::size_t(pick(0, 7))]};
      if (pick(0, 6) == 0) o.forbidden = {ids[std::size_t(pick(0, 7))]};
      ParcelFacts p = facts(o);
      CapacityLedger ledger;
      for (const Courier& c : cfg.couriers)
        ledger.used.push_back(CapacityUse{
            c.daily_parcels ? int(pick(0, c.daily_parcels + 5)) : int(pick(0, 5000)),
            c.daily_kg ? pick(0, std::int64_t(c.daily_kg) * 1000) : pick(0, 1'000'000)});
      if (pick(0, 3) == 0) ledger.used.resize(std::size_t(pick(0, 3)));
      LaneAvailability lanes = LaneAvailability::all_open(cfg);
      for (std::size_t i = 0; i < lanes.enabled.size(); ++i) {
        if (pick(0, 9) == 0) lanes.enabled[i] = 0;
        if (pick(0, 6) == 0) lanes.full[i] = 1;
      }
      TimeMs now = at(int(pick(6, 22)), int(pick(0, 59)));
      int minute = local_minute(now, cfg.policies.utc_offset_min);
      Decision d = r.route(p, ledger, lanes, now);
      ++outcomes[d.exception == ExceptionKind::None ? d.courier : to_string(d.exception)];

      BOOST_TEST_CONTEXT("parcel " << n << " policy " << policy << " to " << o.province) {
        // Every courier is accounted for: ranked (eligible) or excluded with a reason; a ranked
        // courier without a usable lane is also excluded as no_lane.
        std::set<std::string> seen;
        for (const auto& e : d.excluded) {
          BOOST_TEST(!e.reason.empty());
          BOOST_TEST(!e.rule.empty());
          const Courier* c = cfg.courier(e.courier);
          BOOST_REQUIRE(c);
          std::size_t ci = std::size_t(c - cfg.couriers.data());
          CapacityUse used = ci < ledger.used.size() ? ledger.used[ci] : CapacityUse{};
          std::string fails = rule_failing(*c, o, p, used, minute, policy == 1);
          if (e.rule == "no_lane") {
            BOOST_TEST(fails.empty());
            BOOST_REQUIRE(ranked(d, e.courier));
            BOOST_TEST(ranked(d, e.courier)->lane == 0);
          } else {
            BOOST_TEST(fails == e.rule, e.courier << ": " << e.reason);
            BOOST_TEST(!ranked(d, e.courier));
            BOOST_TEST(seen.insert(e.courier).second);
          }
        }
        for (const auto& c : d.ranked) {
          BOOST_TEST(seen.insert(c.courier).second);
          const Courier* cc = cfg.courier(c.courier);
          std::size_t ci = std::size_t(cc - cfg.couriers.data());
          CapacityUse used = ci < ledger.used.size() ? ledger.used[ci] : CapacityUse{};
          BOOST_TEST(rule_failing(*cc, o, p, used, minute, policy == 1).empty(), c.courier);
        }
        BOOST_TEST(seen.size() == cfg.couriers.size());
        // Ranked best first, scores as documented, price factor relative to the cheapest.
        const RankWeights& w = cfg.policies.weights;
        Fen cheapest = -1;
        for (const auto& c : d.ranked)
          if (cheapest < 0 || c.price_fen < cheapest) cheapest = c.price_fen;
        for (std::size_t k = 0; k < d.ranked.size(); ++k) {
          const Candidate& c = d.ranked[k];
          if (k) BOOST_TEST(d.ranked[k - 1].score >= c.score);
          BOOST_TEST(c.score == w.capacity * c.f_capacity + w.region * c.f_region +
                                    w.price * c.f_price + w.cutoff * c.f_cutoff +
                                    w.preferred * c.f_preferred,
                     boost::test_tools::tolerance(1e-9));
          BOOST_TEST(c.f_price == double(cheapest) / double(c.price_fen),
                     boost::test_tools::tolerance(1e-9));
          BOOST_TEST(r.price(*cfg.courier(c.courier), p) == c.price_fen);
        }
        const Candidate* first_with_lane = nullptr;
        for (const auto& c : d.ranked)
          if (c.lane) {
            first_with_lane = &c;
            break;
          }
        if (d.exception == ExceptionKind::None) {
          // The chosen courier: eligible, not forbidden, first among those with a usable lane.
          BOOST_REQUIRE(first_with_lane);
          BOOST_TEST(d.courier == first_with_lane->courier);
          BOOST_TEST(
              (std::find(o.forbidden.begin(), o.forbidden.end(), d.courier) == o.forbidden.end()));
          const Lane* l = cfg.lane(d.lane);
          BOOST_REQUIRE(l);
          BOOST_TEST(l->chute == d.chute);
          BOOST_TEST(lanes.usable(std::size_t(l - cfg.lanes.data())));
          BOOST_TEST(
              (l->courier == d.courier || (l->kind == LaneKind::Overflow && l->courier.empty())));
          if (l->kind == LaneKind::Overflow) BOOST_TEST(d.overflow);
          if (policy == 1) BOOST_TEST(minute < cfg.courier(d.courier)->cutoff_min);
        } else {
          BOOST_TEST(d.courier.empty());
          BOOST_TEST(!d.reason.empty());
          BOOST_TEST((d.exception == ExceptionKind::NoEligibleCourier ||
                      d.exception == ExceptionKind::WaitNextWave));
          if (policy == 1 && d.exception == ExceptionKind::WaitNextWave) {
            // hold: the best courier with a lane has passed its cutoff
            BOOST_REQUIRE(first_with_lane);
            BOOST_TEST(minute >= cfg.courier(first_with_lane->courier)->cutoff_min);
          } else {
            BOOST_TEST(!first_with_lane);
          }
          BOOST_TEST(d.lane == r.exception_lane(d.exception, lanes));
          if (d.lane) {
            const Lane* l = cfg.lane(d.lane);
            BOOST_TEST((l->kind == LaneKind::Exception));
            BOOST_TEST(l->chute == d.chute);
          }
        }
      }
    }
  }
  // The random mix reached every outcome worth reaching.
  for (const auto& [what, n] : outcomes) BOOST_TEST_MESSAGE(what << ": " << n);
  BOOST_TEST(outcomes.count("no_eligible_courier") == 1u);
  BOOST_TEST(outcomes.count("wait_next_wave") == 1u);
  BOOST_TEST(outcomes.size() >= 8u);
}

BOOST_AUTO_TEST_SUITE_END()
