// sortd devices: the one interface every driver implements (like gpsd's struct gps_type_t).
// A driver runs in a thread of its own and owns its device handle (libmodbus context, libusb
// handle, serial fd, TCP socket). It talks to the station core only through ZeroMQ inproc
// sockets: it pushes events (encoded with controller/codec.h) and pulls commands meant for it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "events.h"
#include "model.h"

namespace sortd::dev {

// The two sockets a driver thread owns. Created by the daemon, handed to the thread, and used
// only there.
class DriverIo {
 public:
  DriverIo(zmq::context_t& ctx, const std::string& events_endpoint,
           const std::string& commands_endpoint);
  // Push an event to the core. Never blocks the driver for long (high-water mark + drop with a
  // log line is worse than blocking for a station: it blocks up to 1 s, then logs and drops).
  void emit(const Event& e);
  // Wait up to timeout_ms for a command from the core (a JSON text); nullopt on timeout.
  std::optional<std::string> next_command(int timeout_ms);
  zmq::socket_t& commands_socket() { return commands_; }

 private:
  zmq::socket_t events_;    // PUSH -> core
  zmq::socket_t commands_;  // PULL <- core
};

class Driver {
 public:
  virtual ~Driver() = default;
  // Runs until `stop` is requested. Must not throw: log a problem and soldier on (report the
  // device down with a DeviceStatus event, retry with backoff).
  virtual void run(DriverIo& io, std::stop_token stop) = 0;
};

using DriverFactory =
    std::function<std::unique_ptr<Driver>(const StationConfig::Device&, const StationConfig&)>;

// The registry: one place where (kind, driver) names map to factories. See devices/registry.cpp.
struct DriverInfo {
  std::string kind;    // scanner | printer | sorter
  std::string driver;  // e.g. "sim", "tcp", "serial", "usb-hid", "modbus-tcp", "modbus-rtu"
  std::string help;
  DriverFactory make;
  // Checks the device's options; returns one message per problem ("option: what is wrong").
  std::function<std::vector<std::string>(const StationConfig::Device&)> check;
};
const std::vector<DriverInfo>& drivers();
const DriverInfo* find_driver(const std::string& kind, const std::string& driver);

}  // namespace sortd::dev
