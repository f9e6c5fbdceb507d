// A real sortd daemon (demo station, simulated devices, temp database) with its ZeroMQ bus on
// free loopback ports, its loop running in a thread; and a DEALER client for requests.
#pragma once

#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "codec.h"
#include "daemon.h"
#include "daemon_bus.h"
#include "daemon_bus_auth.h"

namespace bus_test {

using nlohmann::json;
namespace fs = std::filesystem;

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline fs::path make_temp_dir(const std::string& tag) {
  std::random_device rd;
  fs::path p = fs::temp_directory_path() /
               ("sortd-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(p);
  return p;
}

// The demo station, with extra options for the simulated sorter (e.g. "rate = 50").
inline std::string demo_config(const fs::path& dir, const std::string& sorter_options = "") {
  std::string text = read_text(SORTD_SOURCE_DIR "/config/demo-station.toml");
  const std::string anchor = "name = \"sorter-1\"\nkind = \"sorter\"\ndriver = \"sim\"\n";
  auto at = text.find(anchor);
  BOOST_REQUIRE(at != std::string::npos);
  // Set each "key = value" of sorter_options in the sorter's section, replacing the file's own.
  std::size_t begin = at + anchor.size();
  std::size_t end = text.find("\n[", begin);
  if (end == std::string::npos) end = text.size();
  std::string section = text.substr(begin, end - begin), added;
  std::istringstream opts(sorter_options);
  std::string opt;
  while (std::getline(opts, opt)) {
    const std::string key = opt.substr(0, opt.find(' '));
    if (key.empty()) continue;
    std::istringstream lines(section);
    std::string line, kept;
    while (std::getline(lines, line))
      if (line.rfind(key + " ", 0) != 0 && line.rfind(key + "=", 0) != 0) kept += line + "\n";
    section = kept;
    added += opt + "\n";
  }
  text.replace(begin, end - begin, added + section);
  fs::path out = dir / "station.toml";
  std::ofstream(out) << text;
  return out.string();
}

struct TestUser {
  std::string name, role, password;
};
inline const std::vector<TestUser>& test_users() {
  static const std::vector<TestUser> u = {{"vera", "viewer", "vera-pw"},
                                          {"oscar", "operator", "oscar-pw"},
                                          {"sara", "supervisor", "sara-pw"},
                                          {"adam", "admin", "adam-pw"}};
  return u;
}
inline std::string write_users(const fs::path& dir) {
  std::ostringstream s;
  s << "session_ttl_s = 3600\n";
  for (const auto& u : test_users())
    s << "\n[[users]]\nname = \"" << u.name << "\"\nrole = \"" << u.role << "\"\npassword_hash = \""
      << sortd::hash_password(u.password, "min") << "\"\n";
  fs::path p = dir / "users.toml";
  std::ofstream(p) << s.str();
  return p.string();
}

struct Station {
  fs::path dir;
  std::unique_ptr<sortd::Daemon> daemon;
  std::unique_ptr<sortd::Bus> bus;
  std::thread loop;
  std::string pub, router;

  // `pub_ep` / `router_ep` default to free ports.
  Station(const fs::path& d, const std::string& config, sortd::BusOptions bo = {},
          const std::string& record = "", const std::string& db = "")
      : dir(d) {
    sortd::DaemonOptions o;
    o.clock_start = "09:30";  // the demo couriers are all before their cutoffs
    o.config_path = config;
    o.db_path = db.empty() ? (dir / "sortd.db").string() : db;
    o.demo_orders = 20000;
    o.record_path = record;
    daemon = std::make_unique<sortd::Daemon>(o);
    daemon->start();
    if (bo.pub_endpoint == sortd::BusOptions{}.pub_endpoint) bo.pub_endpoint = "tcp://127.0.0.1:*";
    if (bo.router_endpoint == sortd::BusOptions{}.router_endpoint)
      bo.router_endpoint = "tcp://127.0.0.1:*";
    bus = std::make_unique<sortd::Bus>(*daemon, bo);
    pub = bus->pub_endpoint();
    router = bus->router_endpoint();
    loop = std::thread([this] { daemon->run(); });
  }
  ~Station() { shutdown(); }
  void shutdown() {
    if (!daemon) return;
    daemon->stop();
    if (loop.joinable()) loop.join();
    bus.reset();
    daemon.reset();
  }
  // Sends one event into the daemon's loop the way a driver does (inproc PUSH).
  void inject(const sortd::Event& e) {
    zmq::socket_t push(daemon->zmq(), zmq::socket_type::push);
    push.set(zmq::sockopt::linger, 1000);
    push.connect("inproc://sortd/events");
    push.send(zmq::buffer(sortd::encode_event(e)), zmq::send_flags::none);
  }
};

// sortctl, the real binary, against a Station: `sortctl --router .. --pub .. --token-file
// DIR/token --timeout 20 ARGS` with `input` (one line) on its standard input. Returns its exit
// code and what it printed (both streams); the test log shows both.
inline std::pair<int, std::string> run_sortctl(const Station& st, const fs::path& dir,
                                               const std::string& args,
                                               const std::string& input = "") {
  const std::string bin = SORTD_BINARY_DIR "/controller/sortctl";
  const std::string out = (dir / "out.txt").string();
  std::string cmd = bin + " --router " + st.router + " --pub " + st.pub + " --token-file " +
                    (dir / "token").string() + " --timeout 20 " + args + " >" + out + " 2>&1";
  if (!input.empty()) cmd = "printf '%s\\n' '" + input + "' | " + cmd;
  const int rc = std::system(cmd.c_str());
  BOOST_TEST_MESSAGE("sortctl " << args << " -> " << WEXITSTATUS(rc) << "\n" << read_text(out));
  return {WEXITSTATUS(rc), read_text(out)};
}

// A DEALER client of the ROUTER socket.
class Client {
 public:
  explicit Client(const std::string& router, int timeout_ms = 20000)
      : s_(ctx_, zmq::socket_type::dealer), timeout_ms_(timeout_ms) {
    s_.set(zmq::sockopt::linger, 0);
    endpoint_ = router;
  }
  zmq::socket_t& socket() { return s_; }
  void connect() { s_.connect(endpoint_); }
  // Raw frames in, the reply frame out (nullopt on timeout).
  std::optional<std::string> raw(const std::vector<std::string>& frames) {
    if (!connected_) {
      connect();
      connected_ = true;
    }
    for (std::size_t i = 0; i < frames.size(); ++i)
      s_.send(zmq::buffer(frames[i]),
              i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    zmq::pollitem_t it{s_.handle(), 0, ZMQ_POLLIN, 0};
    while (true) {
      if (zmq::poll(&it, 1, std::chrono::milliseconds(timeout_ms_)) == 0) return std::nullopt;
      zmq::message_t m;
      if (!s_.recv(m)) return std::nullopt;
      if (m.size() == 0 && m.more()) continue;  // delimiter echoed
      return m.to_string();
    }
  }
  json call(json req) {
    if (!token.empty() && !req.contains("token")) req["token"] = token;
    auto r = raw({req.dump()});
    BOOST_REQUIRE_MESSAGE(r, "no reply to " << req.dump());
    json j = json::parse(*r, nullptr, false);
    BOOST_REQUIRE_MESSAGE(!j.is_discarded(), "reply is not JSON: " << *r);
    BOOST_REQUIRE(j.contains("ok"));
    return j;
  }
  json ok(json req) {
    json r = call(req);
    BOOST_REQUIRE_MESSAGE(r["ok"] == true, req.dump() << " -> " << r.dump());
    return r["result"];
  }
  std::string error(json req) {
    json r = call(req);
    BOOST_REQUIRE_MESSAGE(r["ok"] == false, req.dump() << " -> " << r.dump());
    BOOST_REQUIRE(r["error"]["message"].is_string());
    BOOST_CHECK(!r["error"]["message"].get<std::string>().empty());
    return r["error"]["code"].get<std::string>();
  }
  void login(const std::string& user, const std::string& pw) {
    token = ok({{"cmd", "login"}, {"user", user}, {"password", pw}})["token"];
  }
  std::string token;

 private:
  zmq::context_t ctx_;
  zmq::socket_t s_;
  std::string endpoint_;
  int timeout_ms_;
  bool connected_ = false;
};

// Waits (polling the snapshot) until pred(state) holds; fails after `seconds`.
template <typename Pred>
json wait_state(Client& c, Pred pred, double seconds = 60) {
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  while (std::chrono::steady_clock::now() < until) {
    json s = c.ok({{"cmd", "snapshot"}});
    if (pred(s["state"])) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  BOOST_FAIL("the station did not reach the expected state");
  return {};
}

}  // namespace bus_test
