// sortctl report: reports per hour or day through the daemon's `report` query
// (docs/reports.md). The daemon computes the JSON; sortctl renders it as a table, CSV or JSON.
#pragma once

#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace sortctl {

struct ReportArgs {
  std::string period = "day", from, to, format = "table", output;
  std::string db, config;  // --db/--config: read the store file directly, not through the daemon
};

// Adds `report [--period hour|day] [--from] [--to] [--format table|csv|json] [-o FILE]`.
CLI::App* add_report_command(CLI::App& app, ReportArgs& a);
nlohmann::json report_request(const ReportArgs& a);
// Prints (or writes to a.output) the report in a.format. Throws std::runtime_error when the
// output file cannot be written.
void print_report(const ReportArgs& a, const nlohmann::json& report);
// With --db: the report straight from the store file (read-only; a WAL reader never blocks the
// daemon), today by this machine's clock. Returns the exit code; prints errors to stderr.
int report_from_file(const ReportArgs& a, bool json_out);

}  // namespace sortctl
