// sortd: routing. See routing.h and docs/routing.md.
//
// Router's constructor turns the configuration into flat indexes (province ids, interned city
// ids, per-courier zone tables, strengths by kind, lanes per courier, overflow targets,
// exception lanes by kind) so that route() does no map lookups beyond interning the parcel's
// province and city once.
#include "routing.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <numeric>
#include <string_view>
#include <unordered_map>

#include "routing_regions.h"

namespace sortd {

LaneAvailability LaneAvailability::all_open(const StationConfig& cfg) {
  LaneAvailability a;
  a.enabled.resize(cfg.lanes.size());
  a.full.assign(cfg.lanes.size(), 0);
  for (std::size_t i = 0; i < cfg.lanes.size(); ++i) a.enabled[i] = cfg.lanes[i].enabled ? 1 : 0;
  return a;
}

namespace {

constexpr int kUnknownProvince = regions::kProvinceCount;  // slot for "not a province"
constexpr int kProvSlots = regions::kProvinceCount + 1;

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using NameMap = std::unordered_map<std::string, int, StringHash, std::equal_to<>>;

struct Place {
  int prov = kUnknownProvince;
  int city = -1;  // -1: whole province (in a region) / unknown city (for a parcel)
};

struct CityScore {
  int prov;  // -1 = any province
  int city;
  double score = 0;
};

struct CourierLane {
  int index;                  // in cfg.lanes
  std::vector<Place> places;  // empty = the rest
};

struct CourierIx {
  std::array<bool, kProvSlots> served{};
  std::array<bool, kProvSlots> excluded{};
  std::vector<Place> excluded_cities;
  std::array<int, kProvSlots> zone{};           // index into Courier::zones; -1 = none
  std::array<double, kProvSlots> prov_score{};  // -1 = no province entry
  std::vector<CityScore> city_scores;
  std::vector<std::pair<std::string, double>> postcodes;  // longest first
  double any_score = -1;
  std::vector<CourierLane> lanes;
};

bool usable(const LaneAvailability& a, int i) {
  auto u = static_cast<std::size_t>(i);
  return i >= 0 && u < a.enabled.size() && a.enabled[u] && (u >= a.full.size() || !a.full[u]);
}

// Number formatting for reasons, without printf (route() formats a few dozen per call).
void put_int(std::string& s, long long v) {
  char b[24];
  auto r = std::to_chars(b, b + sizeof b, v);
  s.append(b, r.ptr);
}
// `v` in units of 1/10^digits, printed exactly, trailing zeros dropped: 5200 g -> "5.2".
void put_decimal(std::string& s, long long v, int digits, bool keep_zeros = false) {
  long long scale = 1;
  for (int i = 0; i < digits; ++i) scale *= 10;
  if (v < 0) s += '-', v = -v;
  put_int(s, v / scale);
  long long frac = v % scale;
  if (frac == 0 && !keep_zeros) return;
  char b[8];
  for (int i = digits - 1; i >= 0; --i) b[i] = char('0' + frac % 10), frac /= 10;
  int n = digits;
  if (!keep_zeros)
    while (n > 0 && b[n - 1] == '0') --n;
  s += '.';
  s.append(b, std::size_t(n));
}
// Typed pieces of a reason, appended in place: say(s, "weight ", Kg{5200}, " over") etc.
struct Kg {
  std::int64_t g;
};
struct Cm {
  std::int64_t mm;
};
struct Yuan {
  Fen fen;
};
struct Num {
  long long v;
};
struct HhMm {
  int minutes;
};
inline void put(std::string& s, std::string_view v) {
  s.append(v);
}
inline void put(std::string& s, Kg v) {
  put_decimal(s, v.g, 3), s += " kg";
}
inline void put(std::string& s, Cm v) {
  put_decimal(s, v.mm, 1), s += " cm";
}
inline void put(std::string& s, Yuan v) {
  put_decimal(s, v.fen, 2, true), s += " yuan";
}
inline void put(std::string& s, Num v) {
  put_int(s, v.v);
}
inline void put(std::string& s, HhMm v) {
  s += char('0' + v.minutes / 600), s += char('0' + v.minutes / 60 % 10), s += ':';
  s += char('0' + v.minutes % 60 / 10), s += char('0' + v.minutes % 10);
}
template <typename... P>
void say(std::string& s, const P&... parts) {
  (put(s, parts), ...);
}

std::string hhmm(int minutes) {
  std::string s(5, ':');
  s[0] = char('0' + minutes / 600), s[1] = char('0' + minutes / 60 % 10);
  s[3] = char('0' + minutes % 60 / 10), s[4] = char('0' + minutes % 10);
  return s;
}

}  // namespace

struct Router::Impl {
  NameMap provinces;  // short and full names -> id
  NameMap cities;     // short city name -> interned id
  NameMap courier_ix;
  std::vector<CourierIx> couriers;
  std::vector<int> overflow;  // per lane: index of its overflow lane, -1 none
  std::array<std::vector<int>, 13> exception_lanes;  // per kind: candidates, best first

  int province_of(std::string_view s) const {
    if (s.empty()) return kUnknownProvince;
    if (auto it = provinces.find(s); it != provinces.end()) return it->second;
    int id = regions::province_id(s);
    return id < 0 ? kUnknownProvince : id;
  }
  int city_of(std::string_view s) const {
    if (s.empty()) return -1;
    if (auto it = cities.find(s); it != cities.end()) return it->second;
    auto short_name = regions::city_short(s);
    if (auto it = cities.find(short_name); it != cities.end()) return it->second;
    return -1;
  }
  int intern_city(std::string_view s) {
    auto short_name = std::string(regions::city_short(s));
    auto [it, fresh] = cities.emplace(short_name, static_cast<int>(cities.size()));
    return it->second;
  }
  // "province" or "province/city" from the (checked) configuration.
  Place place(std::string_view region) {
    Place p;
    auto slash = region.find('/');
    int id = regions::province_id(region.substr(0, slash));
    p.prov = id < 0 ? kUnknownProvince : id;
    if (slash != std::string_view::npos) p.city = intern_city(region.substr(slash + 1));
    return p;
  }
};

Router::Router(const StationConfig& cfg) : cfg_(cfg) {
  auto impl = std::make_shared<Impl>();
  for (int i = 0; i < regions::kProvinceCount; ++i) {
    std::string s(regions::kProvinces[std::size_t(i)]);
    impl->provinces.emplace(s, i);
    // Common full forms, so that a parcel's "浙江省" is one hash lookup.
    for (const char* suf : {"省", "市", "自治区"}) impl->provinces.emplace(s + suf, i);
  }
  impl->provinces.emplace("内蒙古自治区", 4);
  impl->provinces.emplace("广西壮族自治区", 19);
  impl->provinces.emplace("宁夏回族自治区", 29);
  impl->provinces.emplace("新疆维吾尔自治区", 30);
  impl->provinces.emplace("香港特别行政区", 32);
  impl->provinces.emplace("澳门特别行政区", 33);

  for (std::size_t ci = 0; ci < cfg.couriers.size(); ++ci) {
    const Courier& c = cfg.couriers[ci];
    impl->courier_ix.emplace(c.id, static_cast<int>(ci));
    CourierIx x;
    x.served.fill(c.serves.empty());
    x.served[kUnknownProvince] = false;  // not a province: an address to check, not to ship
    for (const auto& s : c.serves) {
      int id = impl->province_of(s);
      if (id != kUnknownProvince) x.served[std::size_t(id)] = true;
    }
    for (const auto& e : c.excludes) {
      Place p = impl->place(e);
      if (p.city < 0)
        x.excluded[std::size_t(p.prov)] = true;
      else
        x.excluded_cities.push_back(p);
    }
    int star = -1;
    std::unordered_map<std::string, int> zone_index;
    for (std::size_t z = 0; z < c.zones.size(); ++z) zone_index.emplace(c.zones[z].zone, int(z));
    if (auto it = c.zone_of.find("*"); it != c.zone_of.end())
      if (auto zi = zone_index.find(it->second); zi != zone_index.end()) star = zi->second;
    x.zone.fill(star);
    for (const auto& [prov, zone] : c.zone_of) {
      if (prov == "*") continue;
      int id = impl->province_of(prov);
      auto zi = zone_index.find(zone);
      if (id != kUnknownProvince && zi != zone_index.end()) x.zone[std::size_t(id)] = zi->second;
    }
    x.prov_score.fill(-1);
    for (const auto& s : c.strengths) {
      if (!s.postcode_prefix.empty()) {
        x.postcodes.emplace_back(s.postcode_prefix, s.score);
      } else if (!s.city.empty()) {
        int prov = s.province.empty() ? -1 : impl->province_of(s.province);
        x.city_scores.push_back({prov, impl->intern_city(s.city), s.score});
      } else if (!s.province.empty()) {
        auto& slot = x.prov_score[std::size_t(impl->province_of(s.province))];
        slot = std::max(slot, s.score);
      } else {
        x.any_score = std::max(x.any_score, s.score);
      }
    }
    std::stable_sort(x.postcodes.begin(), x.postcodes.end(),
                     [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
    impl->couriers.push_back(std::move(x));
  }

  std::unordered_map<int, int> lane_index;
  for (std::size_t li = 0; li < cfg.lanes.size(); ++li)
    lane_index.emplace(cfg.lanes[li].id, static_cast<int>(li));
  impl->overflow.assign(cfg.lanes.size(), -1);
  for (std::size_t li = 0; li < cfg.lanes.size(); ++li) {
    const Lane& l = cfg.lanes[li];
    if (l.overflow != 0)
      if (auto it = lane_index.find(l.overflow); it != lane_index.end())
        impl->overflow[li] = it->second;
    if (l.kind == LaneKind::Courier) {
      auto it = impl->courier_ix.find(l.courier);
      if (it == impl->courier_ix.end()) continue;
      CourierLane cl{static_cast<int>(li), {}};
      for (const auto& r : l.regions) cl.places.push_back(impl->place(r));
      impl->couriers[std::size_t(it->second)].lanes.push_back(std::move(cl));
    }
  }
  // Exception lanes per kind: those that take it (config order), then catch-alls, then any
  // other exception lane as a last resort (so that a parcel always lands somewhere known).
  for (std::size_t k = 0; k < impl->exception_lanes.size(); ++k) {
    auto kind = static_cast<ExceptionKind>(k);
    auto& list = impl->exception_lanes[k];
    for (int pass = 0; pass < 3; ++pass)
      for (std::size_t li = 0; li < cfg.lanes.size(); ++li) {
        const Lane& l = cfg.lanes[li];
        if (l.kind != LaneKind::Exception) continue;
        bool takes = std::find(l.takes.begin(), l.takes.end(), kind) != l.takes.end();
        if ((pass == 0 && takes) || (pass == 1 && l.takes.empty()) ||
            (pass == 2 && !takes && !l.takes.empty()))
          list.push_back(static_cast<int>(li));
      }
  }
  impl_ = std::move(impl);
}

int Router::exception_lane(ExceptionKind kind, const LaneAvailability& lanes) const {
  auto k = static_cast<std::size_t>(kind);
  if (k >= impl_->exception_lanes.size()) return 0;
  for (int li : impl_->exception_lanes[k])
    if (usable(lanes, li)) return cfg_.lanes[std::size_t(li)].id;
  return 0;
}

namespace {

std::int32_t billable_weight(const Courier& c, const ParcelFacts& p) {
  std::int64_t g = std::max<std::int32_t>(p.weight_g, 0);
  if (c.volumetric_divisor > 0 && p.length_mm > 0 && p.width_mm > 0 && p.height_mm > 0) {
    // L×W×H in cm³ / divisor = kg, i.e. mm³ / divisor = g (rounded up to the gram).
    std::int64_t mm3 = std::int64_t(p.length_mm) * p.width_mm * p.height_mm;
    std::int64_t vol = (mm3 + c.volumetric_divisor - 1) / c.volumetric_divisor;
    g = std::max(g, vol);
  }
  return static_cast<std::int32_t>(std::min<std::int64_t>(g, INT32_MAX));
}

Fen rate_price(const ZoneRate& z, std::int32_t billable_g) {
  Fen price = z.first_fen;
  std::int64_t extra = std::int64_t(billable_g) - z.first_g;
  if (extra > 0 && z.step_g > 0) price += ((extra + z.step_g - 1) / z.step_g) * z.step_fen;
  return price;
}

}  // namespace

Fen Router::price(const Courier& c, const ParcelFacts& p, std::int32_t* billable_g) const {
  std::int32_t b = billable_weight(c, p);
  if (billable_g) *billable_g = b;
  if (c.pricing == Pricing::PerPiece) return c.piece_fen;
  int zone = -1;
  const auto& cs = cfg_.couriers;
  int prov = p.order ? impl_->province_of(p.order->province) : kUnknownProvince;
  if (!cs.empty() && &c >= cs.data() && &c < cs.data() + cs.size()) {
    // A courier of the configuration: its precomputed zone table.
    zone = impl_->couriers[std::size_t(&c - cs.data())].zone[std::size_t(prov)];
  } else {  // a courier from outside the configuration: look its zone up directly
    auto it = prov == kUnknownProvince
                  ? c.zone_of.end()
                  : c.zone_of.find(std::string(regions::kProvinces[std::size_t(prov)]));
    if (it == c.zone_of.end()) it = c.zone_of.find("*");
    if (it != c.zone_of.end())
      for (std::size_t z = 0; z < c.zones.size(); ++z)
        if (c.zones[z].zone == it->second) zone = int(z);
  }
  if (zone < 0 || std::size_t(zone) >= c.zones.size()) return -1;
  return rate_price(c.zones[std::size_t(zone)], b);
}

namespace {

struct Work {
  int ci = 0;
  Candidate cand;
  bool past_cutoff = false;
  int lane = -1;  // index
  bool overflow = false;
  std::string lane_reason;
};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v)
    if (x == s) return true;
  return false;
}

std::string who(const Courier& c) {
  return c.name.empty() || c.name == c.id ? c.id : c.name + " (" + c.id + ")";
}

const char* lane_state(const LaneAvailability& a, int i) {
  auto u = static_cast<std::size_t>(i);
  if (u >= a.enabled.size()) return "unavailable";
  if (!a.enabled[u]) return "disabled";
  return "full";
}

}  // namespace

Decision Router::route(const ParcelFacts& parcel, const CapacityLedger& ledger,
                       const LaneAvailability& lanes, TimeMs now) const {
  const Impl& ix = *impl_;
  const StationConfig& cfg = cfg_;
  const RankWeights& w = cfg.policies.weights;
  const bool hold = cfg.policies.cutoff == CutoffPolicy::Hold;
  Decision d;
  static const Order kNoOrder{};
  const Order& o = parcel.order ? *parcel.order : kNoOrder;

  Place at{ix.province_of(o.province), ix.city_of(o.city)};
  const std::string& prov_name = o.province;
  const std::int32_t minute = local_minute(now, cfg.policies.utc_offset_min);
  const std::int32_t longest = std::max({parcel.length_mm, parcel.width_mm, parcel.height_mm});
  const std::int64_t girth =
      std::int64_t(parcel.length_mm) + parcel.width_mm + std::int64_t(parcel.height_mm);

  std::vector<Work> work;
  work.reserve(cfg.couriers.size());
  d.excluded.reserve(cfg.couriers.size());
  auto exclude = [&](const Courier& c, const char* rule, std::string reason) {
    d.excluded.push_back(Exclusion{c.id, rule, std::move(reason)});
  };

  // 1. Eligibility: the first rule a courier fails is its reason.
  for (std::size_t ci = 0; ci < cfg.couriers.size(); ++ci) {
    const Courier& c = cfg.couriers[ci];
    const CourierIx& x = ix.couriers[ci];
    auto out = [&](const char* rule, const auto&... parts) {
      Exclusion& e = d.excluded.emplace_back();
      e.courier = c.id;
      e.rule = rule;
      e.reason.reserve(56);
      say(e.reason, parts...);
    };
    if (contains(o.forbidden, c.id)) {
      out("forbidden", "the order forbids this courier");
      continue;
    }
    bool region_ok = x.served[std::size_t(at.prov)] && !x.excluded[std::size_t(at.prov)];
    if (region_ok && at.city >= 0)
      for (const Place& p : x.excluded_cities)
        if (p.city == at.city && p.prov == at.prov) region_ok = false;
    if (!region_ok) {
      if (at.prov == kUnknownProvince && prov_name.empty())
        out("region", "the address has no province");
      else if (at.prov == kUnknownProvince)
        out("region", "'", prov_name, "' is not a province");
      else if (x.served[std::size_t(at.prov)] && !x.excluded[std::size_t(at.prov)])
        out("region", "does not deliver to ", prov_name, "/", o.city);
      else
        out("region", "does not deliver to ", prov_name);
      continue;
    }
    if (c.max_weight_g > 0 && parcel.weight_g > c.max_weight_g) {
      out("weight", "weight ", Kg{parcel.weight_g}, " over its limit of ", Kg{c.max_weight_g});
      continue;
    }
    if (c.max_side_mm > 0 && longest > c.max_side_mm) {
      out("size", "longest side ", Cm{longest}, " over its limit of ", Cm{c.max_side_mm});
      continue;
    }
    if (c.max_girth_mm > 0 && girth > c.max_girth_mm) {
      out("size", "L+W+H ", Cm{girth}, " over its limit of ", Cm{c.max_girth_mm});
      continue;
    }
    if (o.cod_fen > 0 && !c.cod) {
      out("cod", "no cash on delivery");
      continue;
    }
    if (o.cod_fen > 0 && c.cod_limit_fen > 0 && o.cod_fen > c.cod_limit_fen) {
      out("cod_limit", "COD ", Yuan{o.cod_fen}, " over its limit of ", Yuan{c.cod_limit_fen});
      continue;
    }
    if (o.invoice && !c.invoice) {
      out("invoice", "does not carry an invoice");
      continue;
    }
    bool service_ok = o.service == ServiceLevel::Standard  ? c.standard
                      : o.service == ServiceLevel::Express ? c.express
                                                           : c.same_day;
    if (!service_ok) {
      out("service", "no ", to_string(o.service), " service");
      continue;
    }
    if (o.pickup_point && !c.pickup_point) {
      out("pickup_point", "does not deliver to pickup points or lockers");
      continue;
    }
    if (o.fragile && !c.fragile) {
      out("fragile", "does not take fragile parcels");
      continue;
    }
    CapacityUse used = ci < ledger.used.size() ? ledger.used[ci] : CapacityUse{};
    if (c.daily_parcels > 0 && used.parcels >= c.daily_parcels) {
      out("capacity", "daily capacity used up (", Num{used.parcels}, " of ", Num{c.daily_parcels},
          " parcels)");
      continue;
    }
    const std::int64_t cap_g = std::int64_t(c.daily_kg) * 1000;
    if (c.daily_kg > 0 && used.grams + std::max(parcel.weight_g, 0) > cap_g) {
      out("capacity_kg", "daily weight capacity used up (", Kg{used.grams}, " of ", Kg{cap_g},
          " used, this parcel ", Kg{parcel.weight_g}, ")");
      continue;
    }
    bool past = minute >= c.cutoff_min;
    if (past && !hold) {
      out("cutoff", "cutoff ", HhMm{c.cutoff_min}, " has passed (now ", HhMm{minute}, ")");
      continue;
    }
    Work wk;
    wk.ci = static_cast<int>(ci);
    wk.past_cutoff = past;
    Candidate& cd = wk.cand;
    cd.billable_g = billable_weight(c, parcel);
    if (c.pricing == Pricing::PerPiece) {
      cd.price_fen = c.piece_fen;
    } else {
      int zone = x.zone[std::size_t(at.prov)];
      cd.price_fen = zone < 0 || std::size_t(zone) >= c.zones.size()
                         ? -1
                         : rate_price(c.zones[std::size_t(zone)], cd.billable_g);
    }
    if (cd.price_fen < 0) {
      exclude(c, "region", "no price zone for " + prov_name);
      continue;
    }
    cd.courier = c.id;
    // Factors.
    double f_cap = 1.0;
    if (c.daily_parcels > 0)
      f_cap = std::min(f_cap, double(c.daily_parcels - used.parcels) / c.daily_parcels);
    if (c.daily_kg > 0) f_cap = std::min(f_cap, double(cap_g - used.grams) / double(cap_g));
    cd.f_capacity = std::clamp(f_cap, 0.0, 1.0);
    double region = -1;
    if (!o.postcode.empty())
      for (const auto& [prefix, score] : x.postcodes)
        if (o.postcode.compare(0, prefix.size(), prefix) == 0) {
          region = score;
          break;  // longest prefix first
        }
    if (region < 0 && at.city >= 0)
      for (const CityScore& cs : x.city_scores)
        if (cs.city == at.city && (cs.prov < 0 || cs.prov == at.prov))
          region = std::max(region, cs.score);
    if (region < 0) region = x.prov_score[std::size_t(at.prov)];
    if (region < 0) region = x.any_score;
    cd.f_region = std::clamp(region, 0.0, 1.0);
    int left = c.cutoff_min - minute;
    cd.f_cutoff =
        past ? 0.0 : std::clamp(double(left) / double(std::max(w.cutoff_horizon_min, 1)), 0.0, 1.0);
    cd.f_preferred = contains(o.preferred, c.id) ? 1.0 : 0.0;
    work.push_back(std::move(wk));
  }

  // 2. Rank.
  Fen min_price = -1;
  for (const Work& wk : work)
    if (min_price < 0 || wk.cand.price_fen < min_price) min_price = wk.cand.price_fen;
  for (Work& wk : work) {
    Candidate& cd = wk.cand;
    cd.f_price = cd.price_fen <= 0 ? 1.0 : double(min_price) / double(cd.price_fen);
    cd.score = w.capacity * cd.f_capacity + w.region * cd.f_region + w.price * cd.f_price +
               w.cutoff * cd.f_cutoff + w.preferred * cd.f_preferred;
  }
  // Best first; equal scores keep configuration order (work is in configuration order).
  std::vector<std::uint16_t> order(work.size());
  std::iota(order.begin(), order.end(), std::uint16_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::uint16_t a, std::uint16_t b) {
    return work[a].cand.score > work[b].cand.score;
  });

  // 3. Lanes: the courier's most specific lane for the destination, else its overflow chain.
  for (Work& wk : work) {
    const CourierIx& x = ix.couriers[std::size_t(wk.ci)];
    // 2: a "province/city" region matches, 1: a "province" region, 0: a lane with no regions.
    auto spec_of = [&](const CourierLane& cl) {
      int spec = cl.places.empty() ? 0 : -1;
      for (const Place& p : cl.places)
        if (p.prov == at.prov) {
          if (p.city < 0)
            spec = std::max(spec, 1);
          else if (p.city == at.city)
            spec = 2;
        }
      return spec;
    };
    int best_spec = -1;
    for (const CourierLane& cl : x.lanes) best_spec = std::max(best_spec, spec_of(cl));
    if (best_spec < 0) {
      wk.lane_reason = x.lanes.empty() ? "has no lane" : "has no lane for " + prov_name;
      continue;
    }
    for (const CourierLane& cl : x.lanes)
      if (spec_of(cl) == best_spec && usable(lanes, cl.index)) {
        wk.lane = cl.index;
        break;
      }
    if (wk.lane >= 0) continue;
    std::string why;
    for (const CourierLane& cl : x.lanes) {
      if (spec_of(cl) != best_spec) continue;
      if (!why.empty()) why += ", ";
      why += "lane " + std::to_string(cfg.lanes[std::size_t(cl.index)].id) + " " +
             lane_state(lanes, cl.index);
      int of = ix.overflow[std::size_t(cl.index)];
      for (std::size_t steps = 0; of >= 0 && steps < cfg.lanes.size(); ++steps) {
        if (usable(lanes, of)) {
          wk.lane = of;
          wk.overflow = true;
          break;
        }
        why += ", overflow lane " + std::to_string(cfg.lanes[std::size_t(of)].id) + " " +
               lane_state(lanes, of);
        of = ix.overflow[std::size_t(of)];
      }
      if (wk.lane >= 0) break;
    }
    if (wk.lane >= 0)
      wk.lane_reason =
          why + ": overflow lane " + std::to_string(cfg.lanes[std::size_t(wk.lane)].id);
    else
      wk.lane_reason = why + (why.find("overflow") == std::string::npos ? ", no overflow" : "");
  }

  // 4. Pick the first ranked courier with a usable lane.
  const Work* chosen = nullptr;
  std::string skipped;
  d.ranked.reserve(work.size());
  for (std::uint16_t oi : order) {
    Work& wk = work[oi];
    wk.cand.lane = wk.lane >= 0 ? cfg.lanes[std::size_t(wk.lane)].id : 0;
    wk.cand.overflow = wk.overflow;
    if (wk.lane < 0) {
      const Courier& c = cfg.couriers[std::size_t(wk.ci)];
      exclude(c, "no_lane", "no usable lane: " + wk.lane_reason);
      if (!chosen) skipped += (skipped.empty() ? "" : "; ") + c.id + ": " + wk.lane_reason;
    } else if (!chosen) {
      chosen = &wk;
    }
  }
  for (std::uint16_t oi : order) d.ranked.push_back(std::move(work[oi].cand));

  auto to_exception = [&](ExceptionKind k, std::string reason) {
    d.exception = k;
    d.courier.clear();
    d.overflow = false;
    d.lane = exception_lane(k, lanes);
    const Lane* l = d.lane ? cfg.lane(d.lane) : nullptr;
    d.chute = l ? l->chute : 0;
    d.reason = std::move(reason);
    if (!d.lane) d.reason += " (no usable exception lane)";
  };

  if (chosen) {
    const Courier& c = cfg.couriers[std::size_t(chosen->ci)];
    if (hold && chosen->past_cutoff) {
      to_exception(ExceptionKind::WaitNextWave, "held for tomorrow's wave: best courier " + who(c) +
                                                    " has passed its cutoff " + hhmm(c.cutoff_min) +
                                                    " (now " + hhmm(minute) + ")");
      return d;
    }
    const Lane& l = cfg.lanes[std::size_t(chosen->lane)];
    d.courier = c.id;
    d.lane = l.id;
    d.chute = l.chute;
    d.overflow = chosen->overflow;
    if (!skipped.empty()) d.reason = skipped + "; next courier " + c.id;
    if (chosen->overflow)
      d.reason += (d.reason.empty() ? "" : "; ") + c.id + ": " + chosen->lane_reason;
    return d;
  }

  // 5. Nobody: say why, briefly.
  bool cutoff_only = false;
  for (const Exclusion& e : d.excluded)
    if (e.rule == "cutoff") cutoff_only = true;
  std::string why;
  std::size_t n = 0;
  for (const Exclusion& e : d.excluded) {
    if (n == 6) {
      why += "; and " + std::to_string(d.excluded.size() - n) + " more";
      break;
    }
    why += (n++ ? "; " : "") + e.courier + ": " + e.reason;
  }
  if (cfg.couriers.empty()) why = "no couriers configured";
  if (cutoff_only)
    to_exception(ExceptionKind::WaitNextWave,
                 std::string(describe(ExceptionKind::WaitNextWave)) + " (" + why + ")");
  else
    to_exception(ExceptionKind::NoEligibleCourier,
                 std::string(describe(ExceptionKind::NoEligibleCourier)) + " (" + why + ")");
  return d;
}

}  // namespace sortd
