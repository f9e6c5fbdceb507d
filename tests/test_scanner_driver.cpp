// Scanner drivers as the daemon runs them: taken from the registry by (kind, driver), options
// checked, made, and run with a real DriverIo on ZeroMQ inproc sockets, so that reads arrive as
// the JSON events the core decodes and trigger commands go the other way. Also the `sort-sim
// scanner` tool as a separate process, playing a script the driver reads.
#define BOOST_TEST_MODULE scanner_driver
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codec.h"
#include "driver.h"
#include "scanner/sim_reader.h"

extern char** environ;

using namespace sortd;
using namespace std::chrono_literals;

namespace {

constexpr auto kWait = std::chrono::seconds(20);

StationConfig::Device device(const std::string& driver, std::map<std::string, std::string> o) {
  StationConfig::Device d;
  d.name = "tunnel-1";
  d.kind = "scanner";
  d.driver = driver;
  d.options = std::move(o);
  return d;
}

// The core's side of the driver sockets.
struct CoreSide {
  zmq::context_t ctx;
  zmq::socket_t events{ctx, zmq::socket_type::pull};
  zmq::socket_t commands{ctx, zmq::socket_type::push};
  CoreSide() {
    events.bind("inproc://events");
    commands.bind("inproc://commands");
  }
  std::optional<Event> next(std::chrono::milliseconds timeout = kWait) {
    zmq::pollitem_t item{events.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) <= 0) return std::nullopt;
    zmq::message_t m;
    if (!events.recv(m)) return std::nullopt;
    return decode_event(m.to_string_view());
  }
  template <class T>
  std::optional<T> next_of(std::chrono::milliseconds timeout = kWait) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      auto e = next(std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now()));
      if (!e) return std::nullopt;
      if (auto* p = std::get_if<T>(&*e)) return *p;
    }
    return std::nullopt;
  }
};

struct Running {
  std::unique_ptr<dev::Driver> driver;
  std::unique_ptr<dev::DriverIo> io;
  std::jthread thread;
  Running(CoreSide& core, const StationConfig::Device& d) {
    const dev::DriverInfo* info = dev::find_driver("scanner", d.driver);
    BOOST_REQUIRE(info);
    auto problems = info->check(d);
    for (auto& p : problems) BOOST_TEST_MESSAGE(p);
    BOOST_REQUIRE(problems.empty());
    StationConfig station;
    driver = info->make(d, station);
    io = std::make_unique<dev::DriverIo>(core.ctx, "inproc://events", "inproc://commands");
    thread = std::jthread([this](std::stop_token st) { driver->run(*io, st); });
  }
  ~Running() {
    thread.request_stop();
    if (thread.joinable()) thread.join();
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(registry_lists_the_scanner_drivers_and_checks_their_options) {
  for (const char* name : {"usb-hid", "serial", "tcp-client", "tcp-server"}) {
    const dev::DriverInfo* info = dev::find_driver("scanner", name);
    BOOST_REQUIRE_MESSAGE(info, name);
    BOOST_TEST(!info->help.empty());
  }
  auto problems = dev::find_driver("scanner", "tcp-client")
                      ->check(device("tcp-client", {{"host", "h"}, {"prot", "1"}}));
  BOOST_REQUIRE_EQUAL(problems.size(), 2u);
  BOOST_TEST(problems[0] == "port: missing");
  BOOST_TEST(problems[1] == "prot: unknown option for driver 'tcp-client'");
  problems =
      dev::find_driver("scanner", "usb-hid")
          ->check(device("usb-hid",
                         {{"vendor_id", "0x0c2e"}, {"product_id", "0x0b61"}, {"mode", "hidpos"}}));
  BOOST_REQUIRE_EQUAL(problems.size(), 1u);
  BOOST_TEST(problems[0] == "mode: 'hidpos' is not one of auto, keyboard, pos");
  // make() refuses what check() refuses, with the same messages.
  StationConfig station;
  BOOST_CHECK_THROW(dev::find_driver("scanner", "serial")->make(device("serial", {}), station),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(reads_reach_the_core_as_json_events_and_triggers_come_back) {
  CoreSide core;
  dev::scanner::SimFraming f;
  f.prefix = "\x02";
  f.suffix = "\x03";
  f.separator = ";";
  f.aim = true;
  auto sim = dev::scanner::SimReader::listen("127.0.0.1", 0, f);
  Running drv(core, device("tcp-client", {{"host", "127.0.0.1"},
                                          {"port", std::to_string(sim->port())},
                                          {"framing", "stx-etx"},
                                          {"separator", ";"},
                                          {"trigger", "<STX>T{id}<ETX>"}}));
  auto up = core.next_of<DeviceStatus>();
  BOOST_REQUIRE(up);
  BOOST_TEST(up->up);
  BOOST_TEST(up->device == "tunnel-1");
  BOOST_TEST((up->kind == DeviceKind::Scanner));
  BOOST_REQUIRE(sim->wait_connected(kWait));

  ScanRead r;
  r.codes = {{"SF1234567890", "C0"},
             {"\x1d"
              "00123456789012345675",
              "C1"}};
  BOOST_REQUIRE(sim->play(r));
  auto got = core.next_of<ScanRead>();
  BOOST_REQUIRE(got);
  BOOST_TEST(got->scanner == "tunnel-1");
  BOOST_REQUIRE_EQUAL(got->codes.size(), 2u);
  BOOST_TEST(got->codes[0].text == "SF1234567890");
  BOOST_TEST(got->codes[1].text == "123456789012345675");
  BOOST_TEST(got->codes[1].symbology == "C1");

  std::string cmd = R"({"type":"trigger","tracking_id":31})";
  core.commands.send(zmq::buffer(cmd));
  BOOST_TEST(sim->take_received(kWait) == "\x02T31\x03");

  sim.reset();  // the reader goes away
  auto down = core.next_of<DeviceStatus>();
  BOOST_REQUIRE(down);
  BOOST_TEST(!down->up);
}

BOOST_AUTO_TEST_CASE(sort_sim_scanner_tool_plays_a_script) {
  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/sortd-simscript-XXXXXX";
  fs::path dir = ::mkdtemp(tmpl);
  {
    std::ofstream s(dir / "reads.txt");
    s << "# a script\n"
         "0 read tid=5 ]C0SIM-1\n"
         "20 garbage <BEL>junk<CR><LF>\n"
         "20 noread\n"
         "20 split 3 ]Q1SIM-2 ]C0SIM-3\n";
  }
  int out[2];
  BOOST_REQUIRE(::pipe(out) == 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  std::string script = (dir / "reads.txt").string();
  const char* argv[] = {SORT_SIM,   "scanner",      "--listen", "127.0.0.1:0",
                        "--script", script.c_str(), "--aim",    "--tracking-sep",
                        ":",        "--split-rate", "0",        nullptr};
  pid_t pid;
  BOOST_REQUIRE(posix_spawn(&pid, SORT_SIM, &fa, nullptr, const_cast<char**>(argv), environ) == 0);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  FILE* so = ::fdopen(out[0], "r");
  char line[256] = {};
  BOOST_REQUIRE(std::fgets(line, sizeof line, so));
  std::string ready = line;
  BOOST_TEST_MESSAGE(ready);
  auto colon = ready.rfind(':');
  BOOST_REQUIRE(ready.rfind("READY listen=", 0) == 0 && colon != std::string::npos);
  int port = std::stoi(ready.substr(colon + 1));

  CoreSide core;
  {
    Running drv(core, device("tcp-client", {{"host", "127.0.0.1"},
                                            {"port", std::to_string(port)},
                                            {"framing", "crlf"},
                                            {"separator", ","},
                                            {"tracking_sep", ":"}}));
    auto r = core.next_of<ScanRead>();
    BOOST_REQUIRE(r);
    BOOST_TEST(r->tracking_id == 5u);
    BOOST_REQUIRE_EQUAL(r->codes.size(), 1u);
    BOOST_TEST(r->codes[0].text == "SIM-1");
    r = core.next_of<ScanRead>();  // the garbage line is rejected, not a read
    BOOST_REQUIRE(r);
    BOOST_TEST(r->no_read);
    r = core.next_of<ScanRead>();
    BOOST_REQUIRE(r);
    BOOST_REQUIRE_EQUAL(r->codes.size(), 2u);
    BOOST_TEST(r->codes[0].text == "SIM-2");
    BOOST_TEST(r->codes[0].symbology == "Q1");
    BOOST_TEST(r->codes[1].text == "SIM-3");
  }
  int status = 0;
  ::waitpid(pid, &status, 0);  // it ends by itself after the script
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
  std::fclose(so);

  // A bad script is refused before anything is played, naming the line.
  {
    std::ofstream s(dir / "bad.txt");
    s << "0 read OK\n10 reed X\n";
  }
  std::string bad = (dir / "bad.txt").string();
  const char* argv2[] = {SORT_SIM,   "scanner",   "--listen", "127.0.0.1:0",
                         "--script", bad.c_str(), nullptr};
  BOOST_REQUIRE(posix_spawn(&pid, SORT_SIM, nullptr, nullptr, const_cast<char**>(argv2), environ) ==
                0);
  ::waitpid(pid, &status, 0);
  BOOST_TEST(WEXITSTATUS(status) == 2);
  fs::remove_all(dir);
}
