// sort-sim: simulators for the station's devices. `sort-sim <device> --help` for each.
#include <cstdio>
#include <cstring>

#include "sim.h"

namespace sortd::sim {
std::vector<SimEntry>& registry() {
  static std::vector<SimEntry> r;
  return r;
}
}  // namespace sortd::sim

int main(int argc, char** argv) {
  auto& sims = sortd::sim::registry();
  if (argc >= 2) {
    for (auto& s : sims)
      if (s.name == argv[1]) return s.main(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "usage: sort-sim <device> [options]\n\ndevices:\n");
  for (auto& s : sims) std::fprintf(stderr, "  %-10s %s\n", s.name.c_str(), s.help.c_str());
  if (argc >= 2 && std::strcmp(argv[1], "--help") != 0) {
    std::fprintf(stderr, "\nsort-sim: unknown device '%s'\n", argv[1]);
    return 2;
  }
  return argc >= 2 ? 0 : 2;
}
