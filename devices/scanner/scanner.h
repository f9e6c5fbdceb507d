// sortd scanners: the drivers (usb-hid, serial, tcp-client, tcp-server) and what they share:
// option parsing, the read pipeline (bytes -> frames -> reads), device status, backoff.
// Each driver runs in its own thread and owns its device; see docs/scanners.md.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "driver.h"
#include "events.h"
#include "model.h"
#include "scanner/decode.h"
#include "scanner/framing.h"

namespace sortd::dev::scanner {

// The registry entries of the scanner family (kind "scanner").
std::vector<DriverInfo> scanner_drivers();

// What a scanner driver talks to: the core (through DriverIo in the daemon, a queue in tests).
struct Host {
  std::function<void(const Event&)> emit;
  // Non-blocking: the next command for this device (JSON text), if any. May be empty.
  std::function<std::optional<std::string>()> command;
};

// A device's options with the problems found while reading them. Every option a driver reads
// is marked; what is left unread at the end is a typo and reported.
class Options {
 public:
  explicit Options(const StationConfig::Device& dev) : dev_(dev) {}
  std::string str(const std::string& key, const std::string& def);
  std::int64_t integer(const std::string& key, std::int64_t def, std::int64_t min,
                       std::int64_t max);
  bool flag(const std::string& key, bool def);
  std::string bytes(const std::string& key, const std::string& def);  // escapes, see framing.h
  std::string choice(const std::string& key, const std::string& def,
                     const std::vector<std::string>& allowed);
  bool has(const std::string& key) const { return dev_.options.count(key) > 0; }
  void error(const std::string& key, const std::string& message);
  // Reports options nobody read; returns every problem.
  std::vector<std::string> finish();
  const std::string& name() const { return dev_.name; }

 private:
  const StationConfig::Device& dev_;
  std::set<std::string> used_;
  std::vector<std::string> errors_;
};

// Options every scanner driver shares.
struct CommonConfig {
  std::string name;
  FramingConfig framing;
  DecodeConfig decode;
  int idle_ms = 500;  // line idle this long ends / drops a partial frame
  int retry_min_ms = 200, retry_max_ms = 5000;
  std::string trigger;                 // bytes sent to the reader to trigger a read; empty = none
  std::string trigger_on = "command";  // connect | command | interval
  int trigger_interval_ms = 1000;
};
// Reads the shared options; `default_framing` is the framing preset when none is given.
CommonConfig read_common(Options& o, const std::string& default_framing = "line");
// "line" (CR, LF or CRLF), "cr", "lf", "crlf", "stx-etx", "none" (ends when the line is idle).
bool framing_preset(std::string_view name, FramingConfig& f);

// Bytes in, reads and status out. Shared by every transport.
class ReadPipeline {
 public:
  ReadPipeline(const CommonConfig& cfg, Host& host);
  void bytes(std::string_view data);
  void text(std::string_view data) { bytes(data); }
  // A whole frame payload from a transport that delimits reads itself (USB HID POS): decoded as
  // the framing parser's frames are.
  void frame(std::string_view payload);
  // The transport dropped something: counted and logged with the reason.
  void reject(const std::string& reason);
  void idle();   // nothing came for idle_ms
  void reset();  // connection lost: drop what is pending, silently
  std::uint64_t reads() const { return reads_; }
  std::uint64_t rejected() const { return rejected_; }
  int idle_ms() const { return cfg_.idle_ms; }

 private:
  void handle(std::vector<FrameItem>& items);
  const CommonConfig& cfg_;
  Host& host_;
  FrameParser parser_;
  std::vector<FrameItem> items_;
  std::uint64_t reads_ = 0, rejected_ = 0;
};

// Emits DeviceStatus on changes only (a retry loop reports "down" once, not every attempt).
class StatusReporter {
 public:
  StatusReporter(std::string device, Host& host) : device_(std::move(device)), host_(host) {}
  void up(const std::string& detail);
  void down(const std::string& detail);

 private:
  std::string device_;
  Host& host_;
  std::optional<bool> last_;
  std::string last_detail_;
};

// Exponential backoff between retries: min, 2*min, ... up to max; reset after a success.
class Backoff {
 public:
  Backoff(int min_ms, int max_ms) : min_(min_ms), max_(max_ms), next_(min_ms) {}
  // Sleeps the next delay or until stop is requested; returns false when stopping.
  bool wait(std::stop_token stop);
  void reset() { next_ = min_; }
  int next_ms() const { return next_; }

 private:
  int min_, max_, next_;
};

// Sleep that wakes up when stop is requested; returns false when stopping.
bool sleep_for(std::stop_token stop, std::chrono::milliseconds d);

// Trigger handling shared by the stream transports: decides when to send the trigger bytes.
class Trigger {
 public:
  explicit Trigger(const CommonConfig& cfg) : cfg_(cfg) {}
  // Bytes to send now (empty = nothing): on connect, on a trigger command, on the interval.
  std::string on_connect();
  std::string on_command(const std::string& json);
  std::string on_tick(std::chrono::steady_clock::time_point now);

 private:
  const CommonConfig& cfg_;
  std::chrono::steady_clock::time_point last_{};
};

// The transports below are plain classes with run(Host&, stop); drivers.cpp wraps each in a
// sortd::dev::Driver whose run(DriverIo&) bridges Host to the core's sockets. Tests run them
// with a Host of their own.

// --- the drivers -------------------------------------------------------------------------------

struct TcpConfig {
  CommonConfig common;
  std::string host = "0.0.0.0";
  int port = 0;
  int connect_timeout_ms = 3000;
};
TcpConfig read_tcp_config(Options& o, bool server);

// The daemon connects to the reader; reconnects with backoff.
class TcpClientScanner {
 public:
  explicit TcpClientScanner(TcpConfig cfg) : cfg_(std::move(cfg)) {}
  void run(Host& host, std::stop_token stop);

 private:
  TcpConfig cfg_;
};

// The reader connects to the daemon; a reader that connects again replaces its old connection.
class TcpServerScanner {
 public:
  explicit TcpServerScanner(TcpConfig cfg) : cfg_(std::move(cfg)) {}
  void run(Host& host, std::stop_token stop);
  // The port actually bound (useful with port 0); 0 until listening.
  int bound_port() const { return bound_port_.load(); }

 private:
  TcpConfig cfg_;
  std::atomic<int> bound_port_{0};
};

struct SerialConfig {
  CommonConfig common;
  std::string device;
  int baud = 9600;
  int data_bits = 8;
  char parity = 'n';  // n | e | o
  int stop_bits = 1;
  std::string flow = "none";  // none | rtscts | xonxoff
};
SerialConfig read_serial_config(Options& o);
// termios speed constant for a baud rate; 0 when unsupported.
unsigned serial_speed(int baud);

class SerialScanner {
 public:
  explicit SerialScanner(SerialConfig cfg) : cfg_(std::move(cfg)) {}
  void run(Host& host, std::stop_token stop);

 private:
  SerialConfig cfg_;
};

// How a USB HID scanner's reports are read: as a keyboard (boot keyboard reports typed into
// text) or as a HID POS bar code scanner (usage page 0x8C, see hid_pos.h). Auto: HID POS when an
// interface's report descriptor offers a usable Scanned Data report, keyboard otherwise.
enum class UsbHidMode { Auto, Keyboard, Pos };

struct UsbHidConfig {
  CommonConfig common;
  UsbHidMode mode = UsbHidMode::Auto;
  std::uint16_t vendor_id = 0, product_id = 0;
  std::string serial;  // iSerialNumber to tell identical scanners apart; empty = any
  int interface = -1;  // -1 = any HID interface (HID POS first, then the boot keyboard one)
  std::string layout = "us";
  int poll_ms = 1000;  // device search interval when hotplug is not available
};
UsbHidConfig read_usb_hid_config(Options& o);

class UsbHidScanner {
 public:
  explicit UsbHidScanner(UsbHidConfig cfg) : cfg_(std::move(cfg)) {}
  void run(Host& host, std::stop_token stop);

 private:
  UsbHidConfig cfg_;
};

}  // namespace sortd::dev::scanner
