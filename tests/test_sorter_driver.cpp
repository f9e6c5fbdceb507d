// The sorter Driver as the daemon runs it: found in the registry by (kind, driver), its options
// checked, started in a thread with inproc ZeroMQ sockets, fed sort commands as JSON and giving
// events back as JSON, against `sort-sim plc` over Modbus TCP.
#define BOOST_TEST_MODULE sorter_driver
#include <boost/test/unit_test.hpp>

#include <thread>
#include <zmq.hpp>

#include "codec.h"
#include "driver.h"
#include "test_sorter_harness.h"

using namespace sortd;
using namespace sortd::test;

BOOST_AUTO_TEST_CASE(registered_and_checked) {
  BOOST_REQUIRE(dev::find_driver("sorter", "modbus-tcp") != nullptr);
  BOOST_REQUIRE(dev::find_driver("sorter", "modbus-rtu") != nullptr);
  StationConfig::Device d{"sorter1", "sorter", "modbus-rtu", {{"baud", "fast"}}, 12};
  auto problems = dev::find_driver("sorter", "modbus-rtu")->check(d);
  bool baud = false, device = false;
  for (auto& p : problems) {
    baud |= p.find("baud: 'fast' is not an integer") != std::string::npos;
    device |= p.find("device: missing") != std::string::npos;
  }
  BOOST_TEST(baud);
  BOOST_TEST(device);
  BOOST_CHECK_THROW(dev::find_driver("sorter", "modbus-rtu")->make(d, StationConfig{}),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(sorts_through_inproc_sockets) {
  Peer plc(Peer::Kind::Sim, Peer::Link::Tcp);
  zmq::context_t ctx;
  zmq::socket_t events(ctx, zmq::socket_type::pull), commands(ctx, zmq::socket_type::push);
  events.bind("inproc://test/events");
  commands.bind("inproc://test/sorter1");
  StationConfig::Device d{"sorter1",
                          "sorter",
                          "modbus-tcp",
                          {{"host", "127.0.0.1"},
                           {"port", std::to_string(plc.modbus_port())},
                           {"poll_ms", "5"},
                           {"write", "fc23"}},
                          1};
  const auto* info = dev::find_driver("sorter", "modbus-tcp");
  BOOST_REQUIRE(info);
  BOOST_REQUIRE(info->check(d).empty());
  std::shared_ptr<dev::Driver> driver = info->make(d, StationConfig{});
  std::jthread thread([&](std::stop_token st) {
    dev::DriverIo io(ctx, "inproc://test/events", "inproc://test/sorter1");
    driver->run(io, st);
  });

  std::vector<Event> got;
  auto wait = [&](const std::function<bool()>& done, const std::string& what) {
    auto until = std::chrono::steady_clock::now() + kPatience;
    while (!done()) {
      BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < until, "waiting for " << what);
      zmq::pollitem_t it{events.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&it, 1, std::chrono::milliseconds(100)) <= 0) continue;
      zmq::message_t m;
      if (events.recv(m, zmq::recv_flags::dontwait)) got.push_back(decode_event(m.to_string()));
    }
  };
  auto has = [&](auto pred) {
    for (auto& e : got)
      if (pred(e)) return true;
    return false;
  };
  wait(
      [&] {
        return has([](const Event& e) {
          auto* s = std::get_if<DeviceStatus>(&e);
          return s && s->up && s->device == "sorter1" && s->kind == DeviceKind::Sorter;
        });
      },
      "sorter up");
  std::uint32_t tid = plc.induct();
  wait(
      [&] {
        return has([&](const Event& e) {
          auto* p = std::get_if<ParcelInducted>(&e);
          return p && p->tracking_id == tid;
        });
      },
      "induction");
  // Garbage from the core is logged and skipped; the driver keeps going.
  commands.send(zmq::str_buffer("{\"type\":\"sort_command\",\"seq\":\"x\"}"));
  commands.send(zmq::str_buffer("not json"));
  std::string cmd = to_json(SortCommand{42, tid, 8}).dump();
  commands.send(zmq::buffer(cmd));
  wait(
      [&] {
        return has([](const Event& e) {
          auto* a = std::get_if<SortAcked>(&e);
          return a && a->seq == 42;
        });
      },
      "ack");
  plc.ok("advance 6000");
  wait(
      [&] {
        return has([&](const Event& e) {
          auto* c = std::get_if<DivertConfirmed>(&e);
          return c && c->seq == 42 && c->tracking_id == tid && c->chute == 8 &&
                 c->outcome == DivertOutcome::Diverted;
        });
      },
      "divert confirmation");
  thread.request_stop();
}
