// Properties shared by the order import fuzz targets (fuzz_orders_csv, fuzz_orders_json).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "orders.h"

namespace sortd::fuzz {

inline void check(bool ok, const char* what, const std::string& detail = {}) {
  if (!ok) {
    std::fprintf(stderr, "property failed: %s\n%s\n", what, detail.c_str());
    std::abort();
  }
}

// What every import result must be, whatever the input:
//  - every good order passes validate_order;
//  - every error names the file, a line and a reason;
//  - every row counted is either an order or an error.
inline void check_result(const ImportResult& r, const std::string& source) {
  for (const auto& o : r.orders) {
    auto e = validate_order(o);
    check(!e, "an imported order does not validate", e ? e->field + ": " + e->message : "");
  }
  for (const auto& e : r.errors) {
    check(e.source == source, "error without its file", e.str());
    check(e.line >= 1, "error without a line", e.str());
    check(!e.message.empty(), "error without a message", e.str());
  }
  check(r.orders.size() <= r.rows, "more orders than rows");
  check(r.orders.size() + r.errors.size() >= r.rows, "a row with neither an order nor an error");
}

// The good orders written back by the writers read back the same, in both formats: CSV -> CSV,
// CSV -> JSON, JSON -> JSON, JSON -> CSV. Compared through the JSON writer (every field).
inline void check_round_trip(const ImportResult& r) {
  if (r.orders.empty()) return;
  const std::string want = orders_to_json(r.orders);
  for (bool csv : {true, false}) {
    std::string text = csv ? orders_to_csv(r.orders) : want;
    ImportResult back =
        csv ? parse_orders_csv(text, "again.csv") : parse_orders_json(text, "again.json");
    check(back.errors.empty(), csv ? "written CSV does not import" : "written JSON does not import",
          back.errors.empty() ? "" : back.errors.front().str() + "\n" + text);
    check(back.orders.size() == r.orders.size(), "round trip lost orders");
    std::string got = orders_to_json(back.orders);
    check(got == want, csv ? "CSV round trip changed an order" : "JSON round trip changed an order",
          want + "\n---\n" + got);
  }
}

}  // namespace sortd::fuzz
