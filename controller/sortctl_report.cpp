// sortctl report (see sortctl_report.h).
#include "sortctl_report.h"

#include <fstream>
#include <iostream>
#include <stdexcept>

#include "reports.h"

namespace sortctl {

using nlohmann::json;

CLI::App* add_report_command(CLI::App& app, ReportArgs& a) {
  auto* sc = app.add_subcommand(
      "report",
      "reports per hour or day (station time): parcels by courier and lane, exceptions by "
      "reason, read and recirculation rates, capacity used, handover issues");
  sc->add_option("--period", a.period, "hour or day")
      ->check(CLI::IsMember({"hour", "day"}))
      ->capture_default_str();
  sc->add_option("--from", a.from,
                 "first day YYYY-MM-DD, or first hour \"YYYY-MM-DD HH:00\", today, yesterday "
                 "(default: today)");
  sc->add_option("--to", a.to,
                 "last day YYYY-MM-DD (included), or end time \"YYYY-MM-DD HH:00\" (excluded) "
                 "(default: the end of today)");
  sc->add_option("--format", a.format, "table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
  sc->add_option("-o,--output", a.output, "write to this file (default: standard output)");
  sc->footer(
      "Exit codes: 0 ok, 1 the daemon refused the range (the message says why), 2 usage error "
      "or the output file cannot be written, 3 cannot reach the daemon, 4 not authorised.");
  return sc;
}

json report_request(const ReportArgs& a) {
  json req = {{"cmd", "report"}, {"period", a.period}};
  if (!a.from.empty()) req["from"] = a.from;
  if (!a.to.empty()) req["to"] = a.to;
  return req;
}

void print_report(const ReportArgs& a, const json& report) {
  std::ofstream file;
  if (!a.output.empty()) {
    file.open(a.output, std::ios::trunc | std::ios::binary);
    if (!file) throw std::runtime_error("cannot write " + a.output);
  }
  std::ostream& out = a.output.empty() ? std::cout : file;
  if (a.format == "json")
    out << report.dump(2) << "\n";
  else if (a.format == "csv")
    out << sortd::report_csv(report);
  else
    out << sortd::report_table(report);
  out.flush();
  if (!out)
    throw std::runtime_error("cannot write " + (a.output.empty() ? "the report" : a.output));
}

}  // namespace sortctl
