// Serial scanners: the real termios driver on one end of a socat pty pair, the test writing
// frames on the other end; the port disappearing and coming back (socat stopped and started
// again); triggers written to the port; and the sort-sim reader in pty mode.
#define BOOST_TEST_MODULE scanner_serial
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "scanner/sim_reader.h"
#include "scanner_test_util.h"

extern char** environ;

using namespace sortd;
using namespace sortd::dev::scanner;
using namespace scanner_test;
namespace fs = std::filesystem;

namespace {

// A socat pty pair: `driver_end` for the driver, `test_end` for the test.
class PtyPair {
 public:
  PtyPair() {
    char tmpl[] = "/tmp/sortd-serial-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    driver_end = dir_ + "/scanner";
    test_end = dir_ + "/test";
    start();
  }
  ~PtyPair() {
    stop();
    fs::remove_all(dir_);
  }
  void start() {
    const char* socat = std::getenv("SOCAT");
    std::string exe = socat ? socat : "socat";
    std::string a = "pty,raw,echo=0,link=" + driver_end;
    std::string b = "pty,raw,echo=0,link=" + test_end;
    const char* argv[] = {exe.c_str(), "-d", "-d", a.c_str(), b.c_str(), nullptr};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, (dir_ + "/socat.log").c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    int rc = posix_spawnp(&pid_, exe.c_str(), &fa, nullptr, const_cast<char**>(argv), environ);
    posix_spawn_file_actions_destroy(&fa);
    BOOST_REQUIRE_MESSAGE(rc == 0, "cannot start socat");
    auto until = std::chrono::steady_clock::now() + kWait;
    while (!(fs::exists(driver_end) && fs::exists(test_end)) &&
           std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(10ms);
    BOOST_REQUIRE_MESSAGE(fs::exists(test_end), "socat made no ptys");
    fd = ::open(test_end.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK);
    BOOST_REQUIRE(fd >= 0);
  }
  void stop() {
    if (fd >= 0) ::close(fd);
    fd = -1;
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int st;
      ::waitpid(pid_, &st, 0);
    }
    pid_ = -1;
  }
  void write(const std::string& s) {
    BOOST_REQUIRE_EQUAL(::write(fd, s.data(), s.size()), static_cast<ssize_t>(s.size()));
  }
  std::string read_some(std::chrono::milliseconds timeout) {
    pollfd p{fd, POLLIN, 0};
    std::string out;
    if (::poll(&p, 1, static_cast<int>(timeout.count())) > 0) {
      char buf[256];
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) out.assign(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

  std::string driver_end, test_end;
  int fd = -1;

 private:
  std::string dir_;
  pid_t pid_ = -1;
};

SerialConfig serial_config(const std::string& dev, std::map<std::string, std::string> extra) {
  std::map<std::string, std::string> o = {{"device", dev},
                                          {"baud", "115200"},
                                          {"retry_min_ms", "20"},
                                          {"retry_max_ms", "200"},
                                          {"idle_ms", "2000"}};
  for (auto& [k, v] : extra) o[k] = v;
  return config<SerialConfig>(device("serial", o), read_serial_config);
}

}  // namespace

BOOST_AUTO_TEST_CASE(reads_over_a_pty_pair_with_stx_etx_framing) {
  PtyPair pty;
  Recorder rec;
  SerialScanner drv(serial_config(
      pty.driver_end,
      {{"framing", "stx-etx"}, {"parity", "even"}, {"data_bits", "7"}, {"separator", ","}}));
  std::jthread t([&](std::stop_token st) { drv.run(rec.host, st); });
  BOOST_REQUIRE(rec.wait_status(true));

  pty.write("\x02]C0ZT100200300\x03");
  pty.write("junk\x02]Q1QR-1,]C0ZT2\x03\r\n\x02");
  std::this_thread::sleep_for(30ms);
  pty.write("NoRead\x03");
  auto r = rec.next_read();
  BOOST_REQUIRE(r);
  BOOST_TEST(texts(*r) == (std::vector<std::string>{"ZT100200300"}));
  BOOST_TEST(r->codes[0].symbology == "C0");
  r = rec.next_read();
  BOOST_REQUIRE(r);
  BOOST_TEST(texts(*r) == (std::vector<std::string>{"QR-1", "ZT2"}));
  r = rec.next_read();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->no_read);
}

BOOST_AUTO_TEST_CASE(custom_prefix_suffix_and_gs1) {
  PtyPair pty;
  Recorder rec;
  SerialScanner drv(serial_config(pty.driver_end, {{"prefix", "@@"}, {"suffix", "#\\r"}}));
  std::jthread t([&](std::stop_token st) { drv.run(rec.host, st); });
  BOOST_REQUIRE(rec.wait_status(true));
  // A GS1-128 read split over three writes.
  pty.write(
      "@@]C1"
      "4211562");
  std::this_thread::sleep_for(20ms);
  pty.write(
      "00000\x1d"
      "0012345678901");
  std::this_thread::sleep_for(20ms);
  pty.write("2345675#\r");
  auto r = rec.next_read();
  BOOST_REQUIRE(r);
  BOOST_TEST(texts(*r) == (std::vector<std::string>{"123456789012345675"}));
  BOOST_TEST(r->codes[0].symbology == "C1");
}

BOOST_AUTO_TEST_CASE(port_unplugged_and_back) {
  PtyPair pty;
  Recorder rec;
  SerialScanner drv(serial_config(pty.driver_end, {{"framing", "cr"}}));
  std::jthread t([&](std::stop_token st) { drv.run(rec.host, st); });
  BOOST_REQUIRE(rec.wait_status(true));
  pty.write("FIRST\r");
  auto r = rec.next_read();
  BOOST_REQUIRE(r);
  BOOST_TEST(texts(*r) == (std::vector<std::string>{"FIRST"}));

  pty.stop();  // the port goes away
  auto s = rec.next_status();
  BOOST_REQUIRE(s);
  BOOST_TEST(!s->up);
  BOOST_TEST_MESSAGE("down: " << s->detail);
  std::this_thread::sleep_for(200ms);  // retries fail while it is away
  pty.start();
  BOOST_REQUIRE(rec.wait_status(true));
  pty.write("SECOND\r");
  r = rec.next_read();
  BOOST_REQUIRE(r);
  BOOST_TEST(texts(*r) == (std::vector<std::string>{"SECOND"}));
}

BOOST_AUTO_TEST_CASE(trigger_is_written_to_the_port) {
  PtyPair pty;
  Recorder rec;
  SerialScanner drv(serial_config(pty.driver_end, {{"trigger", "<SYN>T<CR>"}}));
  std::jthread t([&](std::stop_token st) { drv.run(rec.host, st); });
  BOOST_REQUIRE(rec.wait_status(true));
  rec.command(R"({"type":"trigger","tracking_id":5})");
  BOOST_TEST(pty.read_some(kWait) == "\x16T\r");
}

BOOST_AUTO_TEST_CASE(sort_sim_reader_in_pty_mode) {
  char tmpl[] = "/tmp/sortd-simpty-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string link = dir + "/reader";
  SimFraming f;
  f.suffix = "\r";
  f.separator = ";";
  f.aim = true;
  {
    auto sim = SimReader::pty(link, f);
    Recorder rec;
    SerialScanner drv(serial_config(link, {{"framing", "cr"}, {"separator", ";"}}));
    std::jthread t([&](std::stop_token st) { drv.run(rec.host, st); });
    BOOST_REQUIRE(rec.wait_status(true));
    ScanRead read;
    read.codes = {{"PTY-1", "C0"}, {"PTY-2", "d1"}};
    BOOST_REQUIRE(sim->play(read));
    auto r = rec.next_read();
    BOOST_REQUIRE(r);
    BOOST_TEST(texts(*r) == (std::vector<std::string>{"PTY-1", "PTY-2"}));
    BOOST_TEST(r->codes[1].symbology == "d1");
  }
  fs::remove_all(dir);
}
