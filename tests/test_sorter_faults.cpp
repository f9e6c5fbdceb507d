// The sorter driver against a PLC that misbehaves on purpose (`sort-sim plc` knobs): link down,
// late answers, Modbus exception answers, heartbeat loss, fault codes, no acknowledgement, a
// wrong chute, a map that does not match; and the [[devices]] option checks.
#define BOOST_TEST_MODULE sorter_faults
#include <boost/test/unit_test.hpp>

#include "test_sorter_harness.h"

using namespace sortd;
using namespace sortd::test;
using sorter::PlcClient;

namespace {

struct Session {
  Peer peer;
  std::unique_ptr<PlcClient> client;
  Log log;
  std::uint32_t next_seq = 500;
  Session(std::vector<std::string> extra = {}, std::function<void(sorter::PlcOptions&)> tune = {},
          bool wait_up = true)
      : peer(Peer::Kind::Sim, Peer::Link::Tcp, std::move(extra)) {
    auto o = peer.client_options();
    if (tune) tune(o);
    client = std::make_unique<PlcClient>(o);
    if (wait_up) wait([](const Log& g) { return last_up(g).value_or(false); }, "link up");
  }
  static std::optional<bool> last_up(const Log& g) {
    auto v = g.all<DeviceStatus>();
    if (v.empty()) return std::nullopt;
    return v.back().up;
  }
  static std::string last_detail(const Log& g) {
    auto v = g.all<DeviceStatus>();
    return v.empty() ? "" : v.back().detail;
  }
  void wait(const std::function<bool(const Log&)>& f, const std::string& what) {
    pump(*client, log, f, what);
  }
  std::uint32_t induct() {
    std::uint32_t tid = peer.induct();
    wait(
        [tid](const Log& g) {
          return g.count<ParcelInducted>([tid](auto& p) { return p.tracking_id == tid; }) > 0;
        },
        "induction");
    return tid;
  }
  void wait_ack(std::uint32_t seq) {
    wait(
        [seq](const Log& g) {
          return g.count<SortAcked>([seq](auto& a) { return a.seq == seq; }) > 0;
        },
        "ack of " + std::to_string(seq));
  }
  DivertConfirmed confirmed(std::uint32_t seq, std::uint32_t tid) {
    wait([&](const Log& g) { return g.confirmation(seq, tid).has_value(); }, "confirmation");
    return *log.confirmation(seq, tid);
  }
  long long diverts(std::uint32_t tid) {
    return *Peer::field(peer.ok("parcel " + std::to_string(tid)), "diverts");
  }
};

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_CASE(link_down_reported_and_recovered) {
  Session s;
  auto a = s.induct();
  s.peer.ok("down 1500");  // listener closed, connections dropped
  s.wait([](const Log& g) { return Session::last_up(g) == false; }, "link down");
  BOOST_TEST(contains(Session::last_detail(s.log), "link down"));
  // A command queued while the PLC is away is written once it is back.
  std::uint32_t seq = s.next_seq++;
  s.client->send_command({seq, a, 5});
  s.wait([](const Log& g) { return Session::last_up(g) == true; }, "link back up");
  s.wait_ack(seq);
  s.peer.ok("advance 6000");
  BOOST_TEST(s.confirmed(seq, a).chute == 5);
  BOOST_TEST(s.diverts(a) == 1);
}

BOOST_AUTO_TEST_CASE(late_answer_is_not_taken_for_a_later_one_and_no_double_divert) {
  Session s({}, [](sorter::PlcOptions& o) { o.response_timeout_ms = 200; });
  auto a = s.induct();
  s.peer.ok("delay 1000 1");  // the next request is answered after the client gave up on it
  std::uint32_t seq = s.next_seq++;
  s.client->send_command({seq, a, 6});
  s.wait_ack(seq);
  BOOST_TEST(s.client->counters().failures >= 1u);
  s.peer.ok("advance 6000");
  BOOST_TEST(s.confirmed(seq, a).chute == 6);
  for (int i = 0; i < 10; ++i) s.client->poll();
  BOOST_TEST(s.log.count<DivertConfirmed>([seq](auto& c) { return c.seq == seq; }) == 1u);
  BOOST_TEST(s.diverts(a) == 1);
  BOOST_TEST(Peer::field(s.peer.ok("stats"), "commands").value_or(-1) == 1);
}

BOOST_AUTO_TEST_CASE(modbus_exceptions_handled) {
  Session s({}, [](sorter::PlcOptions& o) { o.exception_limit = 5; });
  s.peer.ok("exception 3 2");  // two busy answers to reads: tolerated, link stays up
  auto a = s.induct();
  BOOST_TEST(s.client->counters().exceptions >= 2u);
  BOOST_TEST(Session::last_up(s.log).value_or(false));
  s.peer.ok("exception 0 30 4");  // the PLC keeps failing: reported down
  s.wait([](const Log& g) { return Session::last_up(g) == false; }, "down on exceptions");
  BOOST_TEST(contains(Session::last_detail(s.log), "exception"));
  s.wait([](const Log& g) { return Session::last_up(g) == true; }, "up again");
  std::uint32_t seq = s.next_seq++;
  s.client->send_command({seq, a, 2});
  s.wait_ack(seq);
}

BOOST_AUTO_TEST_CASE(heartbeat_loss_and_fault_codes) {
  Session s({}, [](sorter::PlcOptions& o) { o.plc_heartbeat_timeout_ms = 400; });
  s.peer.ok("freeze-heartbeat on");
  s.wait([](const Log& g) { return Session::last_up(g) == false; }, "heartbeat lost");
  BOOST_TEST(contains(Session::last_detail(s.log), "heartbeat"));
  s.peer.ok("freeze-heartbeat off");
  s.wait([](const Log& g) { return Session::last_up(g) == true; }, "heartbeat back");
  s.peer.ok("fault 1");
  s.wait([](const Log& g) { return Session::last_up(g) == false; }, "fault");
  BOOST_TEST(contains(Session::last_detail(s.log), "emergency stop"));
  s.peer.ok("fault 3");
  s.wait([](const Log& g) { return contains(Session::last_detail(g), "jam"); }, "fault change");
  s.peer.ok("fault 0");
  s.wait([](const Log& g) { return Session::last_up(g) == true; }, "fault cleared");
}

BOOST_AUTO_TEST_CASE(no_ack_times_out_after_retries) {
  Session s({}, [](sorter::PlcOptions& o) {
    o.ack_timeout_ms = 50;
    o.ack_retries = 2;
  });
  auto a = s.induct();
  s.peer.ok("exception 16 1000 4");  // every mailbox write refused
  std::uint32_t seq = s.next_seq++;
  s.client->send_command({seq, a, 3});
  s.wait(
      [seq](const Log& g) {
        return g.count<SortTimedOut>([seq](auto& t) { return t.seq == seq; }) > 0;
      },
      "SortTimedOut");
  BOOST_TEST(s.log.count<SortAcked>() == 0u);
  BOOST_TEST(s.client->counters().mailbox_writes == 3u);  // first write + 2 retries
  BOOST_TEST(s.client->pending() == 0u);
}

BOOST_AUTO_TEST_CASE(wrong_chute_reported_as_is) {
  Session s;
  auto a = s.induct();
  s.peer.ok("wrong-chute next");
  std::uint32_t seq = s.next_seq++;
  s.client->send_command({seq, a, 3});
  s.wait_ack(seq);
  s.peer.ok("advance 6000");
  auto c = s.confirmed(seq, a);
  BOOST_TEST(int(c.outcome) == int(DivertOutcome::Diverted));
  BOOST_TEST(c.chute != 3);  // the core compares it with the lane it commanded
}

BOOST_AUTO_TEST_CASE(configured_base_addresses) {
  std::vector<std::string> extra = {"--command-base", "1000", "--status-base",  "2000",
                                    "--confirm-base", "3000", "--induct-base",  "4000",
                                    "--measure-base", "5000", "--confirm-ring", "8"};
  Session s(extra, [](sorter::PlcOptions& o) {
    o.map.command_base = 1000;
    o.map.status_base = 2000;
    o.map.confirm_base = 3000;
    o.map.induct_base = 4000;
    o.map.measure_base = 5000;
    o.map.confirm_ring = 8;
  });
  auto a = s.induct();
  std::uint32_t seq = s.next_seq++;
  s.client->send_command({seq, a, 9});
  s.wait_ack(seq);
  s.peer.ok("advance 6000");
  BOOST_TEST(s.confirmed(seq, a).chute == 9);
}

BOOST_AUTO_TEST_CASE(mismatched_map_refused) {
  Session s({"--confirm-ring", "8"}, {}, false);  // the client expects 16
  s.wait([](const Log& g) { return Session::last_up(g) == false; }, "down on map mismatch");
  BOOST_TEST(contains(Session::last_detail(s.log), "does not match"));
  BOOST_TEST(s.log.count<DeviceStatus>([](auto& d) { return d.up; }) == 0u);
}

BOOST_AUTO_TEST_CASE(control_port_rejects_garbage_and_keeps_running) {
  Peer p(Peer::Kind::Sim, Peer::Link::Tcp);
  BOOST_TEST(contains(p.control("frobnicate"), "error unknown command 'frobnicate'"));
  BOOST_TEST(contains(p.control("fill"), "error fill: takes 1 argument"));
  BOOST_TEST(contains(p.control("fill x"), "error fill: chute 'x' is not an integer"));
  BOOST_TEST(contains(p.control("fill 400"), "out of range"));
  BOOST_TEST(contains(p.control("induct 10 20"), "error induct"));
  BOOST_TEST(contains(p.control("advance -3"), "out of range"));
  BOOST_TEST(p.induct() != 0u);
}

BOOST_AUTO_TEST_CASE(rs485_mode_on_a_port_without_it_is_a_clear_link_error) {
  // A pty has no RS-485 mode (TIOCSRS485): asking for it must say so, not hang or pretend.
  PtyPair pty;
  std::vector<std::string> problems;
  auto o = sorter::plc_options_from(
      "s1", "modbus-rtu", {{"device", pty.a}, {"serial_mode", "rs485"}, {"rts", "up"}}, problems);
  BOOST_TEST_REQUIRE(problems.empty());
  BOOST_TEST(o.rs485);
  BOOST_TEST((o.rts == sorter::PlcOptions::Rts::Up));
  sorter::PlcClient c(o);
  const std::vector<Event> out = c.poll();  // the first poll connects
  BOOST_TEST(!c.connected());
  BOOST_TEST_REQUIRE(out.size() == 1u);
  const auto* st = std::get_if<DeviceStatus>(&out[0]);
  BOOST_TEST_REQUIRE(st);
  BOOST_TEST(!st->up);
  BOOST_TEST(contains(st->detail, "RS-485 mode"), st->detail);
  BOOST_TEST(contains(st->detail, "serial_mode = \"rs232\""), st->detail);
}

BOOST_AUTO_TEST_CASE(options_checked_with_messages) {
  std::vector<std::string> problems;
  auto o = sorter::plc_options_from("s1", "modbus-tcp",
                                    {{"host", "10.0.0.7"},
                                     {"port", "1502"},
                                     {"unit_id", "3"},
                                     {"write", "fc23"},
                                     {"poll_ms", "15"},
                                     {"status_base", "700"}},
                                    problems);
  BOOST_TEST(problems.empty());
  BOOST_TEST(o.port == 1502);
  BOOST_TEST(o.unit_id == 3);
  BOOST_TEST(o.fc23);
  BOOST_TEST(o.poll_interval_ms == 15);
  BOOST_TEST(o.map.status_base == 700);

  problems.clear();
  sorter::plc_options_from("s1", "modbus-tcp",
                           {{"port", "15o2"},
                            {"colour", "red"},
                            {"confirm_ring", "12"},
                            {"status_base", "0"},
                            {"baud", "9600"}},
                           problems);
  std::vector<std::string> serial_problems;
  sorter::plc_options_from("s1", "modbus-rtu",
                           {{"device", "/dev/ttyUSB0"}, {"serial_mode", "rs422"}, {"rts", "left"}},
                           serial_problems);
  BOOST_TEST(serial_problems.size() == 2u);
  BOOST_TEST(contains(serial_problems.at(0) + serial_problems.at(1),
                      "serial_mode: 'rs422' is not rs232 or rs485"));
  BOOST_TEST(contains(serial_problems.at(0) + serial_problems.at(1),
                      "rts: 'left' is not none, up or down"));
  auto has = [&](const std::string& part) {
    for (auto& p : problems)
      if (contains(p, part)) return true;
    return false;
  };
  BOOST_TEST(has("port: '15o2' is not an integer"));
  BOOST_TEST(has("colour: unknown option"));
  BOOST_TEST(has("baud: unknown option"));  // a serial option on a TCP sorter
  BOOST_TEST(has("confirm_ring: 12 entries; must be a power of two"));
  BOOST_TEST(has("overlap"));  // status area on top of the command area

  problems.clear();
  sorter::plc_options_from("s2", "modbus-rtu", {{"parity", "maybe"}, {"unit_id", "0"}}, problems);
  BOOST_TEST(has("parity: 'maybe'"));
  BOOST_TEST(has("unit_id: 0 is out of range"));
  BOOST_TEST(has("device: missing"));
}
