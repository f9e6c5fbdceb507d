// sortctl report: reports per hour or day through the daemon's `report` query
// (docs/reports.md). The daemon computes the JSON; sortctl renders it as a table, CSV or JSON.
#pragma once

#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace sortctl {

struct ReportArgs {
  std::string period = "day", from, to, format = "table", output;
};

// Adds `report [--period hour|day] [--from] [--to] [--format table|csv|json] [-o FILE]`.
CLI::App* add_report_command(CLI::App& app, ReportArgs& a);
nlohmann::json report_request(const ReportArgs& a);
// Prints (or writes to a.output) the report in a.format. Throws std::runtime_error when the
// output file cannot be written.
void print_report(const ReportArgs& a, const nlohmann::json& report);

}  // namespace sortctl
