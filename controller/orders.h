// sortd: orders from the WMS/ERP. CSV and JSON import with an error for every bad row (line and
// field), and the in-memory order book the station core identifies parcels with.
// File formats are described in docs/orders.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "model.h"

namespace sortd {

struct ImportError {
  std::string source;  // file name
  int line = 0;        // 1-based line of the row (CSV) or of the object (JSON)
  std::string field;   // column / key; empty for a whole-row problem
  std::string message;
  std::string str() const;  // "source:line: field: message"
};

struct ImportResult {
  std::vector<Order> orders;        // the good rows
  std::vector<ImportError> errors;  // one per bad row (the first problem found in it)
  std::size_t rows = 0;             // rows seen
};

// CSV: a header row naming the columns (see docs/orders.md), then one order per row; RFC 4180
// quoting; UTF-8. JSON: an array of order objects, or {"orders": [...]}.
ImportResult parse_orders_csv(std::string_view text, const std::string& source);
ImportResult parse_orders_json(std::string_view text, const std::string& source);
// Chooses the parser by extension (.csv / .json). Throws std::runtime_error if unreadable.
ImportResult load_orders_file(const std::string& path);

// Checks one order's values (required fields, ranges); returns the problem or nullopt.
std::optional<ImportError> validate_order(const Order& o);

// One order object of the JSON format (docs/orders.md), already parsed: fills `out` and
// validates it, or returns the problem (field and message; line 0, no source).
std::optional<ImportError> parse_order_object(const nlohmann::json& j, Order& out);

// Writers for the same formats (what parse_orders_csv / parse_orders_json read back).
std::string orders_csv_header();                          // with the trailing "\r\n"
void append_order_csv(std::string& out, const Order& o);  // one row, "\r\n"-terminated
std::string orders_to_csv(const std::vector<Order>& orders);
std::string orders_to_json(const std::vector<Order>& orders);  // {"orders": [...]}, one per line

// Deterministic, realistic demo orders: order number `first + i` for i in [0, n) is always the
// same for a given seed, whatever the slice. Real provinces / cities / districts (remote ones
// included), weights and sizes, COD, invoices, service levels, pickup points, fragile, a few
// preferred / forbidden couriers (sf jd zto yto yunda ems jt), a few held and cancelled.
std::vector<Order> make_demo_orders(std::size_t n, std::uint64_t seed, std::size_t first = 0);

// Every order the station knows, indexed by order id and by each of its codes. Compact: it must
// hold 1,000,000 orders in well under 1 GiB.
class OrderBook {
 public:
  OrderBook();
  ~OrderBook();
  OrderBook(OrderBook&&) noexcept;
  OrderBook& operator=(OrderBook&&) noexcept;

  // Insert or replace (by id). Codes of the replaced order no longer resolve to it.
  // A code that another order held moves to this one (and leaves the other order's codes):
  // check id_by_code() first to warn about it. Returns true when the order was new.
  bool upsert(const Order& o);
  bool set_status(std::string_view order_id, OrderStatus s);

  std::optional<Order> find(std::string_view order_id) const;
  std::optional<Order> find_by_code(std::string_view code) const;
  // Order id for a code without building the whole Order.
  std::optional<std::string> id_by_code(std::string_view code) const;
  std::size_t size() const;

  // Every order, in insertion order of their ids.
  void for_each(const std::function<void(const Order&)>& fn) const;
  void reserve(std::size_t orders);
  std::size_t memory_bytes() const;  // heap bytes held by the book (approximate)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sortd
