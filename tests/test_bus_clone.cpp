// The clone pattern, end to end, with an independent client: tests/peers/clone_client.py
// (python3-zmq, written from docs/protocol.md alone) joins a running daemon mid-stream while
// simulated parcels flow, and must end with exactly the daemon's state (compared with a fresh
// snapshot once the stream is stopped); a restart of the daemon makes it resync.
#define BOOST_TEST_MODULE bus_clone
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "test_bus_fixture.h"

using namespace bus_test;

namespace {

// A child process with its standard input and output on pipes.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv) {
    int in[2], out[2];
    BOOST_REQUIRE(::pipe(in) == 0 && ::pipe(out) == 0);
    pid_ = ::fork();
    BOOST_REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::close(in[1]);
      ::close(out[0]);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(to_);
    ::close(from_);
  }
  void send(const std::string& line) {
    std::string l = line + "\n";
    BOOST_REQUIRE(::write(to_, l.data(), l.size()) == static_cast<ssize_t>(l.size()));
  }
  // The next line that starts with one of `prefixes` (others are logged), within `seconds`.
  std::string expect(const std::vector<std::string>& prefixes, double seconds = 120) {
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::milliseconds(static_cast<long>(seconds * 1000));
    while (std::chrono::steady_clock::now() < until) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        BOOST_TEST_MESSAGE("clone_client: " << line);
        for (const auto& p : prefixes)
          if (line.rfind(p, 0) == 0) return line;
        continue;
      }
      pollfd p{from_, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      char tmp[4096];
      ssize_t n = ::read(from_, tmp, sizeof tmp);
      if (n <= 0) break;
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
    BOOST_FAIL("clone_client said none of the expected lines in time");
    return {};
  }

 private:
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::string buf_;
};

std::uint64_t field_of(const std::string& line, const std::string& key) {
  auto at = line.find(key + "=");
  BOOST_REQUIRE(at != std::string::npos);
  return std::stoull(line.substr(at + key.size() + 1));
}
std::string word_of(const std::string& line, const std::string& key) {
  auto at = line.find(key + "=");
  BOOST_REQUIRE(at != std::string::npos);
  auto start = at + key.size() + 1;
  return line.substr(start, line.find(' ', start) - start);
}

}  // namespace

BOOST_AUTO_TEST_CASE(python_clone_joins_mid_stream_matches_and_resyncs_after_restart) {
  fs::path dir = make_temp_dir("bus-clone");
  const std::string config = demo_config(dir, "rate = 40");
  const std::string db = (dir / "sortd.db").string();
  std::string pub, router, first_instance;
  {
    auto st = std::make_unique<Station>(dir, config, sortd::BusOptions{}, "", db);
    pub = st->pub;
    router = st->router;
    // Let parcels flow before the client joins.
    Client c(router);
    wait_state(c, [](const json& s) { return s["stats"]["decided"].get<int>() >= 20; });
    first_instance = c.ok({{"cmd", "hello"}})["instance"];

    Child py({"/usr/bin/python3", SORTD_SOURCE_DIR "/tests/peers/clone_client.py", "--pub", pub,
              "--router", router});
    std::string synced = py.expect({"SYNCED"});
    BOOST_CHECK_EQUAL(word_of(synced, "instance"), first_instance);
    const std::uint64_t joined_at = field_of(synced, "seq");
    BOOST_CHECK(joined_at > 0);  // mid-stream
    // More parcels flow while the client follows the stream.
    wait_state(c, [](const json& s) { return s["stats"]["decided"].get<int>() >= 120; });
    py.send("status");
    std::string status = py.expect({"STATUS"});
    BOOST_CHECK(field_of(status, "applied") > 0);
    // Stop the stream, then compare with a fresh snapshot.
    st->daemon->stop_devices();
    py.send("compare");
    std::string cmp = py.expect({"COMPARE"});
    BOOST_CHECK_MESSAGE(cmp.rfind("COMPARE OK", 0) == 0, cmp);
    BOOST_CHECK(field_of(cmp, "seq") > joined_at);
    BOOST_CHECK(field_of(cmp, "recent") > 0);

    // Restart the daemon on the same endpoints and the same database.
    st->shutdown();
    sortd::BusOptions same;
    same.pub_endpoint = pub;
    same.router_endpoint = router;
    st = std::make_unique<Station>(dir, config, same, "", db);
    const std::string second_instance = st->bus->instance();
    BOOST_CHECK_NE(second_instance, first_instance);
    // The client notices (heartbeat with a new instance, or silence) and resyncs.
    std::string resynced;
    do {
      resynced = py.expect({"SYNCED"});
    } while (word_of(resynced, "instance") != second_instance);
    wait_state(c, [](const json& s) { return s["stats"]["decided"].get<int>() >= 40; });
    st->daemon->stop_devices();
    py.send("compare");
    cmp = py.expect({"COMPARE"});
    BOOST_CHECK_MESSAGE(cmp.rfind("COMPARE OK", 0) == 0, cmp);
    py.send("quit");
  }
  fs::remove_all(dir);
}
