// sortd: reports per hour or per day (docs/reports.md). Every figure is computed from the stored
// events by SQL (parcels, reads, confirmations, capacity, handover_issues: range scans of covering
// indexes, aggregated per period; the parcels summed as they come out of their index), never from
// in-memory counters, so that a report adds up to the store by construction. Periods are clock
// hours and days in the station's time zone ([policies] utc_offset_min). Pure: a database handle
// and a configuration in, JSON out; the table and CSV renderings work on that JSON.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "model.h"

struct sqlite3;

namespace sortd {

// A refused report argument; the message names the argument and the value.
class ReportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class ReportPeriod : std::uint8_t { Hour, Day };

struct ReportRange {
  ReportPeriod period = ReportPeriod::Day;
  TimeMs from = 0, to = 0;  // UTC, [from, to), on period boundaries of the station's time
  std::int32_t utc_offset_min = 0;
};

// The longest range a report covers, in buckets: 31 days of hours, 366 days.
inline constexpr std::int64_t kReportMaxHours = 31 * 24;
inline constexpr std::int64_t kReportMaxDays = 366;

// Reads the arguments of a report as given by people or scripts:
//   period  "hour" or "day" (empty: "day")
//   from    "YYYY-MM-DD", "YYYY-MM-DD HH:MM" (or with a 'T'), "today", "yesterday";
//           empty: today. A date is that day's local midnight.
//   to      the same; a date means the end of that day (so from=to=a date is that one day); a
//           time is the exclusive end. Empty: the end of today.
// Times are the station's local time; `now` says what today is. Throws ReportError naming the
// argument ('period', 'from', 'to') and what is wrong with it.
ReportRange parse_report_range(std::string_view period, std::string_view from, std::string_view to,
                               std::int32_t utc_offset_min, TimeMs now);

// Runs the report over the store. `cfg` gives the couriers' daily limits, the lanes' couriers and
// the time zone (range.utc_offset_min is used for the buckets). Throws StoreError on an SQL
// error (e.g. a store without the report tables).
nlohmann::json build_report(sqlite3* db, const StationConfig& cfg, const ReportRange& range);

// Renderings of build_report()'s JSON.
std::string report_table(const nlohmann::json& report);  // for people (sortctl)
// One figure a line: period,section,key,metric,value (docs/reports.md). CRLF line ends.
std::string report_csv(const nlohmann::json& report);

// "2026-11-22 09:00" / "2026-11-22": a UTC time as the station's local time.
std::string local_time_text(TimeMs t, std::int32_t utc_offset_min, bool with_time = true);

}  // namespace sortd
