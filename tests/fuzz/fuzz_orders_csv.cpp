// libFuzzer target: the order CSV import (parse_orders_csv, controller/orders.cpp, docs/orders.md).
// Properties checked besides "no crash, no sanitizer report, no exception": every good order
// validates, every error has its line and reason, every row is an order or an error, and the
// good orders written back (orders_to_csv, orders_to_json) import again unchanged.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "orders_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  sortd::ImportResult r = sortd::parse_orders_csv(in, "fuzz.csv");
  sortd::fuzz::check_result(r, "fuzz.csv");
  sortd::fuzz::check_round_trip(r);
  return 0;
}
