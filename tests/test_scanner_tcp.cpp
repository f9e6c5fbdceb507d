// TCP fixed-mount readers on real loopback sockets: the driver connecting to the reader
// (tcp-client) and the reader connecting to the driver (tcp-server), with the simulated reader
// of sort-sim playing reads: split frames, garbage, multi-reads, no-reads, GS1, tracking ids,
// reader restarts and trigger commands.
#define BOOST_TEST_MODULE scanner_tcp
#include <boost/test/unit_test.hpp>

#include <thread>

#include "scanner/sim_reader.h"
#include "scanner_test_util.h"

using namespace sortd;
using namespace sortd::dev::scanner;
using namespace scanner_test;

namespace {

ScanRead read_of(std::vector<Code> codes, std::uint32_t tid = 0) {
  ScanRead r;
  r.codes = std::move(codes);
  r.tracking_id = tid;
  return r;
}

ScanRead no_read(std::uint32_t tid = 0) {
  ScanRead r;
  r.no_read = true;
  r.tracking_id = tid;
  return r;
}

TcpConfig client_config(int port, std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> o = {{"host", "127.0.0.1"},
                                          {"port", std::to_string(port)},
                                          {"retry_min_ms", "20"},
                                          {"retry_max_ms", "200"},
                                          {"idle_ms", "2000"}};
  for (auto& [k, v] : extra) o[k] = v;
  return config<TcpConfig>(device("tcp-client", o),
                           [](Options& op) { return read_tcp_config(op, false); });
}

// The next read the driver delivers holds exactly these codes.
void expect_read(Recorder& rec, const std::vector<std::string>& want) {
  auto r = rec.next_read();
  BOOST_REQUIRE_MESSAGE(r, "no read for " << want.front());
  BOOST_TEST(texts(*r) == want);
}

// A reader in listen mode (CR LF framing) and the tcp-client driver, connected.
struct ClientRig {
  std::unique_ptr<SimReader> sim = SimReader::listen("127.0.0.1", 0, SimFraming{});
  Recorder rec;
  TcpClientScanner drv{client_config(sim->port())};
  std::jthread t{[this](std::stop_token st) { drv.run(rec.host, st); }};  // joined first
  ClientRig() {
    BOOST_REQUIRE(rec.wait_status(true));
    BOOST_REQUIRE(sim->wait_connected(kWait));
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(client_mode_reads_every_kind_of_read) {
  SimFraming f;
  f.prefix = "\x02";
  f.suffix = "\x03\r\n";
  f.separator = ";";
  f.aim = true;
  f.tracking_sep = "|";
  auto sim = SimReader::listen("127.0.0.1", 0, f);
  Recorder rec;
  TcpClientScanner drv(client_config(
      sim->port(),
      {{"framing", "stx-etx"}, {"separator", ";"}, {"tracking_sep", "|"}, {"aim", "on"}}));
  std::jthread t([&](std::stop_token st) { drv.run(rec.host, st); });
  BOOST_REQUIRE(rec.wait_status(true));
  BOOST_REQUIRE(sim->wait_connected(kWait));

  BOOST_REQUIRE(sim->play(read_of({{"SF1234567890", "C0"}}, 7)));
  auto r = rec.next_read();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->scanner == "scan-test");
  BOOST_TEST(r->tracking_id == 7u);
  BOOST_TEST(texts(*r) == (std::vector<std::string>{"SF1234567890"}));
  BOOST_TEST(r->codes[0].symbology == "C0");

  // Multi-read with a QR code and a GS1-128 SSCC.
  BOOST_REQUIRE(sim->play(
      read_of({{"YT0001", "Q1"},
               {std::string("\x1d") + "00123456789012345675" + "\x1d" + "421156200000", "C1"}},
              8)));
  r = rec.next_read();
  BOOST_REQUIRE(r);
  BOOST_TEST(texts(*r) == (std::vector<std::string>{"YT0001", "123456789012345675"}));
  BOOST_TEST(r->codes[1].symbology == "C1");

  BOOST_REQUIRE(sim->play(no_read(9)));
  r = rec.next_read();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->no_read);
  BOOST_TEST(r->tracking_id == 9u);
  BOOST_TEST(r->codes.empty());
}

BOOST_AUTO_TEST_CASE(split_frames_and_garbage_between_frames) {
  SimFraming f;  // CR LF
  auto sim = SimReader::listen("127.0.0.1", 0, f);
  Recorder rec;
  TcpClientScanner drv(client_config(sim->port(), {{"framing", "crlf"}, {"max_frame", "64"}}));
  std::jthread t([&](std::stop_token st) { drv.run(rec.host, st); });
  BOOST_REQUIRE(sim->wait_connected(kWait));
  BOOST_REQUIRE(rec.wait_status(true));

  std::string frame = sim->encode(read_of({{"JD0123456789", ""}}));
  // Split inside the code and inside the CR LF.
  BOOST_REQUIRE(sim->send_split(frame, 4, 30ms));
  BOOST_REQUIRE(sim->send_split(sim->encode(read_of({{"JD2", ""}})), 4, 30ms));
  BOOST_REQUIRE(sim->send_raw("JD3\r"));
  std::this_thread::sleep_for(30ms);
  BOOST_REQUIRE(sim->send_raw("\nJD4\r\nJD5\r\n"));  // end of one + two in one packet
  // Over-long garbage, control bytes, then a good read.
  BOOST_REQUIRE(sim->send_raw(std::string(500, '#') + "\r\n"));
  BOOST_REQUIRE(sim->send_raw(std::string("\x07\x01\x7f") + "\r\n"));
  BOOST_REQUIRE(sim->send_raw("JD6\r\n"));
  for (const char* want : {"JD0123456789", "JD2", "JD3", "JD4", "JD5", "JD6"}) {
    auto r = rec.next_read();
    BOOST_REQUIRE_MESSAGE(r, "no read for " << want);
    BOOST_TEST(texts(*r) == (std::vector<std::string>{want}));
  }
}

BOOST_AUTO_TEST_CASE(reader_restart_reconnects_by_itself) {
  ClientRig rig;
  auto& sim = rig.sim;
  auto& rec = rig.rec;
  const int port = sim->port();
  BOOST_REQUIRE(sim->play(read_of({{"BEFORE", ""}})));
  BOOST_REQUIRE(rec.next_read());

  // The reader drops the connection (firmware restart): the driver goes down and comes back.
  sim->drop_connection();
  BOOST_REQUIRE(rec.wait_status(false));
  BOOST_REQUIRE(rec.wait_status(true));
  BOOST_REQUIRE(sim->wait_connected(kWait));
  BOOST_REQUIRE(sim->play(read_of({{"AFTER-DROP", ""}})));
  expect_read(rec, {"AFTER-DROP"});

  // The reader is gone for a while (refused connections), then listens again on its port.
  sim.reset();
  BOOST_REQUIRE(rec.wait_status(false));
  std::this_thread::sleep_for(300ms);  // a few refused attempts with backoff
  sim = SimReader::listen("127.0.0.1", port, SimFraming{});
  BOOST_REQUIRE(rec.wait_status(true));
  BOOST_REQUIRE(sim->wait_connected(kWait));
  BOOST_REQUIRE(sim->play(read_of({{"AFTER-RESTART", ""}})));
  expect_read(rec, {"AFTER-RESTART"});
}

BOOST_AUTO_TEST_CASE(unplugged_reader_is_down_until_plugged_back) {
  // What sort-sim feeder's "unplug" does in the fault harness: the cable is pulled, so the
  // connection drops and connecting is refused; reads meanwhile go nowhere.
  ClientRig rig;
  auto& sim = rig.sim;
  auto& rec = rig.rec;
  sim->unplug();
  BOOST_REQUIRE(rec.wait_status(false));
  BOOST_TEST(!sim->play(read_of({{"WHILE-UNPLUGGED", ""}})));
  BOOST_TEST(!sim->wait_connected(300ms));  // the driver's retries are refused
  BOOST_TEST(!rec.wait_status(true, 100ms));
  sim->plug();
  BOOST_REQUIRE(rec.wait_status(true));
  BOOST_REQUIRE(sim->wait_connected(kWait));
  BOOST_REQUIRE(sim->play(read_of({{"PLUGGED-BACK", ""}})));
  expect_read(rec, {"PLUGGED-BACK"});
}

BOOST_AUTO_TEST_CASE(a_frame_cut_by_a_disconnect_is_not_glued_to_the_next) {
  ClientRig rig;
  auto& sim = rig.sim;
  auto& rec = rig.rec;
  BOOST_REQUIRE(sim->send_raw("HALF-OF-A-CO"));
  std::this_thread::sleep_for(50ms);
  sim->drop_connection();
  BOOST_REQUIRE(rec.wait_status(false));
  BOOST_REQUIRE(rec.wait_status(true));
  BOOST_REQUIRE(sim->wait_connected(kWait));
  BOOST_REQUIRE(sim->send_raw("DE\r\nWHOLE\r\n"));
  expect_read(rec, {"DE"});  // not "HALF-OF-A-CODE"
  expect_read(rec, {"WHOLE"});
}

BOOST_AUTO_TEST_CASE(server_mode_accepts_a_reconnecting_reader) {
  Recorder rec;
  auto cfg = config<TcpConfig>(
      device("tcp-server",
             {{"host", "127.0.0.1"}, {"port", "0"}, {"separator", ","}, {"retry_min_ms", "20"}}),
      [](Options& o) { return read_tcp_config(o, true); });
  TcpServerScanner drv(std::move(cfg));
  std::jthread t([&](std::stop_token st) { drv.run(rec.host, st); });
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (drv.bound_port() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  int port = drv.bound_port();
  BOOST_REQUIRE(port > 0);

  auto reader = SimReader::connect("127.0.0.1", port, SimFraming{});
  BOOST_REQUIRE(reader->wait_connected(kWait));
  BOOST_REQUIRE(rec.wait_status(true));
  BOOST_REQUIRE(reader->play(read_of({{"A1", ""}, {"A2", ""}})));
  auto r = rec.next_read();
  BOOST_REQUIRE(r);
  BOOST_TEST(texts(*r) == (std::vector<std::string>{"A1", "A2"}));

  // The reader closes and connects again.
  reader->drop_connection();
  BOOST_REQUIRE(rec.wait_status(false));
  BOOST_REQUIRE(reader->wait_connected(kWait));
  BOOST_REQUIRE(rec.wait_status(true));
  BOOST_REQUIRE(reader->play(read_of({{"B1", ""}})));
  r = rec.next_read();
  BOOST_REQUIRE(r);
  BOOST_TEST(texts(*r) == (std::vector<std::string>{"B1"}));

  // A rebooted reader connects while its old connection still looks open: the new one wins.
  auto rebooted = SimReader::connect("127.0.0.1", port, SimFraming{});
  BOOST_REQUIRE(rebooted->wait_connected(kWait));
  BOOST_REQUIRE(rebooted->send_split(rebooted->encode(read_of({{"C1", ""}})), 1, 30ms));
  r = rec.next_read();
  BOOST_REQUIRE(r);
  BOOST_TEST(texts(*r) == (std::vector<std::string>{"C1"}));
}

BOOST_AUTO_TEST_CASE(trigger_on_command_and_on_connect) {
  auto sim = SimReader::listen("127.0.0.1", 0, SimFraming{});
  Recorder rec;
  TcpClientScanner drv(
      client_config(sim->port(), {{"trigger", "<STX>T{id}<ETX>"}, {"trigger_on", "command"}}));
  std::jthread t([&](std::stop_token st) { drv.run(rec.host, st); });
  BOOST_REQUIRE(rec.wait_status(true));
  BOOST_REQUIRE(sim->wait_connected(kWait));
  rec.command(R"({"type":"trigger","tracking_id":42})");
  BOOST_TEST(sim->take_received(kWait) == "\x02T42\x03");
  rec.command("not json");  // logged and ignored
  rec.command(R"({"type":"trigger"})");
  BOOST_TEST(sim->take_received(kWait) == "\x02T0\x03");
  t.request_stop();
  t.join();

  auto sim2 = SimReader::listen("127.0.0.1", 0, SimFraming{});
  Recorder rec2;
  TcpClientScanner drv2(
      client_config(sim2->port(), {{"trigger", "START\\r\\n"}, {"trigger_on", "connect"}}));
  std::jthread t2([&](std::stop_token st) { drv2.run(rec2.host, st); });
  BOOST_REQUIRE(sim2->wait_connected(kWait));
  BOOST_TEST(sim2->take_received(kWait) == "START\r\n");
}

BOOST_AUTO_TEST_CASE(unreachable_reader_reports_down_once_and_stops_promptly) {
  // A port nobody listens on: bind one, note it, close it.
  int port;
  {
    auto tmp = SimReader::listen("127.0.0.1", 0, SimFraming{});
    port = tmp->port();
  }
  Recorder rec;
  TcpClientScanner drv(client_config(port));
  std::jthread t([&](std::stop_token st) { drv.run(rec.host, st); });
  auto s = rec.next_status();
  BOOST_REQUIRE(s);
  BOOST_TEST(!s->up);
  BOOST_TEST(s->detail.find("cannot connect") != std::string::npos);
  std::this_thread::sleep_for(300ms);  // several retries: still one status event
  BOOST_TEST(!rec.next_status(0ms));
  t.request_stop();
  t.join();  // returns: the backoff wait wakes up on stop
}
