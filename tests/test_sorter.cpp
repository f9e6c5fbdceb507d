// The sorter driver's Modbus handshake (devices/sorter/plc_client.*) against PLC peers over real
// Modbus on loopback: our conveyor simulator (`sort-sim plc`) and an independent PLC written with
// pymodbus from docs/register-map.md (tests/peers/plc_pymodbus.py), over TCP and over RTU
// through a socat pty pair. The peers run with a manual clock: the belt moves only when the test
// says `advance <ms>`, so outcomes do not depend on how fast this machine is.
#define BOOST_TEST_MODULE sorter
#include <boost/test/unit_test.hpp>

#include "test_sorter_harness.h"

using namespace sortd;
using namespace sortd::test;
using sorter::PlcClient;

namespace {

// One PLC peer, one client, and what the client said.
struct Session {
  Peer peer;
  std::unique_ptr<PlcClient> client;
  Log log;
  std::uint32_t next_seq = 100;

  Session(Peer::Kind k, Peer::Link l, std::vector<std::string> extra = {},
          std::function<void(sorter::PlcOptions&)> tune = {})
      : peer(k, l, std::move(extra)) {
    auto o = peer.client_options();
    if (tune) tune(o);
    client = std::make_unique<PlcClient>(o);
    wait([](const Log& g) { return g.count<DeviceStatus>([](auto& s) { return s.up; }) > 0; },
         "the link up");
  }
  void wait(const std::function<bool(const Log&)>& f, const std::string& what) {
    pump(*client, log, f, peer.name() + ": " + what);
  }
  std::uint32_t induct(const std::string& args = "") {
    std::uint32_t tid = peer.induct(args);
    wait(
        [tid](const Log& g) {
          return g.count<ParcelInducted>([tid](auto& p) { return p.tracking_id == tid; }) > 0;
        },
        "induction of " + std::to_string(tid));
    return tid;
  }
  std::uint32_t send(std::uint32_t tid, int chute, bool wait_ack = true) {
    std::uint32_t seq = next_seq++;
    client->send_command({seq, tid, chute});
    if (wait_ack) this->wait_ack(seq);
    return seq;
  }
  void wait_ack(std::uint32_t seq) {
    wait(
        [seq](const Log& g) {
          return g.count<SortAcked>([seq](auto& a) { return a.seq == seq; }) > 0;
        },
        "ack of seq " + std::to_string(seq));
  }
  DivertConfirmed confirmed(std::uint32_t seq, std::uint32_t tid) {
    wait([&](const Log& g) { return g.confirmation(seq, tid).has_value(); },
         "confirmation of seq " + std::to_string(seq) + " tid " + std::to_string(tid));
    return *log.confirmation(seq, tid);
  }
  void advance(int ms) { peer.ok("advance " + std::to_string(ms)); }
  std::string parcel(std::uint32_t tid) { return peer.ok("parcel " + std::to_string(tid)); }
  long long diverts(std::uint32_t tid) { return *Peer::field(parcel(tid), "diverts"); }
  ChuteState chute(int c) {
    ChuteState last{};
    for (auto& s : log.all<ChuteState>())
      if (s.chute == c) last = s;
    return last;
  }
};

// ---------------------------------------------------------------------------------- scenarios
// Default geometry of both peers: belt 2000 mm/s, decision point 2000 mm (1 s after induction),
// chute c at 3000 + 500 (c-1) mm, 12 chutes, exception chute 12, loop 10500 mm.

void every_outcome(Peer::Kind k, Peer::Link l) {
  Session s(k, l);
  s.peer.ok("fill 5");
  s.wait(
      [](const Log& g) {
        return g.count<ChuteState>([](auto& c) { return c.chute == 5 && c.full; }) > 0;
      },
      "chute 5 full");
  auto a = s.induct(), b = s.induct(), c = s.induct(), d = s.induct();
  s.peer.ok("lose " + std::to_string(c));
  auto sa = s.send(a, 3), sb = s.send(b, 5), sc = s.send(c, 4), sd = s.send(d, 99);
  // A chute that does not exist: refused at once, the parcel stays on the fail-safe.
  auto cd = s.confirmed(sd, d);
  BOOST_TEST(int(cd.outcome) == int(DivertOutcome::Rejected));
  BOOST_TEST(cd.chute == 0);
  s.advance(6000);
  auto ca = s.confirmed(sa, a);
  BOOST_TEST(int(ca.outcome) == int(DivertOutcome::Diverted));
  BOOST_TEST(ca.chute == 3);
  auto cb = s.confirmed(sb, b);
  BOOST_TEST(int(cb.outcome) == int(DivertOutcome::Recirculated));
  BOOST_TEST(cb.chute == 0);
  auto cc = s.confirmed(sc, c);
  BOOST_TEST(int(cc.outcome) == int(DivertOutcome::Lost));
  auto cd2 = s.confirmed(0, d);  // no valid command by the deadline: exception chute
  BOOST_TEST(int(cd2.outcome) == int(DivertOutcome::Rejected));
  BOOST_TEST(cd2.chute == 12);
  // The recirculated parcel is decided again on its next lap.
  s.peer.ok("empty 5");
  auto sb2 = s.send(b, 6);
  s.advance(12000);
  auto cb2 = s.confirmed(sb2, b);
  BOOST_TEST(int(cb2.outcome) == int(DivertOutcome::Diverted));
  BOOST_TEST(cb2.chute == 6);
  BOOST_TEST(s.diverts(a) == 1);
  BOOST_TEST(s.diverts(b) == 1);
  BOOST_TEST(Peer::sfield(s.parcel(c), "state") == "lost");
  BOOST_TEST(s.client->counters().ring_overruns == 0u);
}

void ring_wraps_and_batches(Peer::Kind k, Peer::Link l) {
  Session s(k, l);
  std::size_t most_in_one_poll = 0;
  std::vector<std::tuple<std::uint32_t, std::uint32_t, int>> sent;
  for (int round = 0; round < 3; ++round) {  // 30 confirmations through a ring of 16
    std::vector<std::tuple<std::uint32_t, std::uint32_t, int>> now;
    for (int i = 0; i < 10; ++i) {
      auto tid = s.induct();
      int chute = 1 + (i % 11);
      now.emplace_back(s.send(tid, chute), tid, chute);
    }
    s.advance(6000);  // all ten divert while the client is not polling
    std::size_t got = 0;
    auto until = std::chrono::steady_clock::now() + kPatience;
    while (got < 10 && std::chrono::steady_clock::now() < until) {
      auto ev = s.client->poll();
      std::size_t n = 0;
      for (auto& e : ev) {
        n += std::holds_alternative<DivertConfirmed>(e);
        s.log.events.push_back(e);
      }
      got += n;
      most_in_one_poll = std::max(most_in_one_poll, n);
      std::this_thread::sleep_for(2ms);
    }
    BOOST_REQUIRE_EQUAL(got, 10u);
    sent.insert(sent.end(), now.begin(), now.end());
  }
  BOOST_TEST(most_in_one_poll >= 2u);  // several confirmations between two polls, none missed
  for (auto& [seq, tid, chute] : sent) {
    auto c = s.log.confirmation(seq, tid);
    BOOST_REQUIRE(c.has_value());
    BOOST_TEST(int(c->outcome) == int(DivertOutcome::Diverted));
    BOOST_TEST(c->chute == chute);
    BOOST_TEST(s.log.count<DivertConfirmed>([seq = seq](auto& x) { return x.seq == seq; }) == 1u);
  }
  BOOST_TEST(s.client->counters().ring_overruns == 0u);
}

void ring_overrun_detected(Peer::Kind k, Peer::Link l) {
  Session s(k, l);
  for (int i = 0; i < 20; ++i) s.send(s.induct(), 1 + (i % 11));
  s.advance(6000);  // 20 confirmations, ring of 16: 4 are overwritten before the next poll
  s.wait([](const Log& g) { return g.count<DivertConfirmed>() >= 16; }, "16 confirmations");
  for (int i = 0; i < 20; ++i) s.client->poll();
  BOOST_TEST(s.log.count<DivertConfirmed>() == 16u);
  BOOST_TEST(s.client->counters().ring_overruns >= 1u);
}

void duplicate_sequence_is_idempotent(Peer::Kind k, Peer::Link l) {
  Session s(k, l);
  auto a = s.induct(), b = s.induct();
  auto sa = s.send(a, 2);
  s.send(b, 3);
  s.client->send_command({sa, a, 2});  // the core repeats a command: same seq
  s.wait(
      [sa](const Log& g) { return g.count<SortAcked>([sa](auto& x) { return x.seq == sa; }) == 2; },
      "second ack of the repeated seq");
  s.advance(6000);
  s.confirmed(sa, a);
  for (int i = 0; i < 10; ++i) s.client->poll();
  BOOST_TEST(s.log.count<DivertConfirmed>([sa](auto& x) { return x.seq == sa; }) == 1u);
  BOOST_TEST(s.diverts(a) == 1);
  auto st = s.peer.ok("stats");
  BOOST_TEST(Peer::field(st, "commands").value_or(-1) == 2);
  BOOST_TEST(Peer::field(st, "repeats").value_or(-1) == 1);
}

void reconnect_after_restart(Peer::Kind k, Peer::Link l) {
  Session s(k, l);
  auto a = s.induct();
  s.send(a, 2);
  auto connects = s.client->counters().connects;
  s.peer.ok("restart");  // counters reset, parcels forgotten, connections dropped
  auto b = s.induct();   // numbered from 0 again in the new boot: must still be seen
  if (l == Peer::Link::Tcp) BOOST_TEST(s.client->counters().connects > connects);
  // A command for a parcel the restarted PLC no longer tracks: acknowledged, confirmed lost.
  auto sx = s.send(a, 2);
  BOOST_TEST(int(s.confirmed(sx, a).outcome) == int(DivertOutcome::Lost));
  auto sb = s.send(b, 3);
  s.advance(6000);
  auto cb = s.confirmed(sb, b);
  BOOST_TEST(int(cb.outcome) == int(DivertOutcome::Diverted));
  BOOST_TEST(cb.chute == 3);
  BOOST_TEST(s.diverts(b) == 1);
}

void command_resent_once_after_drop(Peer::Kind k, Peer::Link l) {
  Session s(k, l);
  auto a = s.induct();
  auto disconnects = s.client->counters().disconnects;
  s.peer.ok("drop-connection");
  auto sa = s.send(a, 4);  // written into a dropped connection, then again after reconnecting
  BOOST_TEST(s.client->counters().disconnects > disconnects);
  s.advance(6000);
  auto ca = s.confirmed(sa, a);
  BOOST_TEST(ca.chute == 4);
  BOOST_TEST(s.diverts(a) == 1);
  BOOST_TEST(Peer::field(s.peer.ok("stats"), "commands").value_or(-1) == 1);
}

void deadline_missed_goes_to_exception(Peer::Kind k, Peer::Link l) {
  Session s(k, l);
  auto a = s.induct();
  auto b = s.induct();
  s.advance(1500);         // both past the decision point without a command
  auto sb = s.send(b, 3);  // late: acknowledged, but the parcel stays on the fail-safe
  s.advance(6000);
  auto ca = s.confirmed(0, a);
  BOOST_TEST(int(ca.outcome) == int(DivertOutcome::Rejected));
  BOOST_TEST(ca.chute == 12);
  auto cb = s.confirmed(sb, b);
  BOOST_TEST(int(cb.outcome) == int(DivertOutcome::Rejected));
  BOOST_TEST(cb.chute == 12);  // never lane 3 once its deadline has passed
  BOOST_TEST(s.diverts(b) == 1);
}

void chute_full_and_disabled(Peer::Kind k, Peer::Link l) {
  Session s(k, l, {"--capacity", "2"});
  BOOST_TEST(s.chute(2).enabled);
  BOOST_TEST(!s.chute(2).full);
  auto a = s.induct(), b = s.induct();
  auto sa = s.send(a, 2), sb = s.send(b, 2);
  s.advance(6000);
  s.confirmed(sa, a);
  s.confirmed(sb, b);
  s.wait(
      [](const Log& g) {
        return g.count<ChuteState>([](auto& c) { return c.chute == 2 && c.full; }) > 0;
      },
      "chute 2 reported full");
  auto c = s.induct();
  auto sc = s.send(c, 2);
  s.advance(6000);
  BOOST_TEST(int(s.confirmed(sc, c).outcome) == int(DivertOutcome::Recirculated));
  s.peer.ok("empty 2");
  s.wait(
      [](const Log& g) {
        auto v = g.all<ChuteState>();
        for (auto it = v.rbegin(); it != v.rend(); ++it)
          if (it->chute == 2) return !it->full;
        return false;
      },
      "chute 2 reported emptied");
  s.peer.ok("disable 4");
  s.wait(
      [](const Log& g) {
        return g.count<ChuteState>([](auto& c) { return c.chute == 4 && !c.enabled; }) > 0;
      },
      "chute 4 reported disabled");
  auto d = s.induct();
  auto sd = s.send(d, 4);
  s.advance(6000);
  BOOST_TEST(int(s.confirmed(sd, d).outcome) == int(DivertOutcome::Recirculated));
}

void measurement_reported(Peer::Kind k, Peer::Link l) {
  Session s(k, l);
  auto a = s.induct("1234 300 200 100");
  s.wait(
      [a](const Log& g) {
        return g.count<ParcelMeasured>([a](auto& m) { return m.tracking_id == a; }) > 0;
      },
      "measurement");
  auto m = s.log.all<ParcelMeasured>().back();
  BOOST_TEST(m.weight_g == 1234);
  BOOST_TEST(m.length_mm == 300);
  BOOST_TEST(m.width_mm == 200);
  BOOST_TEST(m.height_mm == 100);
}

void fc23_handshake(Peer::Kind k, Peer::Link l) {
  Session s(k, l, {}, [](sorter::PlcOptions& o) { o.fc23 = true; });
  auto a = s.induct();
  auto sa = s.send(a, 7);
  s.advance(6000);
  auto ca = s.confirmed(sa, a);
  BOOST_TEST(ca.chute == 7);
  BOOST_TEST(s.diverts(a) == 1);
}

}  // namespace

#define PEER_CASES(name, fn)                   \
  BOOST_AUTO_TEST_CASE(name##_sim_tcp) {       \
    fn(Peer::Kind::Sim, Peer::Link::Tcp);      \
  }                                            \
  BOOST_AUTO_TEST_CASE(name##_pymodbus_tcp) {  \
    fn(Peer::Kind::Pymodbus, Peer::Link::Tcp); \
  }                                            \
  BOOST_AUTO_TEST_CASE(name##_pymodbus_rtu) {  \
    fn(Peer::Kind::Pymodbus, Peer::Link::Rtu); \
  }

BOOST_AUTO_TEST_SUITE(handshake)
PEER_CASES(every_outcome, every_outcome)
PEER_CASES(ring_wraps_and_batches, ring_wraps_and_batches)
PEER_CASES(ring_overrun_detected, ring_overrun_detected)
PEER_CASES(duplicate_sequence_is_idempotent, duplicate_sequence_is_idempotent)
PEER_CASES(reconnect_after_restart, reconnect_after_restart)
PEER_CASES(deadline_missed_goes_to_exception, deadline_missed_goes_to_exception)
PEER_CASES(chute_full_and_disabled, chute_full_and_disabled)
PEER_CASES(measurement_reported, measurement_reported)
PEER_CASES(fc23_handshake, fc23_handshake)
BOOST_AUTO_TEST_CASE(command_resent_once_after_drop_sim_tcp) {
  command_resent_once_after_drop(Peer::Kind::Sim, Peer::Link::Tcp);
}
BOOST_AUTO_TEST_CASE(command_resent_once_after_drop_pymodbus_tcp) {
  command_resent_once_after_drop(Peer::Kind::Pymodbus, Peer::Link::Tcp);
}
BOOST_AUTO_TEST_CASE(every_outcome_sim_rtu) {
  every_outcome(Peer::Kind::Sim, Peer::Link::Rtu);
}
BOOST_AUTO_TEST_SUITE_END()
