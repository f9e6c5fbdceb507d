// Helpers of the tests that look into a station's store while it runs: one number from a query,
// and waiting for the running daemon to reach a state. They throw rather than use Boost.Test's
// macros, so that a daemon's thread may call them too (Boost.Test is not thread-safe).
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>

namespace sortd::test {

// The first column of the first row of `sql`, or -1 when there is no row.
inline std::int64_t scalar(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
    throw std::runtime_error(sql + ": " + sqlite3_errmsg(db));
  std::int64_t v = -1;
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    throw std::runtime_error(sql + ": " + sqlite3_errstr(rc));
  return v;
}

// Waits until f() holds. The deadline only keeps a broken daemon from hanging the suite; it is
// not a measure of speed.
template <class F>
bool eventually(F f, std::chrono::seconds deadline = std::chrono::seconds(180)) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return f();
}

}  // namespace sortd::test
