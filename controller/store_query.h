// sortd store: a prepared statement over the store's connection, for read-only queries (the
// bus's requests and bags queries, the reports). Errors throw StoreError.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include "store.h"

namespace sortd {

// A prepared statement over the store's connection (read-only use).
class Query {
 public:
  Query(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK)
      throw StoreError(std::string("query: ") + sqlite3_errmsg(db) + " [" + sql + "]");
  }
  ~Query() { sqlite3_finalize(st_); }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  Query& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  Query& bind(int i, const std::string& v) {
    sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  bool step() {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StoreError(std::string("query: ") + sqlite3_errmsg(db_));
  }
  void reset() { sqlite3_reset(st_); }
  std::int64_t i64(int c) const { return sqlite3_column_int64(st_, c); }
  std::string_view view(int c) const {  // valid until the next step
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, c));
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, c)))
             : std::string_view();
  }
  bool null(int c) const { return sqlite3_column_type(st_, c) == SQLITE_NULL; }
  std::string str(int c) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, c));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, c))) : "";
  }
  nlohmann::json col(int c) const {
    switch (sqlite3_column_type(st_, c)) {
      case SQLITE_INTEGER:
        return i64(c);
      case SQLITE_FLOAT:
        return sqlite3_column_double(st_, c);
      case SQLITE_NULL:
        return nullptr;
      default:
        return str(c);
    }
  }
  nlohmann::json opt_i64(int c) const {
    return null(c) ? nlohmann::json() : nlohmann::json(i64(c));
  }
  int columns() const { return sqlite3_column_count(st_); }
  std::string name(int c) const { return sqlite3_column_name(st_, c); }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
};

}  // namespace sortd
