// sortctl report (see sortctl_report.h).
#include "sortctl_report.h"

#include <fstream>
#include <iostream>
#include <stdexcept>

#include <sqlite3.h>

#include <chrono>

#include "config.h"
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
  sc->add_option("--db", a.db,
                 "read this store file directly instead of asking the daemon (long ranges on a "
                 "big store; needs --config)");
  sc->add_option("--config", a.config, "with --db: the station file (time zone, daily limits)");
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

int report_from_file(const ReportArgs& a, bool json_out) {
  if (a.config.empty()) {
    std::cerr << "sortctl: report --db needs --config (the station's time zone and limits)\n";
    return 2;
  }
  sqlite3* db = nullptr;
  try {
    const sortd::StationConfig cfg = sortd::load_config_file(a.config);
    if (sqlite3_open_v2(a.db.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
      throw std::runtime_error("cannot open " + a.db + ": " + sqlite3_errmsg(db));
    sqlite3_busy_timeout(db, 5000);
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    sortd::ReportRange range;
    try {
      range = sortd::parse_report_range(a.period, a.from, a.to, cfg.policies.utc_offset_min, now);
    } catch (const sortd::ReportError& e) {
      std::cerr << "sortctl: bad_value: " << e.what() << "\n";
      sqlite3_close(db);
      return 1;
    }
    json rep = sortd::build_report(db, cfg, range);
    sqlite3_close(db);
    db = nullptr;
    ReportArgs b = a;
    if (json_out) b.format = "json";
    print_report(b, rep);
    return 0;
  } catch (const sortd::ConfigError& e) {
    for (const auto& i : e.issues()) std::cerr << i.str() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "sortctl: " << e.what() << "\n";
  }
  if (db) sqlite3_close(db);
  return 2;
}

}  // namespace sortctl
