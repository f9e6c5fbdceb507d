// The stream of demo parcels: which codes the next parcel on the belt carries. Drawn from the
// demo orders (make_demo_orders), each order once in a shuffled order, with no-reads, unknown
// codes, multi-reads (two parcels' codes in one read) and duplicates (a parcel already seen) at
// chosen rates. Used by the in-process simulated sorter and by `sort-sim feeder`.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace sortd::dev {

struct DemoStreamOptions {
  std::size_t orders = 20000;
  std::uint64_t seed = 42;
  double no_read = 0.03, unknown = 0.02, multi = 0.01, duplicate = 0.02;
};

class DemoStream {
 public:
  explicit DemoStream(const DemoStreamOptions& o);
  // The codes on the next parcel; empty for a no-read.
  std::vector<std::string> next();

 private:
  DemoStreamOptions o_;
  std::mt19937_64 rng_;
  std::vector<std::vector<std::string>> codes_, used_;
  std::size_t cursor_ = 0;
};

}  // namespace sortd::dev
