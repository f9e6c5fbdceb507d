// Helpers for the sorter tests: PLC peers run as child processes (our `sort-sim plc`, or the
// independent pymodbus PLC in tests/peers/plc_pymodbus.py), over TCP or over RTU through a socat
// pty pair; a control-port client; and a pump that polls a PlcClient until a condition holds.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "sorter/plc_client.h"

namespace sortd::test {

using namespace std::chrono_literals;

// A hang guard, not a timing assertion: the scenarios wait for events, and only fail when
// nothing happens for this long.
inline constexpr auto kPatience = 20s;

class Child {
 public:
  explicit Child(std::vector<std::string> argv, bool capture_stdout = true) {
    int out[2];
    BOOST_REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    pid_ = ::fork();
    BOOST_REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      if (capture_stdout) ::dup2(out[1], 1);
      ::setpgid(0, 0);
      std::vector<char*> a;
      for (auto& s : argv) a.push_back(s.data());
      a.push_back(nullptr);
      ::execv(a[0], a.data());
      ::_exit(127);
    }
    ::close(out[1]);
    out_ = out[0];
  }
  ~Child() { kill(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  // Next line of the child's stdout; empty when it exits or after kPatience.
  std::string line() {
    std::string s;
    auto until = std::chrono::steady_clock::now() + kPatience;
    char c;
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      if (::read(out_, &c, 1) != 1) break;
      if (c == '\n') return s;
      s += c;
    }
    return s;
  }
  void kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int st = 0;
      for (int i = 0; i < 50; ++i) {
        if (::waitpid(pid_, &st, WNOHANG) == pid_) {
          pid_ = -1;
          break;
        }
        std::this_thread::sleep_for(20ms);
      }
      if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &st, 0);
        pid_ = -1;
      }
    }
    if (out_ >= 0) ::close(out_);
    out_ = -1;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
};

inline int connect_tcp(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(std::uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A socat pty pair: the driver opens `a`, the PLC serves on `b`.
class PtyPair {
 public:
  PtyPair() {
    dir_ = std::filesystem::temp_directory_path() /
           ("sortd-pty-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::create_directories(dir_);
    a = (dir_ / "host").string();
    b = (dir_ / "plc").string();
    socat_ = std::make_unique<Child>(
        std::vector<std::string>{"/usr/bin/socat", "pty,raw,echo=0,link=" + a,
                                 "pty,raw,echo=0,link=" + b},
        false);
    auto until = std::chrono::steady_clock::now() + kPatience;
    while (std::chrono::steady_clock::now() < until &&
           !(std::filesystem::exists(a) && std::filesystem::exists(b)))
      std::this_thread::sleep_for(20ms);
    BOOST_REQUIRE_MESSAGE(std::filesystem::exists(a) && std::filesystem::exists(b),
                          "socat made no pty pair");
  }
  ~PtyPair() {
    socat_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string a, b;

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::filesystem::path dir_;
  std::unique_ptr<Child> socat_;
};

// A PLC peer with a control port (same command language for both peers; docs/simulators.md).
class Peer {
 public:
  enum class Kind { Sim, Pymodbus };
  enum class Link { Tcp, Rtu };
  Peer(Kind kind, Link link, std::vector<std::string> extra = {}) : kind_(kind), link_(link) {
    std::vector<std::string> argv;
    if (kind == Kind::Sim) {
      argv = {SORTD_BINARY_DIR "/devices/sort-sim", "plc", "--manual-clock"};
    } else {
      argv = {"/usr/bin/python3", SORTD_SOURCE_DIR "/tests/peers/plc_pymodbus.py",
              "--manual-clock"};
    }
    if (link == Link::Rtu) {
      pty_ = std::make_unique<PtyPair>();
      argv.push_back("--rtu");
      argv.push_back(pty_->b);
    }
    for (auto& e : extra) argv.push_back(e);
    child_ = std::make_unique<Child>(argv);
    std::string ready = child_->line();
    BOOST_REQUIRE_MESSAGE(ready.rfind("READY ", 0) == 0, "peer did not start: '" << ready << "'");
    std::istringstream in(ready.substr(6));
    std::string kv;
    while (in >> kv) {
      auto eq = kv.find('=');
      if (kv.substr(0, eq) == "modbus") modbus_port_ = std::stoi(kv.substr(eq + 1));
      if (kv.substr(0, eq) == "control") control_port_ = std::stoi(kv.substr(eq + 1));
    }
    ctl_ = connect_tcp(control_port_);
    BOOST_REQUIRE_MESSAGE(ctl_ >= 0, "cannot reach the control port " << control_port_);
  }
  ~Peer() {
    if (ctl_ >= 0) ::close(ctl_);
  }
  std::string name() const {
    return std::string(kind_ == Kind::Sim ? "sort-sim" : "pymodbus") +
           (link_ == Link::Tcp ? "/tcp" : "/rtu");
  }
  Kind kind() const { return kind_; }
  Link link() const { return link_; }

  std::string control(const std::string& line) {
    std::string l = line + "\n";
    BOOST_REQUIRE(::send(ctl_, l.data(), l.size(), MSG_NOSIGNAL) == ssize_t(l.size()));
    std::string r;
    char c;
    auto until = std::chrono::steady_clock::now() + kPatience;
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{ctl_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      if (::read(ctl_, &c, 1) != 1) break;
      if (c == '\n') return r;
      r += c;
    }
    BOOST_FAIL("no answer from the control port to '" << line << "'");
    return r;
  }
  // A command that must succeed; returns what follows "ok".
  std::string ok(const std::string& line) {
    std::string r = control(line);
    BOOST_REQUIRE_MESSAGE(r.rfind("ok", 0) == 0, "'" << line << "' -> '" << r << "'");
    return r.size() > 3 ? r.substr(3) : "";
  }
  std::uint32_t induct(const std::string& args = "") {
    return std::uint32_t(std::stoul(ok("induct" + (args.empty() ? "" : " " + args))));
  }
  // key=value from `parcel <tid>` or `stats`.
  static std::optional<long long> field(const std::string& reply, const std::string& key) {
    std::istringstream in(reply);
    std::string kv;
    while (in >> kv)
      if (kv.rfind(key + "=", 0) == 0) return std::stoll(kv.substr(key.size() + 1));
    return std::nullopt;
  }
  static std::string sfield(const std::string& reply, const std::string& key) {
    std::istringstream in(reply);
    std::string kv;
    while (in >> kv)
      if (kv.rfind(key + "=", 0) == 0) return kv.substr(key.size() + 1);
    return {};
  }

  sorter::PlcOptions client_options() const {
    sorter::PlcOptions o;
    o.name = "sorter1";
    if (link_ == Link::Tcp) {
      o.transport = sorter::PlcOptions::Transport::Tcp;
      o.host = "127.0.0.1";
      o.port = modbus_port_;
    } else {
      o.transport = sorter::PlcOptions::Transport::Rtu;
      o.device = pty_->a;
      o.baud = 115200;
    }
    o.poll_interval_ms = 5;
    o.response_timeout_ms = link_ == Link::Rtu ? 1000 : 500;
    o.ack_timeout_ms = 1000;
    o.reconnect_min_ms = 50;
    o.reconnect_max_ms = 400;
    o.heartbeat_interval_ms = 100;
    o.plc_heartbeat_timeout_ms = 5000;
    return o;
  }
  int modbus_port() const { return modbus_port_; }

 private:
  Kind kind_;
  Link link_;
  std::unique_ptr<PtyPair> pty_;
  std::unique_ptr<Child> child_;
  int modbus_port_ = 0, control_port_ = 0, ctl_ = -1;
};

// Everything a PlcClient produced, in order.
struct Log {
  std::vector<Event> events;
  template <class T>
  std::vector<T> all() const {
    std::vector<T> v;
    for (auto& e : events)
      if (auto* p = std::get_if<T>(&e)) v.push_back(*p);
    return v;
  }
  template <class T>
  std::size_t count(const std::function<bool(const T&)>& f = [](const T&) { return true; }) const {
    std::size_t n = 0;
    for (auto& e : events)
      if (auto* p = std::get_if<T>(&e); p && f(*p)) ++n;
    return n;
  }
  std::optional<DivertConfirmed> confirmation(std::uint32_t seq, std::uint32_t tid) const {
    for (auto& c : all<DivertConfirmed>())
      if (c.seq == seq && c.tracking_id == tid) return c;
    return std::nullopt;
  }
};

// Poll until `done(log)` holds; fails the test after kPatience without it.
inline void pump(sorter::PlcClient& c, Log& log, const std::function<bool(const Log&)>& done,
                 const std::string& what) {
  auto until = std::chrono::steady_clock::now() + kPatience;
  while (!done(log)) {
    if (std::chrono::steady_clock::now() > until) {
      BOOST_FAIL("gave up waiting for: " << what);
      return;
    }
    for (auto& e : c.poll()) log.events.push_back(std::move(e));
    std::this_thread::sleep_for(std::chrono::milliseconds(std::max(1, c.next_poll_in_ms())));
  }
}

}  // namespace sortd::test
