// sortd: the station daemon.
//   sortd --config station.toml --db /var/lib/sortd/sortd.db
//   sortd --demo                          the embedded default: the demo station, simulated
//                                         devices, a stream of demo parcels
//   sortd --check-config station.toml     check a station file and exit
//   sortd --replay run.events [--expect run.expected | --write-expected run.expected]
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "daemon.h"
#include "daemon_bus.h"
#include "daemon_signals.h"

namespace {
sortd::Daemon* g_daemon = nullptr;
void on_signal(int) {
  if (g_daemon) g_daemon->stop();
}

std::string default_demo_config() {
  for (const char* p : {"config/demo-station.toml", SORTD_SOURCE_DIR "/config/demo-station.toml",
                        "/usr/share/sortd/demo-station.toml"})
    if (std::filesystem::exists(p)) return p;
  return SORTD_SOURCE_DIR "/config/demo-station.toml";
}

int run_replay(const std::string& file, const std::string& config, const std::string& expect,
               const std::string& write_expected) {
  std::ifstream in(file);
  if (!in) {
    std::cerr << "sortd: cannot read " << file << "\n";
    return 2;
  }
  sortd::ReplayOptions ro;
  ro.config_override = config;
  ro.base_dir = std::filesystem::path(file).parent_path().string();
  sortd::ReplayResult r = sortd::replay(in, ro);
  std::string text;
  for (const auto& l : r.lines) text += l + "\n";
  if (!write_expected.empty()) {
    std::ofstream(write_expected) << text;
    std::cerr << "sortd: wrote " << r.lines.size() << " lines to " << write_expected << "\n";
    return 0;
  }
  if (!expect.empty()) {
    std::ifstream e(expect);
    std::string want((std::istreambuf_iterator<char>(e)), std::istreambuf_iterator<char>());
    if (want == text) {
      std::cerr << "sortd: replay of " << r.events << " events matches " << expect << "\n";
      return 0;
    }
    std::istringstream a(want), b(text);
    std::string la, lb;
    int n = 0;
    while (true) {
      ++n;
      bool ga = static_cast<bool>(std::getline(a, la)), gb = static_cast<bool>(std::getline(b, lb));
      if (!ga && !gb) break;
      if (!ga || !gb || la != lb) {
        std::cerr << "sortd: replay differs from " << expect << " at line " << n
                  << "\n  expected: " << (ga ? la : "(end)")
                  << "\n  replayed: " << (gb ? lb : "(end)") << "\n";
        break;
      }
    }
    return 1;
  }
  std::cout << text;
  std::cerr << "sortd: " << r.events << " events, " << r.parcels << " decisions, " << r.exceptions
            << " exceptions\n";
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sortd: parcel label-printing and sorting station controller"};
  sortd::DaemonOptions o;
  bool demo = false, fresh = false;
  std::string check, replay_file, expect, write_expected;
  app.add_option("-c,--config", o.config_path, "station configuration (TOML)");
  app.add_option("--db", o.db_path, "SQLite database file");
  app.add_flag("--demo", demo,
               "run the demo station: simulated devices and a stream of demo parcels");
  app.add_flag("--fresh", fresh, "start from an empty database (removes --db first)");
  app.add_option("--import", o.import_files, "order files (CSV or JSON) to import at start");
  app.add_flag("--all-or-nothing", o.all_or_nothing, "refuse an order file with any bad row");
  app.add_option("--demo-orders", o.demo_orders, "load this many demo orders into an empty store");
  app.add_option("--record", o.record_path, "record every event handed to the core (replayable)");
  app.add_option("--run-seconds", o.run_seconds, "stop after this many seconds");
  app.add_option("--clock-start", o.clock_start,
                 "demo/test clock: start the station's local time at HH:MM today");
  std::int64_t clock_offset_s = 0;
  app.add_option("--clock-offset", clock_offset_s,
                 "demo/test clock: shift the station clock by this many seconds");
  app.add_option("--check-config", check, "check a station configuration and exit");
  app.add_option("--replay", replay_file, "replay a recorded event log through the core");
  app.add_option("--expect", expect, "with --replay: compare with this expected output");
  app.add_option("--write-expected", write_expected, "with --replay: write the expected output");
  // The ZeroMQ bus (docs/protocol.md).
  sortd::BusOptions bus_opt;
  bool no_bus = false;
  app.add_option("--bus-pub", bus_opt.pub_endpoint, "PUB endpoint of the status stream")
      ->capture_default_str();
  app.add_option("--bus-router", bus_opt.router_endpoint, "ROUTER endpoint for requests")
      ->capture_default_str();
  app.add_flag("--no-bus", no_bus, "run without the ZeroMQ bus");
  app.add_option("--users", bus_opt.users_file, "users file (TOML): operators, roles, hashes");
  app.add_flag("--bus-view-login", bus_opt.view_needs_login, "viewing needs a login too");
  app.add_flag("--curve", bus_opt.curve, "CURVE on the bus even on loopback");
  app.add_option("--curve-key", bus_opt.curve_key_file, "the daemon's CURVE key pair file");
  app.add_option("--curve-clients", bus_opt.curve_clients_file,
                 "allowed CURVE client public keys, one a line");
  CLI11_PARSE(app, argc, argv);
  o.clock_offset_ms = clock_offset_s * 1000;
  sortd::setup_logging("sortd");  // the journal under systemd, the console otherwise

  try {
    if (!check.empty()) {
      sortd::StationConfig cfg = sortd::load_config_file(check);
      sortd::check_devices(cfg);
      std::cout << check << ": ok (" << cfg.couriers.size() << " couriers, " << cfg.lanes.size()
                << " lanes, " << cfg.devices.size() << " devices)\n";
      return 0;
    }
    if (!replay_file.empty()) return run_replay(replay_file, o.config_path, expect, write_expected);

    if (demo) {
      if (o.config_path.empty()) o.config_path = default_demo_config();
      if (o.db_path.empty()) {
        std::filesystem::create_directories("/tmp/sortd-demo");
        o.db_path = "/tmp/sortd-demo/sortd.db";
        fresh = true;
      }
      if (o.demo_orders == 0) o.demo_orders = 20000;
    }
    if (o.config_path.empty()) {
      std::cerr << "sortd: --config is required (or --demo)\n";
      return 2;
    }
    if (o.db_path.empty()) o.db_path = "sortd.db";
    if (fresh)
      for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(o.db_path + ext);

    sortd::WorkerSignalMask worker_mask;  // threads started from here on never take signals
    sortd::Daemon d(o);
    d.start();
    std::unique_ptr<sortd::Bus> bus;
    if (!no_bus) bus = std::make_unique<sortd::Bus>(d, bus_opt);
    sortd::ReloadOnSighup reload_on_hup(d);  // after the bus: composes with its tick
    g_daemon = &d;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    spdlog::info("sortd: station '{}' running ({} lanes, {} couriers)", d.config().station_name,
                 d.config().lanes.size(), d.config().couriers.size());
    worker_mask.release();  // SIGINT, SIGTERM, SIGHUP: to this thread, the loop, only
    int rc = d.run();
    bus.reset();
    g_daemon = nullptr;
    return rc;
  } catch (const sortd::ConfigError& e) {
    for (const auto& i : e.issues()) std::cerr << i.str() << "\n";
    std::cerr << "sortd: the configuration has " << e.issues().size()
              << " problem(s); not starting\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "sortd: " << e.what() << "\n";
    return 1;
  }
}
