// sortd bus: the `report` query (docs/protocol.md section 5, docs/reports.md). The request is
// checked on the loop thread (role, format, range); the report itself is built by the bus
// worker (daemon_bus_worker.h), on a thread of its own with its own read-only connection to the
// store (WAL lets it read beside the loop's writes), in one read transaction. A month by the
// hour takes about a second over a million parcels: the loop keeps sorting meanwhile.
#include <sqlite3.h>

#include "daemon_bus.h"
#include "daemon_bus_ctx.h"
#include "daemon_bus_worker.h"
#include "reports.h"

namespace sortd {

using nlohmann::json;

namespace {

// The reply's result: the report in the format asked for. Throws StoreError / ReportError.
json report_result(sqlite3* db, const StationConfig& cfg, const ReportRange& range,
                   const std::string& format) {
  json rep = build_report(db, cfg, range);
  if (format == "csv") return {{"format", format}, {"text", report_csv(rep)}};
  if (format == "table") return {{"format", format}, {"text", report_table(rep)}};
  return rep;
}

}  // namespace

json Bus::cmd_report(Ctx& c) {
  const std::string format = c.opt_str("format", "json");
  if (format != "json" && format != "csv" && format != "table")
    throw BusError("bad_value", "'format' must be json, csv or table, not '" + format + "'");
  ReportRange range;
  try {
    range = parse_report_range(c.opt_str("period"), c.opt_str("from"), c.opt_str("to"),
                               d_.config().policies.utc_offset_min, c.now);
  } catch (const ReportError& e) {
    throw BusError("bad_value", e.what());
  }
  // Built by the bus worker, with a copy of the station as it is now.
  auto cfg = std::make_shared<const StationConfig>(d_.config());
  return defer(c, "report", [cfg, range, format](WorkerDb& db) {
    try {
      return report_result(db.get(), *cfg, range, format);
    } catch (const ReportError& e) {
      throw StoreError(e.what());
    }
  });
}

}  // namespace sortd
