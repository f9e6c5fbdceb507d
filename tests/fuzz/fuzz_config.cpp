// libFuzzer target: the station configuration (parse_config, controller/config.cpp, TOML through
// toml++), and the device options the drivers read from it (printers: check_options /
// engine_options_from_device; sorters: plc_options_from and the Modbus register map).
// Properties checked besides "no crash, no sanitizer report":
//  - parse_config returns a config or throws ConfigError listing at least one issue, each with a
//    message; no other exception escapes;
//  - a config that loads has what docs/configuration.md promises the checker enforces: a valid
//    station id, couriers with unique valid ids, lanes with unique ids and chutes, courier lanes
//    naming a known courier, an exception lane, overflow targets that exist, are not the lane
//    itself, not an exception lane, and chains that end; priced couriers with their zones;
//  - device options the driver accepts are usable: a printer whose options pass check_options
//    gets engine options without overflow; a sorter whose options give no problem has a register
//    map whose areas fit in 0..65535 without overlapping.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "config.h"
#include "printer/printer.h"
#include "sorter/plc_client.h"

using namespace sortd;

namespace {

void check(bool ok, const char* what, const std::string& detail = {}) {
  if (!ok) {
    std::fprintf(stderr, "property failed: %s %s\n", what, detail.c_str());
    std::abort();
  }
}

bool valid_id(const std::string& s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-'))
      return false;
  return true;
}

void check_config(const StationConfig& cfg) {
  check(valid_id(cfg.station_id), "station id", cfg.station_id);
  check(!cfg.couriers.empty(), "no couriers");
  std::set<std::string> ids;
  for (const auto& c : cfg.couriers) {
    check(valid_id(c.id), "courier id", c.id);
    check(ids.insert(c.id).second, "duplicate courier", c.id);
    check(c.cutoff_min >= 0 && c.cutoff_min <= 24 * 60, "cutoff", c.id);
    check(c.piece_fen >= 0 && c.cod_limit_fen >= 0, "negative price", c.id);
    check(c.max_weight_g >= 0 && c.daily_parcels >= 0 && c.daily_kg >= 0, "negative limit", c.id);
    if (c.pricing == Pricing::ByWeight) {
      check(!c.zones.empty(), "by_weight courier without zones", c.id);
      std::set<std::string> zones;
      for (const auto& z : c.zones) {
        zones.insert(z.zone);
        check(z.first_g > 0 && z.step_g > 0, "zone weight step", c.id + " " + z.zone);
        check(z.first_fen >= 0 && z.step_fen >= 0, "zone price", c.id + " " + z.zone);
      }
      for (const auto& [prov, zone] : c.zone_of)
        check(zones.count(zone) == 1, "zone_of names an unknown zone", c.id + " " + zone);
    } else {
      check(c.zones.empty() && c.zone_of.empty(), "per_piece courier with zones", c.id);
    }
    for (const auto& s : c.strengths) check(s.score >= 0 && s.score <= 1, "score", c.id);
  }
  check(!cfg.lanes.empty(), "no lanes");
  std::map<int, const Lane*> by_id;
  std::set<int> chutes;
  bool exception = false;
  for (const auto& l : cfg.lanes) {
    check(l.id > 0 && l.chute > 0, "lane id / chute", std::to_string(l.id));
    check(by_id.emplace(l.id, &l).second, "duplicate lane id", std::to_string(l.id));
    check(chutes.insert(l.chute).second, "duplicate chute", std::to_string(l.chute));
    check(cfg.lane(l.id) == &l && cfg.lane_by_chute(l.chute) == &l, "lane lookup");
    if (l.kind == LaneKind::Exception) exception = true;
    if (l.kind == LaneKind::Courier)
      check(cfg.courier(l.courier) != nullptr, "courier lane without its courier", l.courier);
    if (!l.courier.empty() && l.kind != LaneKind::Exception)
      check(cfg.courier(l.courier) != nullptr, "lane names an unknown courier", l.courier);
  }
  check(exception, "no exception lane");
  for (const auto& l : cfg.lanes) {
    if (l.overflow == 0 || l.kind == LaneKind::Exception) continue;
    auto it = by_id.find(l.overflow);
    check(it != by_id.end(), "overflow to a missing lane", std::to_string(l.id));
    check(it->second != &l, "lane overflows into itself", std::to_string(l.id));
    check(it->second->kind != LaneKind::Exception, "overflow into an exception lane");
    // The chain ends within as many steps as there are lanes.
    const Lane* cur = &l;
    std::size_t steps = 0;
    while (cur && cur->overflow != 0 && cur->kind != LaneKind::Exception) {
      check(++steps <= cfg.lanes.size(), "overflow loop", std::to_string(l.id));
      auto nx = by_id.find(cur->overflow);
      cur = nx == by_id.end() ? nullptr : nx->second;
    }
  }
}

void check_devices(const StationConfig& cfg) {
  for (const auto& d : cfg.devices) {
    check(d.kind == "scanner" || d.kind == "printer" || d.kind == "sorter", "device kind", d.kind);
    if (d.kind == "printer" && (d.driver == "tcp" || d.driver == "usb") &&
        !d.options.count("templates")) {  // templates names a folder: not the fuzzer's business
      if (dev::printer::check_options(d).empty()) {
        auto e = dev::printer::engine_options_from_device(d);
        check(e.poll_ms >= 0 && e.status_timeout_ms >= 0 && e.failover_after_ms >= 0,
              "checked printer options give negative times", d.name);
      }
    }
    if (d.kind == "sorter") {
      std::vector<std::string> problems;
      auto o = sorter::plc_options_from(d.name, d.driver, d.options, problems);
      if (problems.empty()) {
        check(o.map.check().empty(), "accepted register map fails its check", d.name);
        check(o.map.end() <= 65536, "register map past 65535", d.name);
        check(o.reconnect_min_ms <= o.reconnect_max_ms, "reconnect backoff", d.name);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  StationConfig cfg;
  try {
    cfg = parse_config(in, "fuzz.toml");
  } catch (const ConfigError& e) {
    check(!e.issues().empty(), "ConfigError without issues");
    for (const auto& i : e.issues()) {
      check(!i.message.empty(), "issue without a message", i.str());
      check(i.file == "fuzz.toml", "issue without its file", i.str());
      check(i.line >= 0 && i.column >= 0, "issue position", i.str());
    }
    return 0;
  }
  check(cfg.source == "fuzz.toml", "source");
  check_config(cfg);
  check_devices(cfg);
  return 0;
}
