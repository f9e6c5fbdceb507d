#include "register_map.h"

#include <fmt/format.h>
#include <algorithm>

namespace sortd::sorter {

std::string describe_fault(std::uint16_t code) {
  switch (code) {
    case kFaultNone:
      return "no fault";
    case kFaultEmergencyStop:
      return "emergency stop";
    case kFaultBeltStopped:
      return "belt stopped";
    case kFaultJam:
      return "jam";
    case kFaultExceptionChuteFull:
      return "exception chute full";
    case kFaultDriveFault:
      return "drive fault";
    default:
      return fmt::format("vendor fault {}", code);
  }
}

namespace {
bool pow2(int n) {
  return n > 0 && (n & (n - 1)) == 0;
}
struct Area {
  const char* name;
  int base, size;
};
}  // namespace

std::vector<std::string> RegisterMap::check() const {
  std::vector<std::string> out;
  auto ring = [&](const char* key, int n, int max) {
    if (!pow2(n) || n > max)
      out.push_back(
          fmt::format("{}: {} entries; must be a power of two from 1 to {}", key, n, max));
  };
  ring("confirm_ring", confirm_ring, 16);
  ring("induct_ring", induct_ring, 32);
  ring("measure_ring", measure_ring, 8);
  Area areas[] = {{"command_base", command_base, cmd::Size},
                  {"status_base", status_base, st::Size},
                  {"confirm_base", confirm_base, confirm_ring * conf::EntrySize},
                  {"induct_base", induct_base, induct_ring * ind::EntrySize},
                  {"measure_base", measure_base, measure_ring * meas::EntrySize}};
  for (auto& a : areas)
    if (a.base < 0 || a.base + a.size > 65536)
      out.push_back(fmt::format("{}: {} puts registers {}..{} outside 0..65535", a.name, a.base,
                                a.base, a.base + a.size - 1));
  for (std::size_t i = 0; i < std::size(areas); ++i)
    for (std::size_t j = i + 1; j < std::size(areas); ++j) {
      auto& a = areas[i];
      auto& b = areas[j];
      if (a.base < b.base + b.size && b.base < a.base + a.size)
        out.push_back(fmt::format("{}: registers {}..{} overlap {} ({}..{})", b.name, b.base,
                                  b.base + b.size - 1, a.name, a.base, a.base + a.size - 1));
    }
  return out;
}

int RegisterMap::end() const {
  return std::max({command_base + cmd::Size, status_base + st::Size,
                   confirm_base + confirm_ring * conf::EntrySize,
                   induct_base + induct_ring * ind::EntrySize,
                   measure_base + measure_ring * meas::EntrySize});
}

}  // namespace sortd::sorter
