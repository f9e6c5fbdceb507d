// sortd: the station configuration file (TOML). See config.h and docs/configuration.md.
//
// The whole file is walked once; every problem becomes a ConfigIssue (file, line, column, dotted
// key, words for an operator) and parsing carries on, so that one run lists every mistake. Each
// table is read through a Section that remembers which keys were asked for: whatever is left in
// the table afterwards is an unknown key (a typo), reported with the nearest known key.
#include "config.h"

#include <toml++/toml.h>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "routing_regions.h"

namespace sortd {

std::string ConfigIssue::str() const {
  std::string s = file;
  if (line > 0) {
    s += ":" + std::to_string(line);
    if (column > 0) s += ":" + std::to_string(column);
  }
  s += ": ";
  if (!key.empty()) s += key + ": ";
  s += message;
  return s;
}

namespace {
std::string join_issues(const std::vector<ConfigIssue>& issues) {
  std::string s;
  if (issues.empty()) return "configuration error";
  s = std::to_string(issues.size()) + (issues.size() == 1 ? " problem" : " problems") +
      " in the station configuration:";
  for (const auto& i : issues) s += "\n  " + i.str();
  return s;
}
}  // namespace

ConfigError::ConfigError(std::vector<ConfigIssue> issues)
    : std::runtime_error(join_issues(issues)), issues_(std::move(issues)) {}

std::optional<std::int32_t> parse_time_of_day(std::string_view s) {
  s = regions::trim(s);
  auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 2 || s.size() != colon + 3)
    return std::nullopt;
  auto digits = [](std::string_view d, int& out) {
    out = 0;
    for (char c : d) {
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    return true;
  };
  int h = 0, m = 0;
  if (!digits(s.substr(0, colon), h) || !digits(s.substr(colon + 1), m)) return std::nullopt;
  if (m > 59) return std::nullopt;
  if (h > 24 || (h == 24 && m != 0)) return std::nullopt;
  return h * 60 + m;
}

namespace {

using regions::province_id;

const char* type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string fmt_num(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

struct Ctx {
  std::string file;
  std::vector<ConfigIssue> issues;

  void add(const toml::source_region& r, std::string key, std::string msg) {
    issues.push_back(ConfigIssue{file, static_cast<int>(r.begin.line),
                                 static_cast<int>(r.begin.column), std::move(key), std::move(msg)});
  }
  void add(int line, int column, std::string key, std::string msg) {
    issues.push_back(ConfigIssue{file, line, column, std::move(key), std::move(msg)});
  }
};

// One TOML table being read. Every getter marks its key as known, whether or not it is present;
// finish() then reports the keys nobody asked for.
class Section {
 public:
  Section(Ctx& ctx, const toml::table& t, std::string path)
      : ctx_(ctx), t_(t), path_(std::move(path)) {}
  Section(const Section&) = delete;
  Section& operator=(const Section&) = delete;

  std::string key(std::string_view k) const {
    return path_.empty() ? std::string(k) : path_ + "." + std::string(k);
  }
  const toml::table& table() const { return t_; }
  const toml::source_region& where() const { return t_.source(); }
  int line() const { return static_cast<int>(t_.source().begin.line); }

  // The node for `k`, or nullptr; marks `k` known.
  const toml::node* node(std::string_view k) {
    known_.insert(std::string(k));
    return t_.get(k);
  }
  bool has(std::string_view k) {
    known_.insert(std::string(k));
    return t_.contains(k);
  }

  void missing(std::string_view k, std::string_view what) {
    ctx_.add(where(), key(k), "missing (required: " + std::string(what) + ")");
  }
  void wrong(const toml::node& n, std::string_view k, std::string_view expected) {
    ctx_.add(n.source(), key(k),
             "expected " + std::string(expected) + ", got " + type_name(n.type()));
  }
  void problem(const toml::node& n, std::string_view k, std::string msg) {
    ctx_.add(n.source(), key(k), std::move(msg));
  }

  std::optional<std::string> str(std::string_view k, bool required = false) {
    const toml::node* n = node(k);
    if (!n) {
      if (required) missing(k, "a string");
      return std::nullopt;
    }
    if (auto* s = n->as_string()) return s->get();
    wrong(*n, k, "a string");
    return std::nullopt;
  }

  std::optional<std::int64_t> integer(std::string_view k, std::int64_t lo, std::int64_t hi,
                                      bool required = false) {
    const toml::node* n = node(k);
    if (!n) {
      if (required) missing(k, "an integer");
      return std::nullopt;
    }
    auto* i = n->as_integer();
    if (!i) {
      wrong(*n, k, "an integer");
      return std::nullopt;
    }
    std::int64_t v = i->get();
    if (v < lo || v > hi) {
      if (v < 0 && lo >= 0)
        problem(*n, k, "must not be negative (got " + std::to_string(v) + ")");
      else
        problem(*n, k,
                "out of range: " + std::to_string(v) + " is not within " + std::to_string(lo) +
                    ".." + std::to_string(hi));
      return std::nullopt;
    }
    return v;
  }

  std::optional<double> number(std::string_view k, double lo, double hi, bool required = false) {
    const toml::node* n = node(k);
    if (!n) {
      if (required) missing(k, "a number");
      return std::nullopt;
    }
    double v = 0;
    if (auto* i = n->as_integer())
      v = static_cast<double>(i->get());
    else if (auto* f = n->as_floating_point())
      v = f->get();
    else {
      wrong(*n, k, "a number");
      return std::nullopt;
    }
    if (!std::isfinite(v) || v < lo || v > hi) {
      if (v < 0 && lo >= 0)
        problem(*n, k, "must not be negative (got " + fmt_num(v) + ")");
      else
        problem(
            *n, k,
            "out of range: " + fmt_num(v) + " is not within " + fmt_num(lo) + ".." + fmt_num(hi));
      return std::nullopt;
    }
    return v;
  }

  // A decimal quantity in the file converted to an integer count of `scale` sub-units
  // (yuan -> fen: 100; kg -> g: 1000; cm -> mm: 10), refusing finer precision than that.
  std::optional<std::int64_t> scaled(std::string_view k, std::int64_t scale, double hi,
                                     const char* unit, const char* sub_unit,
                                     bool required = false) {
    const toml::node* n = t_.get(k);
    auto v = number(k, 0, hi, required);
    if (!v) return std::nullopt;
    double x = *v * static_cast<double>(scale);
    auto r = std::llround(x);
    if (std::fabs(x - static_cast<double>(r)) > 1e-6 * std::max(1.0, std::fabs(x))) {
      problem(*n, k,
              fmt_num(*v) + " " + unit + " is finer than one " + sub_unit + " (use at most " +
                  std::to_string(static_cast<int>(std::log10(scale))) + " decimals)");
      return std::nullopt;
    }
    return r;
  }
  std::optional<Fen> money(std::string_view k, bool required = false) {
    return scaled(k, 100, 1e9, "yuan", "fen", required);
  }
  std::optional<std::int32_t> grams(std::string_view k, double max_kg, bool required = false) {
    auto v = scaled(k, 1000, max_kg, "kg", "gram", required);
    if (!v) return std::nullopt;
    return static_cast<std::int32_t>(*v);
  }
  std::optional<std::int32_t> millimetres(std::string_view k, double max_cm) {
    auto v = scaled(k, 10, max_cm, "cm", "millimetre");
    if (!v) return std::nullopt;
    return static_cast<std::int32_t>(*v);
  }

  std::optional<bool> boolean(std::string_view k) {
    const toml::node* n = node(k);
    if (!n) return std::nullopt;
    if (auto* b = n->as_boolean()) return b->get();
    wrong(*n, k, "a boolean (true or false)");
    return std::nullopt;
  }

  // An array of strings: each element with its node for positions.
  std::optional<std::vector<std::pair<std::string, const toml::node*>>> strings(
      std::string_view k) {
    const toml::node* n = node(k);
    if (!n) return std::nullopt;
    auto* a = n->as_array();
    if (!a) {
      wrong(*n, k, "an array of strings");
      return std::nullopt;
    }
    std::vector<std::pair<std::string, const toml::node*>> out;
    bool ok = true;
    for (std::size_t i = 0; i < a->size(); ++i) {
      const toml::node& e = (*a)[i];
      if (auto* s = e.as_string())
        out.emplace_back(s->get(), &e);
      else {
        ctx_.add(e.source(), key(k) + "[" + std::to_string(i) + "]",
                 std::string("expected a string, got ") + type_name(e.type()));
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return out;
  }

  const toml::table* subtable(std::string_view k) {
    const toml::node* n = node(k);
    if (!n) return nullptr;
    if (auto* t = n->as_table()) return t;
    wrong(*n, k, "a table ([" + key(k) + "])");
    return nullptr;
  }

  // An array of tables ([[k]]); nullptr when absent or wrong.
  const toml::array* tables(std::string_view k) {
    const toml::node* n = node(k);
    if (!n) return nullptr;
    auto* a = n->as_array();
    bool ok = a != nullptr;
    if (a)
      for (auto& e : *a) ok = ok && e.is_table();
    if (!ok) {
      wrong(*n, k, "an array of tables ([[" + key(k) + "]])");
      return nullptr;
    }
    return a;
  }

  // Report every key of the table that no getter asked for.
  void finish() {
    for (auto&& [k, v] : t_) {
      std::string name(k.str());
      if (known_.count(name)) continue;
      std::string msg = "unknown key '" + name + "'";
      std::string best;
      std::size_t best_d = std::max<std::size_t>(2, name.size() / 3) + 1;
      for (const auto& cand : known_) {
        std::size_t d = edit_distance(name, cand);
        if (d < best_d) best_d = d, best = cand;
      }
      if (!best.empty())
        msg += " (did you mean '" + best + "'?)";
      else {
        msg += " (known keys here: ";
        bool first = true;
        for (const auto& cand : known_) msg += (first ? "" : ", ") + cand, first = false;
        msg += ")";
      }
      ctx_.add(k.source(), key(name), msg);
    }
  }

 private:
  Ctx& ctx_;
  const toml::table& t_;
  std::string path_;
  std::set<std::string> known_;
};

std::string list_of(const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) s += ", ";
    if (i == 12) {
      s += "... (" + std::to_string(names.size()) + " in all)";
      break;
    }
    s += names[i];
  }
  return s;
}

bool valid_id(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-'))
      return false;
  return true;
}

// "+08:00", "-05:30", "UTC", "Z" -> minutes east of UTC.
std::optional<std::int32_t> parse_utc_offset(std::string_view s) {
  if (s == "UTC" || s == "Z" || s == "+00:00" || s == "-00:00") return 0;
  if (s.size() != 6 || (s[0] != '+' && s[0] != '-')) return std::nullopt;
  auto t = parse_time_of_day(s.substr(1));
  if (!t || *t > 14 * 60) return std::nullopt;
  return s[0] == '-' ? -*t : *t;
}

std::string province_hint() {
  return "use a province such as 浙江, 广东, 北京, 新疆, 西藏";
}

// A region string "province" or "province/city", normalised to the short forms.
std::optional<std::string> normalise_region(std::string_view s, std::string* error) {
  auto slash = s.find('/');
  std::string_view prov = s.substr(0, slash);
  int id = province_id(prov);
  if (id < 0) {
    *error = "unknown province '" + std::string(prov) + "' (" + province_hint() + ")";
    return std::nullopt;
  }
  std::string out(regions::kProvinces[static_cast<std::size_t>(id)]);
  if (slash != std::string_view::npos) {
    std::string_view city = regions::city_short(s.substr(slash + 1));
    if (city.empty() || city.find('/') != std::string_view::npos) {
      *error = "'" + std::string(s) + "' is not \"province\" or \"province/city\"";
      return std::nullopt;
    }
    out += "/" + std::string(city);
  }
  return out;
}

// Where things were in the file, for the cross-checks done after every section is read.
struct LaneSrc {
  int line = 0;
  const toml::node* id = nullptr;
  const toml::node* chute = nullptr;
  const toml::node* courier = nullptr;
  const toml::node* overflow = nullptr;
  std::string path;
};

class Parser {
 public:
  Parser(Ctx& ctx, StationConfig& cfg) : ctx_(ctx), cfg_(cfg) {}

  void run(const toml::table& root) {
    Section s(ctx_, root, "");
    if (auto* t = s.subtable("station")) {
      station(*t);
    } else if (!s.has("station")) {
      ctx_.add(0, 0, "station", "missing [station] table (id, name, origin_province)");
    }
    if (auto* t = s.subtable("policies")) policies(*t);
    if (auto* a = s.tables("couriers")) {
      for (std::size_t i = 0; i < a->size(); ++i)
        courier(*(*a)[i].as_table(), "couriers[" + std::to_string(i) + "]");
    }
    if (!s.has("couriers") || cfg_.couriers.empty())
      ctx_.add(0, 0, "couriers", "no couriers: add at least one [[couriers]] section");
    if (auto* a = s.tables("lanes")) {
      for (std::size_t i = 0; i < a->size(); ++i)
        lane(*(*a)[i].as_table(), "lanes[" + std::to_string(i) + "]");
    }
    if (!s.has("lanes") || cfg_.lanes.empty())
      ctx_.add(0, 0, "lanes", "no lanes: add [[lanes]] sections");
    if (auto* a = s.tables("devices")) {
      for (std::size_t i = 0; i < a->size(); ++i)
        device(*(*a)[i].as_table(), "devices[" + std::to_string(i) + "]");
    }
    s.finish();
    check_lanes();
  }

 private:
  void station(const toml::table& t) {
    Section s(ctx_, t, "station");
    if (auto v = s.str("id", true)) {
      if (!valid_id(*v))
        s.problem(*s.node("id"), "id", "'" + *v + "' is not an id (letters, digits, _ and -)");
      cfg_.station_id = *v;
    }
    if (auto v = s.str("name", true)) cfg_.station_name = *v;
    if (auto v = s.str("timezone")) {
      if (auto off = parse_utc_offset(*v))
        cfg_.policies.utc_offset_min = *off;
      else
        s.problem(*s.node("timezone"), "timezone",
                  "'" + *v + "' is not a fixed UTC offset like \"+08:00\"");
    }
    if (auto v = s.str("origin_province", true)) {
      int id = province_id(*v);
      if (id < 0)
        s.problem(*s.node("origin_province"), "origin_province",
                  "unknown province '" + *v + "' (" + province_hint() + ")");
      else
        cfg_.policies.origin_province = std::string(regions::kProvinces[std::size_t(id)]);
    }
    if (auto v = s.integer("scan_delay_ms", 0, 60'000)) cfg_.scan_delay_ms = std::int32_t(*v);
    if (auto v = s.integer("scan_tolerance_ms", 0, 60'000))
      cfg_.scan_tolerance_ms = std::int32_t(*v);
    if (auto v = s.str("bag_close_prefix")) {
      const bool ok = v->size() <= 32 &&
                      std::all_of(v->begin(), v->end(), [](char c) { return c > ' ' && c < 0x7f; });
      if (!ok)
        s.problem(*s.node("bag_close_prefix"), "bag_close_prefix",
                  "'" + *v + "' is not a barcode prefix (up to 32 printable ASCII characters)");
      else
        cfg_.bag_close_prefix = *v;
    }
    if (auto v = s.str("manifest_dir")) cfg_.manifest_dir = *v;
    s.finish();
  }

  void policies(const toml::table& t) {
    Section s(ctx_, t, "policies");
    Policies& p = cfg_.policies;
    if (auto v = s.str("cutoff_policy")) {
      if (*v == "next_courier")
        p.cutoff = CutoffPolicy::NextCourier;
      else if (*v == "hold")
        p.cutoff = CutoffPolicy::Hold;
      else
        s.problem(*s.node("cutoff_policy"), "cutoff_policy",
                  "'" + *v + "' is not a cutoff policy (next_courier or hold)");
    }
    if (auto v = s.integer("recirculation_limit", 0, 100)) p.recirculation_limit = int(*v);
    if (auto v = s.integer("confirm_timeout_s", 5, 24 * 3600))
      p.confirm_timeout_s = std::int32_t(*v);
    if (auto* w = s.subtable("weights")) {
      Section ws(ctx_, *w, "policies.weights");
      RankWeights& r = p.weights;
      if (auto v = ws.number("capacity", 0, 10)) r.capacity = *v;
      if (auto v = ws.number("region", 0, 10)) r.region = *v;
      if (auto v = ws.number("price", 0, 10)) r.price = *v;
      if (auto v = ws.number("cutoff", 0, 10)) r.cutoff = *v;
      if (auto v = ws.number("preferred", 0, 10)) r.preferred = *v;
      if (auto v = ws.integer("cutoff_horizon_min", 1, 24 * 60))
        r.cutoff_horizon_min = std::int32_t(*v);
      ws.finish();
    }
    s.finish();
  }

  void courier(const toml::table& t, const std::string& path) {
    Section s(ctx_, t, path);
    Courier c;
    if (auto v = s.str("id", true)) {
      if (!valid_id(*v))
        s.problem(*s.node("id"), "id", "'" + *v + "' is not an id (letters, digits, _ and -)");
      c.id = *v;
      if (auto it = courier_line_.find(c.id); it != courier_line_.end())
        s.problem(*s.node("id"), "id",
                  "duplicate courier id '" + c.id + "' (first defined on line " +
                      std::to_string(it->second) + ")");
      else
        courier_line_[c.id] = static_cast<int>(s.node("id")->source().begin.line);
    }
    if (auto v = s.str("name", true)) c.name = *v;
    if (auto v = s.str("color")) {
      bool ok =
          v->size() == 7 && (*v)[0] == '#' && std::all_of(v->begin() + 1, v->end(), [](char ch) {
            return std::isxdigit(static_cast<unsigned char>(ch)) != 0;
          });
      if (!ok)
        s.problem(*s.node("color"), "color", "'" + *v + "' is not a colour like \"#d81e06\"");
      else
        c.color = *v;
    }

    // Pricing.
    bool by_weight = false;
    bool pricing_ok = false;
    if (auto v = s.str("pricing", true)) {
      if (*v == "per_piece")
        pricing_ok = true;
      else if (*v == "by_weight")
        by_weight = pricing_ok = true;
      else
        s.problem(*s.node("pricing"), "pricing",
                  "'" + *v + "' is not a pricing (per_piece or by_weight)");
    }
    c.pricing = by_weight ? Pricing::ByWeight : Pricing::PerPiece;
    if (auto v = s.money("piece_price")) c.piece_fen = *v;
    if (pricing_ok && !by_weight && !s.has("piece_price")) s.missing("piece_price", "yuan");
    if (pricing_ok && by_weight && s.has("piece_price"))
      s.problem(*s.node("piece_price"), "piece_price",
                "only for pricing = \"per_piece\" (this courier prices by weight)");

    std::set<std::string> zone_names;
    if (auto* zs = s.tables("zones")) {
      for (std::size_t i = 0; i < zs->size(); ++i) {
        Section z(ctx_, *(*zs)[i].as_table(), path + ".zones[" + std::to_string(i) + "]");
        ZoneRate r;
        if (auto v = z.str("zone", true)) {
          r.zone = *v;
          if (!zone_names.insert(r.zone).second)
            z.problem(*z.node("zone"), "zone", "duplicate zone '" + r.zone + "'");
        }
        if (auto v = z.grams("first_kg", 1000)) r.first_g = *v;
        if (auto v = z.money("first_price", true)) r.first_fen = *v;
        if (auto v = z.grams("step_kg", 1000)) r.step_g = *v;
        if (auto v = z.money("step_price", true)) r.step_fen = *v;
        if (r.first_g <= 0 && z.has("first_kg"))
          z.problem(*z.node("first_kg"), "first_kg", "must be more than 0");
        if (r.step_g <= 0 && z.has("step_kg"))
          z.problem(*z.node("step_kg"), "step_kg", "must be more than 0");
        z.finish();
        c.zones.push_back(std::move(r));
      }
    }
    if (pricing_ok && by_weight && !s.has("zones"))
      s.missing("zones", "[[" + path + ".zones]] rate tables");
    if (pricing_ok && !by_weight && s.has("zones"))
      s.problem(*s.node("zones"), "zones", "only for pricing = \"by_weight\"");

    if (auto* zt = s.subtable("zone_of")) {
      std::set<int> seen;
      for (auto&& [k, v] : *zt) {
        std::string prov(k.str());
        std::string kp = path + ".zone_of." + prov;
        std::string key_norm = prov;
        if (prov != "*") {
          int id = province_id(prov);
          if (id < 0) {
            ctx_.add(
                k.source(), kp,
                "unknown province '" + prov + "' (" + province_hint() + ", or \"*\" for the rest)");
            continue;
          }
          if (!seen.insert(id).second) {
            ctx_.add(k.source(), kp, "province listed twice");
            continue;
          }
          key_norm = std::string(regions::kProvinces[std::size_t(id)]);
        }
        auto* zn = v.as_string();
        if (!zn) {
          ctx_.add(v.source(), kp, std::string("expected a zone name, got ") + type_name(v.type()));
          continue;
        }
        if (!zone_names.count(zn->get())) {
          std::vector<std::string> names(zone_names.begin(), zone_names.end());
          ctx_.add(v.source(), kp,
                   "no zone '" + zn->get() + "' (zones are: " + list_of(names) + ")");
          continue;
        }
        c.zone_of[key_norm] = zn->get();
      }
      bool all = seen.size() == std::size_t(regions::kProvinceCount);
      if (!zt->contains("*") && !all)
        ctx_.add(zt->source(), path + ".zone_of",
                 "no \"*\" entry: provinces not listed would have no price");
    }
    if (pricing_ok && by_weight && !s.has("zone_of"))
      s.missing("zone_of", "a table province -> zone, with \"*\" for the rest");
    if (pricing_ok && !by_weight && s.has("zone_of"))
      s.problem(*s.node("zone_of"), "zone_of", "only for pricing = \"by_weight\"");
    if (auto v = s.integer("volumetric_divisor", 0, 1'000'000))
      c.volumetric_divisor = std::int32_t(*v);

    // Where it goes.
    if (auto v = s.strings("serves")) {
      for (std::size_t i = 0; i < v->size(); ++i) {
        auto& [name, node] = (*v)[i];
        int id = province_id(name);
        if (id < 0)
          ctx_.add(node->source(), path + ".serves[" + std::to_string(i) + "]",
                   "unknown province '" + name + "' (" + province_hint() + ")");
        else
          c.serves.emplace_back(regions::kProvinces[std::size_t(id)]);
      }
      if (v->empty())
        s.problem(*s.node("serves"), "serves",
                  "empty: a courier that serves nowhere (leave serves out to serve everywhere)");
    }
    if (auto v = s.strings("excludes")) {
      for (std::size_t i = 0; i < v->size(); ++i) {
        auto& [name, node] = (*v)[i];
        std::string err;
        if (auto r = normalise_region(name, &err))
          c.excludes.push_back(*r);
        else
          ctx_.add(node->source(), path + ".excludes[" + std::to_string(i) + "]", err);
      }
    }
    if (auto* st = s.tables("strengths")) {
      for (std::size_t i = 0; i < st->size(); ++i) {
        std::string sp = path + ".strengths[" + std::to_string(i) + "]";
        Section r(ctx_, *(*st)[i].as_table(), sp);
        RegionScore rs;
        if (auto v = r.str("province")) {
          int id = province_id(*v);
          if (id < 0)
            r.problem(*r.node("province"), "province",
                      "unknown province '" + *v + "' (" + province_hint() + ")");
          else
            rs.province = std::string(regions::kProvinces[std::size_t(id)]);
        }
        if (auto v = r.str("city")) rs.city = std::string(regions::city_short(*v));
        if (auto v = r.str("postcode_prefix")) {
          bool ok = !v->empty() && v->size() <= 6 && std::all_of(v->begin(), v->end(), [](char ch) {
            return ch >= '0' && ch <= '9';
          });
          if (!ok)
            r.problem(*r.node("postcode_prefix"), "postcode_prefix",
                      "'" + *v + "' is not 1 to 6 digits of a postcode");
          else if (r.has("province") || r.has("city"))
            r.problem(*r.node("postcode_prefix"), "postcode_prefix",
                      "a postcode prefix is used alone: drop province/city from this entry");
          else
            rs.postcode_prefix = *v;
        }
        if (auto v = r.number("score", 0, 1, true)) rs.score = *v;
        r.finish();
        c.strengths.push_back(std::move(rs));
      }
    }

    // What it accepts.
    if (auto v = s.boolean("cod")) c.cod = *v;
    if (auto v = s.money("cod_limit")) {
      c.cod_limit_fen = *v;
      if (!c.cod)
        s.problem(*s.node("cod_limit"), "cod_limit", "set but cod = false (no COD at all)");
    }
    if (auto v = s.boolean("invoice")) c.invoice = *v;
    if (auto v = s.strings("services")) {
      c.standard = c.express = c.same_day = false;
      for (std::size_t i = 0; i < v->size(); ++i) {
        auto& [name, node] = (*v)[i];
        auto lvl = service_level_from(name);
        if (!lvl)
          ctx_.add(node->source(), path + ".services[" + std::to_string(i) + "]",
                   "'" + name + "' is not a service level (standard, express, same_day)");
        else if (*lvl == ServiceLevel::Standard)
          c.standard = true;
        else if (*lvl == ServiceLevel::Express)
          c.express = true;
        else
          c.same_day = true;
      }
      if (v->empty())
        s.problem(*s.node("services"), "services", "empty: name at least one service level");
    }
    if (auto v = s.boolean("pickup_point")) c.pickup_point = *v;
    if (auto v = s.boolean("fragile")) c.fragile = *v;
    if (auto v = s.grams("max_weight_kg", 100'000)) c.max_weight_g = *v;
    if (auto v = s.millimetres("max_side_cm", 100'000)) c.max_side_mm = *v;
    if (auto v = s.millimetres("max_girth_cm", 100'000)) c.max_girth_mm = *v;

    // How much, until when.
    if (auto v = s.integer("daily_parcels", 0, 10'000'000)) c.daily_parcels = std::int32_t(*v);
    if (auto v = s.integer("daily_kg", 0, 1'000'000)) c.daily_kg = std::int32_t(*v);
    if (const toml::node* n = s.node("cutoff")) {
      if (auto* str = n->as_string()) {
        if (auto m = parse_time_of_day(str->get()))
          c.cutoff_min = *m;
        else
          s.problem(*n, "cutoff", "'" + str->get() + "' is not a time of day \"HH:MM\"");
      } else if (auto* tm = n->as_time()) {
        const toml::time& tv = tm->get();
        c.cutoff_min = tv.hour * 60 + tv.minute;
      } else {
        s.wrong(*n, "cutoff", "a time of day \"HH:MM\"");
      }
    }
    s.finish();
    cfg_.couriers.push_back(std::move(c));
  }

  void lane(const toml::table& t, const std::string& path) {
    Section s(ctx_, t, path);
    Lane l;
    LaneSrc src;
    src.line = s.line();
    src.path = path;
    src.id = s.node("id");
    src.chute = s.node("chute");
    src.courier = s.node("courier");
    src.overflow = s.node("overflow");
    if (auto v = s.integer("id", 1, 99'999, true)) l.id = int(*v);
    if (auto v = s.integer("chute", 1, 65'535, true)) l.chute = int(*v);
    if (auto v = s.str("kind")) {
      if (*v == "courier")
        l.kind = LaneKind::Courier;
      else if (*v == "overflow")
        l.kind = LaneKind::Overflow;
      else if (*v == "exception")
        l.kind = LaneKind::Exception;
      else
        s.problem(*s.node("kind"), "kind",
                  "'" + *v + "' is not a lane kind (courier, overflow or exception)");
    }
    if (auto v = s.str("courier")) l.courier = *v;
    if (l.kind == LaneKind::Courier && !s.has("courier") && !s.has("kind"))
      s.missing("courier", "the courier id (or kind = \"overflow\" / \"exception\")");
    else if (l.kind == LaneKind::Courier && !s.has("courier"))
      s.missing("courier", "a courier lane names its courier");
    if (l.kind == LaneKind::Exception && s.has("courier"))
      s.problem(*s.node("courier"), "courier", "an exception lane takes no courier");

    if (auto v = s.strings("regions")) {
      if (l.kind != LaneKind::Courier)
        s.problem(*s.node("regions"), "regions", "only courier lanes sort by region");
      for (std::size_t i = 0; i < v->size(); ++i) {
        auto& [name, node] = (*v)[i];
        std::string err;
        if (auto r = normalise_region(name, &err))
          l.regions.push_back(*r);
        else
          ctx_.add(node->source(), path + ".regions[" + std::to_string(i) + "]", err);
      }
    }
    if (auto v = s.integer("overflow", 0, 99'999)) {
      l.overflow = int(*v);
      if (l.kind == LaneKind::Exception && l.overflow != 0)
        s.problem(*s.node("overflow"), "overflow", "an exception lane has no overflow");
    }
    if (auto v = s.strings("takes")) {
      if (l.kind != LaneKind::Exception)
        s.problem(*s.node("takes"), "takes", "only exception lanes take exception kinds");
      for (std::size_t i = 0; i < v->size(); ++i) {
        auto& [name, node] = (*v)[i];
        auto k = exception_kind_from(name);
        if (!k || *k == ExceptionKind::None) {
          std::string all;
          for (int e = 1; e <= int(ExceptionKind::Degraded); ++e)
            all += std::string(e > 1 ? ", " : "") + to_string(ExceptionKind(e));
          ctx_.add(node->source(), path + ".takes[" + std::to_string(i) + "]",
                   "unknown exception kind '" + name + "' (kinds are: " + all + ")");
        } else {
          l.takes.push_back(*k);
        }
      }
    }
    if (auto v = s.integer("bag_max_count", 0, 1'000'000)) l.bag_max_count = std::int32_t(*v);
    if (auto v = s.grams("bag_max_weight_kg", 1'000'000)) l.bag_max_weight_g = *v;
    if (auto v = s.boolean("enabled")) l.enabled = *v;
    s.finish();
    cfg_.lanes.push_back(std::move(l));
    lane_src_.push_back(std::move(src));
  }

  void device(const toml::table& t, const std::string& path) {
    Section s(ctx_, t, path);
    StationConfig::Device d;
    d.line = s.line();
    if (auto v = s.str("name", true)) {
      d.name = *v;
      if (auto it = device_line_.find(d.name); it != device_line_.end())
        s.problem(*s.node("name"), "name",
                  "duplicate device name '" + d.name + "' (first defined on line " +
                      std::to_string(it->second) + ")");
      else
        device_line_[d.name] = static_cast<int>(s.node("name")->source().begin.line);
    }
    if (auto v = s.str("kind", true)) {
      if (*v != "scanner" && *v != "printer" && *v != "sorter")
        s.problem(*s.node("kind"), "kind",
                  "'" + *v + "' is not a device kind (scanner, printer or sorter)");
      d.kind = *v;
    }
    if (auto v = s.str("driver", true)) d.driver = *v;
    // Everything else is the driver's: kept as text, checked by the driver.
    for (auto&& [k, v] : t) {
      std::string name(k.str());
      if (name == "name" || name == "kind" || name == "driver") continue;
      s.node(name);  // known: the driver decides
      option(d, name, v, path + "." + name);
    }
    s.finish();
    cfg_.devices.push_back(std::move(d));
  }

  void option(StationConfig::Device& d, const std::string& name, const toml::node& v,
              const std::string& path) {
    if (auto* t = v.as_table()) {
      for (auto&& [k, sub] : *t)
        option(d, name + "." + std::string(k.str()), sub, path + "." + std::string(k.str()));
      return;
    }
    auto scalar = [&](const toml::node& n, std::string& out) {
      if (auto* s = n.as_string())
        out = s->get();
      else if (auto* i = n.as_integer())
        out = std::to_string(i->get());
      else if (auto* f = n.as_floating_point())
        out = fmt_num(f->get());
      else if (auto* b = n.as_boolean())
        out = b->get() ? "true" : "false";
      else
        return false;
      return true;
    };
    std::string out;
    if (auto* a = v.as_array()) {
      for (std::size_t i = 0; i < a->size(); ++i) {
        std::string e;
        if (!scalar((*a)[i], e)) {
          ctx_.add((*a)[i].source(), path + "[" + std::to_string(i) + "]",
                   std::string("a device option array holds strings or numbers, not ") +
                       type_name((*a)[i].type()));
          return;
        }
        out += (i ? "," : "") + e;
      }
    } else if (!scalar(v, out)) {
      ctx_.add(v.source(), path,
               std::string("a device option is a string, number or boolean, not ") +
                   type_name(v.type()));
      return;
    }
    d.options[name] = out;
  }

  void at(const LaneSrc& src, const toml::node* n, const char* key, std::string msg) {
    if (n)
      ctx_.add(n->source(), src.path + "." + key, std::move(msg));
    else
      ctx_.add(src.line, 1, src.path + "." + key, std::move(msg));
  }

  void check_lanes() {
    const auto& lanes = cfg_.lanes;
    std::vector<std::string> courier_ids;
    for (const auto& c : cfg_.couriers) courier_ids.push_back(c.id);
    std::map<int, std::size_t> by_id, by_chute;
    bool any_exception = false;
    for (std::size_t i = 0; i < lanes.size(); ++i) {
      const Lane& l = lanes[i];
      const LaneSrc& src = lane_src_[i];
      if (l.kind == LaneKind::Exception) any_exception = true;
      if (l.id > 0) {
        auto [it, fresh] = by_id.emplace(l.id, i);
        if (!fresh)
          at(src, src.id, "id",
             "duplicate lane id " + std::to_string(l.id) + " (" + lane_src_[it->second].path +
                 ", line " + std::to_string(lane_src_[it->second].line) + ")");
      }
      if (l.chute > 0) {
        auto [it, fresh] = by_chute.emplace(l.chute, i);
        if (!fresh)
          at(src, src.chute, "chute",
             "chute " + std::to_string(l.chute) + " is already lane " +
                 std::to_string(lanes[it->second].id) + "'s (" + lane_src_[it->second].path +
                 ", line " + std::to_string(lane_src_[it->second].line) + ")");
      }
      if (!l.courier.empty() && l.kind != LaneKind::Exception && !cfg_.courier(l.courier))
        at(src, src.courier, "courier",
           "no courier '" + l.courier + "' (couriers are: " + list_of(courier_ids) + ")");
    }
    if (!any_exception)
      ctx_.add(0, 0, "lanes",
               "no exception lane: add a [[lanes]] with kind = \"exception\" (a catch-all has "
               "no takes)");

    // Overflow targets and chains.
    for (std::size_t i = 0; i < lanes.size(); ++i) {
      const Lane& l = lanes[i];
      const LaneSrc& src = lane_src_[i];
      if (l.overflow == 0 || l.kind == LaneKind::Exception) continue;
      auto it = by_id.find(l.overflow);
      if (it == by_id.end()) {
        at(src, src.overflow, "overflow", "no lane " + std::to_string(l.overflow));
        continue;
      }
      const Lane& o = lanes[it->second];
      if (o.id == l.id) {
        at(src, src.overflow, "overflow", "a lane cannot overflow into itself");
        continue;
      }
      if (o.kind == LaneKind::Exception) {
        at(src, src.overflow, "overflow",
           "lane " + std::to_string(o.id) +
               " is an exception lane; overflow goes to a courier or overflow lane");
        continue;
      }
      if (!o.courier.empty() && !l.courier.empty() && o.courier != l.courier)
        at(src, src.overflow, "overflow",
           "lane " + std::to_string(o.id) + " is for courier '" + o.courier + "', not '" +
               l.courier + "'");
      // Follow the chain: it must end.
      std::set<int> seen{l.id};
      const Lane* cur = &o;
      std::string chain = std::to_string(l.id) + " -> " + std::to_string(o.id);
      while (cur && cur->overflow != 0) {
        if (!seen.insert(cur->id).second || cur->overflow == l.id) {
          at(src, src.overflow, "overflow",
             "overflow loop: " + chain + " -> " + std::to_string(cur->overflow));
          break;
        }
        chain += " -> " + std::to_string(cur->overflow);
        auto nx = by_id.find(cur->overflow);
        cur = nx == by_id.end() ? nullptr : &lanes[nx->second];
        if (seen.size() > lanes.size()) break;
      }
    }
  }

  Ctx& ctx_;
  StationConfig& cfg_;
  std::map<std::string, int> courier_line_, device_line_;
  std::vector<LaneSrc> lane_src_;
};

}  // namespace

StationConfig parse_config(std::string_view toml_text, const std::string& source_name) {
  Ctx ctx{source_name, {}};
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    ctx.add(e.source(), "", "TOML syntax error: " + std::string(e.description()));
    throw ConfigError(std::move(ctx.issues));
  }
  StationConfig cfg;
  cfg.source = source_name;
  Parser(ctx, cfg).run(root);
  if (!ctx.issues.empty()) {
    std::stable_sort(ctx.issues.begin(), ctx.issues.end(),
                     [](const ConfigIssue& a, const ConfigIssue& b) {
                       int la = a.line ? a.line : 1 << 30, lb = b.line ? b.line : 1 << 30;
                       return la != lb ? la < lb : a.column < b.column;
                     });
    throw ConfigError(std::move(ctx.issues));
  }
  return cfg;
}

StationConfig load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    throw ConfigError({ConfigIssue{
        path, 0, 0, "",
        std::string("cannot read the file: ") + (err ? std::strerror(err) : "error")}});
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path);
}

}  // namespace sortd
