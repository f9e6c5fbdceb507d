// libFuzzer target: the order JSON import (parse_orders_json, controller/orders.cpp,
// docs/orders.md). Properties checked besides "no crash, no sanitizer report, no exception":
// every good order validates, every error has its line and reason, every array element is an
// order or an error, and the good orders written back (orders_to_json, orders_to_csv) import
// again unchanged.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "orders_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  sortd::ImportResult r = sortd::parse_orders_json(in, "fuzz.json");
  sortd::fuzz::check_result(r, "fuzz.json");
  sortd::fuzz::check_round_trip(r);
  return 0;
}
