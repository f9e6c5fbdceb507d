// sortd bus: the `report` query (docs/protocol.md section 5, docs/reports.md). SQL over the
// store on the daemon's connection, in one read transaction; the range is validated first.
#include "daemon_bus.h"
#include "daemon_bus_ctx.h"
#include "reports.h"

namespace sortd {

using nlohmann::json;

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
  json rep;
  try {
    rep = build_report(d_.store().handle(), d_.config(), range);
  } catch (const ReportError& e) {
    throw StoreError(e.what());
  }
  if (format == "csv") return {{"format", format}, {"text", report_csv(rep)}};
  if (format == "table") return {{"format", format}, {"text", report_table(rep)}};
  return rep;
}

}  // namespace sortd
