// sortd-hmi: the HMI gateway. A ZeroMQ client of sortd that serves the web page, its JSON API
// and the live stream to browsers (docs/hmi.md).
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <CLI/CLI.hpp>

#include "gateway.h"

namespace {
sortd::hmi::Gateway* g_gateway = nullptr;
std::atomic<bool> g_stop{false};
void on_signal(int) {
  g_stop = true;
}

std::string env_or(const char* name, const std::string& dflt) {
  const char* v = std::getenv(name);
  return v && *v ? v : dflt;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sortd-hmi: the HMI gateway of sortd (web page, HTTP API, live stream)"};
  sortd::hmi::GatewayOptions o;
  o.bus.pub = env_or("SORTD_PUB", o.bus.pub);
  o.bus.router = env_or("SORTD_ROUTER", o.bus.router);
  o.web_dir = SORTD_HMI_WEB_DIR;
  std::string server_key = env_or("SORTD_SERVER_KEY", ""),
              client_key = env_or("SORTD_CLIENT_KEY", "");
  int idle_s = static_cast<int>(o.idle_timeout_ms / 1000);
  int timeout_ms = static_cast<int>(o.request_timeout.count());
  app.add_option("--pub", o.bus.pub, "the daemon's PUB endpoint (or SORTD_PUB)")
      ->capture_default_str();
  app.add_option("--router", o.bus.router, "the daemon's ROUTER endpoint (or SORTD_ROUTER)")
      ->capture_default_str();
  app.add_option("--listen", o.listen, "HTTP address to listen on")->capture_default_str();
  app.add_option("--port", o.port, "HTTP port (0: any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  app.add_option("--web", o.web_dir, "the built web page (vite's output)")->capture_default_str();
  app.add_option("--idle-timeout", idle_s, "seconds without use after which a login ends")
      ->capture_default_str()
      ->check(CLI::Range(10, 7 * 24 * 3600));
  app.add_option("--timeout-ms", timeout_ms, "how long to wait for the daemon's reply")
      ->capture_default_str()
      ->check(CLI::Range(100, 600000));
  app.add_option("--max-streams", o.max_streams, "live streams (browsers) served at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_flag("--secure-cookie", o.secure_cookie, "mark the session cookie Secure (TLS proxy)");
  app.add_option("--server-key", server_key, "CURVE: the daemon's public key file");
  app.add_option("--client-key", client_key, "CURVE: this gateway's key pair file");
  std::string bus_password_file = env_or("SORTD_HMI_BUS_PASSWORD_FILE", "");
  o.bus_user = env_or("SORTD_HMI_BUS_USER", "");
  app.add_option("--bus-user", o.bus_user,
                 "log in to the daemon as this (viewer) user to view, for a daemon run with "
                 "--bus-view-login (or SORTD_HMI_BUS_USER)");
  app.add_option("--bus-password-file", bus_password_file,
                 "the --bus-user's password: the first line of this file (or "
                 "SORTD_HMI_BUS_PASSWORD_FILE)");
  CLI11_PARSE(app, argc, argv);
  o.idle_timeout_ms = std::int64_t(idle_s) * 1000;
  o.request_timeout = std::chrono::milliseconds(timeout_ms);

  try {
    if (!server_key.empty() || !client_key.empty()) {
      if (server_key.empty() || client_key.empty())
        throw std::runtime_error("CURVE needs both --server-key and --client-key");
      o.bus.curve = sortd::hmi::load_curve_keys(server_key, client_key);
    }
    if (!o.bus_user.empty()) {
      if (bus_password_file.empty())
        throw std::runtime_error("--bus-user needs --bus-password-file");
      std::ifstream f(bus_password_file);
      if (!f || !std::getline(f, o.bus_password) || o.bus_password.empty())
        throw std::runtime_error("cannot read a password from the first line of " +
                                 bus_password_file);
    }
    if (o.listen != "127.0.0.1" && o.listen != "localhost" && o.listen != "::1")
      spdlog::warn(
          "hmi: listening on {}: logins travel in clear HTTP; put a TLS proxy in front "
          "(and --secure-cookie)",
          o.listen);
    sortd::hmi::Gateway gw(o);
    const int port = gw.start();
    g_gateway = &gw;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGPIPE, SIG_IGN);
    const std::string host = (o.listen == "0.0.0.0" || o.listen == "::") ? "127.0.0.1" : o.listen;
    std::cout << "HMI: http://" << host << ":" << port << "/" << std::endl;
    spdlog::info("hmi: serving {} on {}:{}, daemon at {} / {}", o.web_dir, o.listen, port,
                 o.bus.router, o.bus.pub);
    std::thread server([&gw] { gw.run(); });
    sd_notify(0, "READY=1");
    std::uint64_t wd_usec = 0;
    const bool watchdog = sd_watchdog_enabled(0, &wd_usec) > 0;
    int ticks = 0;
    while (!g_stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (watchdog && ++ticks % 10 == 0) sd_notify(0, "WATCHDOG=1");
    }
    sd_notify(0, "STOPPING=1");
    gw.stop();
    server.join();
    g_gateway = nullptr;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "sortd-hmi: " << e.what() << "\n";
    return 1;
  }
}
