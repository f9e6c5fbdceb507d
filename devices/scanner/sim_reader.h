// sortd scanners: a simulated fixed-mount / serial reader, usable in-process (the demo, tests)
// and from `sort-sim scanner`. It plays reads in a configurable framing over TCP (as the server
// the daemon connects to, or as a client of the daemon's tcp-server) or a pty (serial).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "events.h"

namespace sortd::dev::scanner {

struct SimFraming {
  std::string prefix;           // e.g. "\x02"
  std::string suffix = "\r\n";  // e.g. "\x03", "\r"
  std::string separator = ",";  // between codes of a multi-read
  std::string no_read = "NoRead";
  bool aim = false;                      // prefix each code with "]" + symbology
  std::string default_symbology = "C0";  // used with aim when a code has none
  std::string tracking_sep;              // non-empty: reads start with "<tracking id><sep>"
};

class SimReader {
 public:
  // Listens on host:port (0 = any free port); the daemon's tcp-client connects to it.
  static std::unique_ptr<SimReader> listen(const std::string& host, int port, SimFraming f);
  // Connects to the daemon's tcp-server at host:port (lazily, again after a drop).
  static std::unique_ptr<SimReader> connect(const std::string& host, int port, SimFraming f);
  // Opens a pty and links its slave to `link`; the daemon's serial driver opens `link`.
  static std::unique_ptr<SimReader> pty(const std::string& link, SimFraming f);
  ~SimReader();
  SimReader(const SimReader&) = delete;
  SimReader& operator=(const SimReader&) = delete;

  int port() const { return port_; }  // listen mode: the port bound
  const std::string& pty_path() const { return pty_path_; }

  // The bytes of one read in the configured framing.
  std::string encode(const ScanRead& r) const;
  // Sends one read; false when nobody is there to take it (not connected).
  bool play(const ScanRead& r);
  // Sends bytes as they are (garbage, hand-made frames).
  bool send_raw(std::string_view bytes);
  // Sends bytes in two writes, `gap` apart: a read split over packets.
  bool send_split(std::string_view bytes, std::size_t at, std::chrono::milliseconds gap);
  // Waits until a peer is connected (listen / connect modes; pty: always true).
  bool wait_connected(std::chrono::milliseconds timeout);
  // Drops the current connection, as a reader that reboots does.
  void drop_connection();
  // Unplugs the reader (TCP modes): the connection drops and nothing connects or is sent
  // (listen mode: connections are refused) until plug(), which listens on the same port again.
  void unplug();
  void plug();  // throws std::runtime_error when the port cannot be bound again
  // Bytes the daemon sent to the reader (trigger commands), taken from the buffer.
  std::string take_received(std::chrono::milliseconds wait = std::chrono::milliseconds(0));

  const SimFraming& framing() const { return framing_; }

 private:
  enum class Mode { Listen, Connect, Pty };
  SimReader(Mode m, SimFraming f) : mode_(m), framing_(std::move(f)) {}
  bool ensure_connected();
  bool write_locked(std::string_view bytes);
  void accept_loop(std::stop_token stop);

  Mode mode_;
  SimFraming framing_;
  std::string host_;
  int port_ = 0;
  int listen_fd_ = -1;
  int conn_fd_ = -1;    // TCP connection or pty master
  int pty_slave_ = -1;  // kept open so writes never fail before the daemon opens the port
  bool unplugged_ = false;
  std::string pty_path_, pty_link_;
  mutable std::mutex mu_;
  std::jthread acceptor_;
};

}  // namespace sortd::dev::scanner
