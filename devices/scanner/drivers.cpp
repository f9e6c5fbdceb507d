// The scanner family's registry entries and the bridge from a driver thread to the core.
#include <spdlog/spdlog.h>

#include "scanner/scanner.h"

namespace sortd::dev::scanner {

namespace {

// A transport as a Driver: Host bridged to the core's sockets.
template <class Scanner>
class Adapter : public Driver {
 public:
  template <class Config>
  explicit Adapter(Config c) : s_(std::move(c)) {}
  void run(DriverIo& io, std::stop_token stop) override {
    Host host;
    host.emit = [&io](const Event& e) {
      try {
        io.emit(e);
      } catch (const std::exception& ex) {
        spdlog::error("scanner: event not sent to the core: {}", ex.what());
      }
    };
    host.command = [&io]() -> std::optional<std::string> {
      try {
        return io.next_command(0);
      } catch (const std::exception& ex) {
        spdlog::error("scanner: reading a command failed: {}", ex.what());
        return std::nullopt;
      }
    };
    try {
      s_.run(host, stop);
    } catch (const std::exception& ex) {
      // Must not throw: the daemon's thread would die. Log it; the device stays down.
      spdlog::critical("scanner driver stopped on an error: {}", ex.what());
    }
  }

 private:
  Scanner s_;
};

template <class Config, class Scanner>
DriverInfo entry(std::string name, std::string help, Config (*read)(Options&)) {
  DriverInfo d;
  d.kind = "scanner";
  d.driver = std::move(name);
  d.help = std::move(help);
  d.check = [read](const StationConfig::Device& dev) {
    Options o(dev);
    read(o);
    return o.finish();
  };
  d.make = [read](const StationConfig::Device& dev,
                  const StationConfig&) -> std::unique_ptr<Driver> {
    Options o(dev);
    Config c = read(o);
    auto problems = o.finish();
    if (!problems.empty()) {
      std::string all;
      for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
      throw std::invalid_argument("scanner " + dev.name + ": " + all);
    }
    return std::make_unique<Adapter<Scanner>>(std::move(c));
  };
  return d;
}

TcpConfig read_tcp_client(Options& o) {
  return read_tcp_config(o, false);
}
TcpConfig read_tcp_server(Options& o) {
  return read_tcp_config(o, true);
}

}  // namespace

std::vector<DriverInfo> scanner_drivers() {
  return {
      entry<UsbHidConfig, UsbHidScanner>(
          "usb-hid",
          "USB HID scanner through libusb, keyboard wedge or HID POS (vendor_id, product_id, mode, "
          "layout)",
          read_usb_hid_config),
      entry<SerialConfig, SerialScanner>(
          "serial", "serial scanner through termios (device, baud, parity, framing)",
          read_serial_config),
      entry<TcpConfig, TcpClientScanner>(
          "tcp-client", "fixed-mount reader; the daemon connects to it (host, port, framing)",
          read_tcp_client),
      entry<TcpConfig, TcpServerScanner>(
          "tcp-server", "fixed-mount reader; it connects to the daemon (host, port, framing)",
          read_tcp_server),
  };
}

}  // namespace sortd::dev::scanner
