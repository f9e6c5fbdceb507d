// Raw TCP printing (port 9100, "JetDirect"): one connection, kept open; status replies come back
// on the same connection.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "printer.h"

namespace sortd::dev::printer {

namespace {

class TcpTransport : public Transport {
 public:
  TcpTransport(std::string host, int port, int connect_timeout_ms)
      : host_(std::move(host)), port_(port), connect_timeout_ms_(connect_timeout_ms) {}
  ~TcpTransport() override { close(); }

  std::string describe() const override { return "tcp " + host_ + ":" + std::to_string(port_); }
  bool is_open() const override { return fd_ >= 0; }

  bool open(std::string& error) override {
    close();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(host_.c_str(), std::to_string(port_).c_str(), &hints, &res);
    if (rc != 0) {
      error = "cannot resolve " + host_ + ": " + gai_strerror(rc);
      return false;
    }
    error = "no address for " + host_;
    for (addrinfo* a = res; a; a = a->ai_next) {
      int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) continue;
      if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
        error = "connect to " + describe() + ": " + std::strerror(errno);
        ::close(fd);
        continue;
      }
      pollfd p{fd, POLLOUT, 0};
      int n = ::poll(&p, 1, connect_timeout_ms_);
      int soerr = 0;
      socklen_t len = sizeof soerr;
      if (n <= 0) {
        error = "connect to " + describe() + ": no answer within " +
                std::to_string(connect_timeout_ms_) + " ms";
        ::close(fd);
        continue;
      }
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
      if (soerr != 0) {
        error = "connect to " + describe() + ": " + std::strerror(soerr);
        ::close(fd);
        continue;
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      fd_ = fd;
      break;
    }
    freeaddrinfo(res);
    if (fd_ < 0) return false;
    error.clear();
    return true;
  }

  void close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool write(std::string_view bytes, int timeout_ms, std::string& error) override {
    if (fd_ < 0) {
      error = "not connected";
      return false;
    }
    std::size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd p{fd_, POLLOUT, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) {
          error = describe() + ": printer takes no data (" + std::to_string(timeout_ms) + " ms)";
          close();
          return false;
        }
        continue;
      }
      error = describe() + ": send: " + std::strerror(errno);
      close();
      return false;
    }
    return true;
  }

  bool read_some(std::string& out, int timeout_ms, std::string& error) override {
    if (fd_ < 0) {
      error = "not connected";
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    int n = ::poll(&p, 1, timeout_ms);
    if (n <= 0) return true;  // nothing yet
    char buf[4096];
    ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
    if (got > 0) {
      out.append(buf, static_cast<std::size_t>(got));
      return true;
    }
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    error = describe() + (got == 0 ? ": the printer closed the connection"
                                   : ": recv: " + std::string(std::strerror(errno)));
    close();
    return false;
  }

 private:
  std::string host_;
  int port_;
  int connect_timeout_ms_;
  int fd_ = -1;
};

}  // namespace

std::unique_ptr<Transport> make_tcp_transport(std::string host, int port, int connect_timeout_ms) {
  return std::make_unique<TcpTransport>(std::move(host), port, connect_timeout_ms);
}

}  // namespace sortd::dev::printer
