// sort-sim feeder: the parcel stream of the demo station over real protocols. It inducts each
// demo parcel on a PLC simulator (`sort-sim plc`, through its control port), and when the parcel
// passes the scanner it plays the parcel's read as a fixed-mount TCP reader the daemon connects
// to (tcp-client scanner driver). The read carries no tracking id: the daemon pairs it with the
// PLC's induction by the scan window, as with a real reader that is not triggered by the PLC.
// Prints "READY reader=<port> control=<port>" once the reader listens. The control port (off
// unless --control-port) takes "unplug" (the reader's cable is pulled: its connection drops and
// it refuses connections; reads of parcels passing meanwhile are lost), "plug" and "stats".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <deque>
#include <memory>
#include <thread>

#include <CLI/CLI.hpp>

#include "demo_stream.h"
#include "scanner/sim_reader.h"
#include "sim.h"
#include "sim_net.h"

namespace sortd::sim {

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) {
  g_stop = true;
}

// A line-oriented client of the PLC simulator's control port.
class ControlClient {
 public:
  bool connect_to(const std::string& host, int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) return false;
    return ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~ControlClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  // Sends one command and returns its reply line ("" when the link is gone).
  std::string ask(const std::string& cmd) {
    std::string line = cmd + "\n";
    if (::send(fd_, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size()))
      return "";
    for (;;) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string reply = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        if (!reply.empty() && reply.back() == '\r') reply.pop_back();
        return reply;
      }
      char tmp[512];
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) return "";
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  std::string buf_;
};

int feeder_main(int argc, char** argv) {
  CLI::App app{
      "sort-sim feeder: demo parcels inducted on a PLC simulator and read by a TCP reader"};
  std::string plc = "127.0.0.1:1502";
  int reader_port = 0, scan_delay_ms = 400, control_port = -1;
  long count = 0;
  double rate = 4;
  dev::DemoStreamOptions so;
  app.add_option("--plc-control", plc, "HOST:PORT of `sort-sim plc`'s control port")->required();
  app.add_option("--reader-port", reader_port, "TCP port the reader listens on (0: any)");
  app.add_option("--control-port", control_port,
                 "control port: unplug, plug, stats (0: any free port, -1: none)");
  app.add_option("--rate", rate, "parcels per second")->check(CLI::Range(0.01, 1000.0));
  app.add_option("--scan-delay-ms", scan_delay_ms, "from induction to the scanner")
      ->check(CLI::Range(0, 60000));
  app.add_option("--count", count, "stop after this many parcels (0: never)");
  app.add_option("--orders", so.orders, "demo orders to draw from (same as the daemon's)");
  app.add_option("--seed", so.seed, "demo orders seed (same as the daemon's)");
  app.add_option("--no-read", so.no_read, "share of no-reads")->check(CLI::Range(0.0, 1.0));
  app.add_option("--unknown", so.unknown, "share of unknown codes")->check(CLI::Range(0.0, 1.0));
  app.add_option("--multi", so.multi, "share of multi-reads")->check(CLI::Range(0.0, 1.0));
  app.add_option("--duplicate", so.duplicate, "share of duplicates")->check(CLI::Range(0.0, 1.0));
  CLI11_PARSE(app, argc, argv);

  auto colon = plc.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "sort-sim feeder: --plc-control must be HOST:PORT, not '%s'\n",
                 plc.c_str());
    return 2;
  }
  ControlClient control;
  if (!control.connect_to(plc.substr(0, colon), std::atoi(plc.c_str() + colon + 1))) {
    std::fprintf(stderr, "sort-sim feeder: cannot reach the PLC control port %s\n", plc.c_str());
    return 3;
  }
  auto reader = dev::scanner::SimReader::listen("127.0.0.1", reader_port, {});
  std::atomic<long> played{0}, lost{0};
  std::atomic<bool> unplugged{false};
  std::unique_ptr<dev::LineControlServer> ctl;
  if (control_port >= 0) {
    ctl = std::make_unique<dev::LineControlServer>(
        "127.0.0.1", control_port, [&](const std::string& line) -> std::string {
          if (line == "unplug") {
            reader->unplug();
            unplugged = true;
            return "ok unplugged";
          }
          if (line == "plug") {
            try {
              reader->plug();
            } catch (const std::exception& e) {
              return std::string("error ") + e.what();
            }
            unplugged = false;
            return "ok plugged";
          }
          if (line == "stats")
            return "ok reads=" + std::to_string(played.load()) +
                   " lost=" + std::to_string(lost.load()) +
                   " reader=" + (unplugged ? "unplugged" : "plugged");
          return "error unknown command '" + line + "' (unplug, plug, stats)";
        });
  }
  std::printf("READY reader=%d control=%d\n", reader->port(), ctl ? ctl->port() : -1);
  std::fflush(stdout);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  dev::DemoStream stream(so);
  using Clock = std::chrono::steady_clock;
  struct Pending {
    Clock::time_point at;
    std::vector<std::string> codes;
  };
  std::deque<Pending> pending;
  const auto period =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1 / rate));
  auto next_induct = Clock::now();
  long inducted = 0;
  while (!g_stop) {
    const auto now = Clock::now();
    if ((count == 0 || inducted < count) && now >= next_induct) {
      std::string reply = control.ask("induct");
      if (reply.rfind("ok", 0) != 0) {
        std::fprintf(stderr, "sort-sim feeder: the PLC refused an induction: '%s'\n",
                     reply.c_str());
        if (reply.empty()) return 3;
      } else {
        pending.push_back({now + std::chrono::milliseconds(scan_delay_ms), stream.next()});
        ++inducted;
      }
      next_induct += period;
    }
    while (!pending.empty() && pending.front().at <= Clock::now()) {
      ScanRead r;
      r.scanner = "feeder";
      for (auto& c : pending.front().codes) r.codes.push_back({c, ""});
      r.no_read = r.codes.empty();
      if (reader->play(r)) {
        ++played;
      } else {
        ++lost;
        std::fprintf(stderr, "sort-sim feeder: %s: read lost\n",
                     unplugged ? "the reader is unplugged" : "no daemon connected");
      }
      pending.pop_front();
    }
    if (count && inducted >= count && pending.empty()) break;
    auto wake = next_induct;
    if (!pending.empty() && pending.front().at < wake) wake = pending.front().at;
    std::this_thread::sleep_until(std::min(wake, Clock::now() + std::chrono::milliseconds(50)));
  }
  return 0;
}

SimRegistrar reg("feeder", "demo parcels inducted on `sort-sim plc` and read over TCP",
                 feeder_main);

}  // namespace

}  // namespace sortd::sim
