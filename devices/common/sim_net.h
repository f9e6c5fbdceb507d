// sortd simulators: the TCP plumbing the device simulators share (sort-sim plc, printer,
// scanner and feeder): a listening socket, a whole-buffer send, and a line-based control port
// ("command\n" in, one reply line out) served by a thread of its own.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

namespace sortd::dev {

// Listens on host:port (port 0: any free port) with SO_REUSEADDR; host is an address or a
// name (IPv4 or IPv6). Stores the port bound in *bound when given. Throws std::runtime_error
// saying which address and why.
int tcp_listen(const std::string& host, int port, int* bound = nullptr);

// Sends all of s (MSG_NOSIGNAL); false when the peer is gone.
bool send_all(int fd, std::string_view s);

// A control port: every line a client sends ("\r\n" or "\n") goes to the handler, and its
// return value goes back as one line. "quit" closes that client. Lines over 64 KiB are refused
// and the client is closed. Clients are served one line at a time, in the server's own thread.
class LineControlServer {
 public:
  using Handler = std::function<std::string(const std::string& line)>;
  LineControlServer(const std::string& host, int port, Handler handler);  // throws like tcp_listen
  ~LineControlServer();
  LineControlServer(const LineControlServer&) = delete;
  LineControlServer& operator=(const LineControlServer&) = delete;
  int port() const { return port_; }

 private:
  void loop();
  Handler handler_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace sortd::dev
