// sort-sim: the simulators of every device kind in one tool (`sort-sim plc|scanner|printer`).
// Each simulator registers itself with a static SimRegistrar in its own .cpp in this folder.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace sortd::sim {

using SimMain = std::function<int(int argc, char** argv)>;
struct SimEntry {
  std::string name, help;
  SimMain main;
};
std::vector<SimEntry>& registry();
struct SimRegistrar {
  SimRegistrar(std::string name, std::string help, SimMain main) {
    registry().push_back({std::move(name), std::move(help), std::move(main)});
  }
};

}  // namespace sortd::sim
