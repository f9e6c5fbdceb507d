// TCP fixed-mount readers: the daemon connects to the reader (tcp-client) or the reader connects
// to the daemon (tcp-server).
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "scanner/scanner.h"
#include "scanner/stream.h"

namespace sortd::dev::scanner {

namespace {

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { close(); }
  void close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  void reset(int f) {
    close();
    fd = f;
  }
};

void keepalive(int fd) {
  int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  int idle = 10, intvl = 5, cnt = 3;
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

// Non-blocking connect with a timeout; returns the fd or -1 with `why`.
int connect_to(const std::string& host, int port, int timeout_ms, std::stop_token stop,
               std::string& why) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0) {
    why = "cannot resolve " + host + ": " + ::gai_strerror(rc);
    return -1;
  }
  int result = -1;
  for (addrinfo* a = res; a && result < 0 && !stop.stop_requested(); a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      why = std::string("socket: ") + std::strerror(errno);
      continue;
    }
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      result = fd;
      break;
    }
    if (errno != EINPROGRESS) {
      why = std::strerror(errno);
      ::close(fd);
      continue;
    }
    int waited = 0;
    bool done = false;
    while (!done && waited < timeout_ms && !stop.stop_requested()) {
      pollfd p{fd, POLLOUT, 0};
      int n = ::poll(&p, 1, 50);
      waited += 50;
      if (n > 0) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == 0)
          result = fd;
        else
          why = std::strerror(err);
        done = true;
      }
    }
    if (!done) why = "connect timed out after " + std::to_string(timeout_ms) + " ms";
    if (result < 0) ::close(fd);
  }
  ::freeaddrinfo(res);
  if (result >= 0) keepalive(result);
  return result;
}

}  // namespace

TcpConfig read_tcp_config(Options& o, bool server) {
  TcpConfig c;
  c.common = read_common(o);
  c.host = o.str("host", server ? "0.0.0.0" : "");
  if (c.host.empty()) o.error("host", "missing: the reader's address");
  c.port = static_cast<int>(o.integer("port", 0, server ? 0 : 1, 65535));
  if (!o.has("port")) o.error("port", "missing");
  c.connect_timeout_ms = static_cast<int>(o.integer("connect_timeout_ms", 3000, 50, 120000));
  return c;
}

void TcpClientScanner::run(Host& host, std::stop_token stop) {
  StatusReporter status(cfg_.common.name, host);
  ReadPipeline pipe(cfg_.common, host);
  Trigger trigger(cfg_.common);
  Backoff backoff(cfg_.common.retry_min_ms, cfg_.common.retry_max_ms);
  std::string where = cfg_.host + ":" + std::to_string(cfg_.port);
  while (!stop.stop_requested()) {
    std::string why;
    Fd sock(connect_to(cfg_.host, cfg_.port, cfg_.connect_timeout_ms, stop, why));
    if (sock.fd < 0) {
      if (stop.stop_requested()) break;
      status.down("cannot connect to " + where + ": " + why);
      if (!backoff.wait(stop)) break;
      continue;
    }
    backoff.reset();
    status.up("connected to " + where);
    pipe.reset();
    why = stream_loop(sock.fd, pipe, trigger, host, stop);
    pipe.idle();  // a frame cut by the disconnect is reported, not kept for the next connection
    pipe.reset();
    if (stop.stop_requested()) break;
    status.down(where + ": " + why);
    if (!backoff.wait(stop)) break;
  }
}

void TcpServerScanner::run(Host& host, std::stop_token stop) {
  StatusReporter status(cfg_.common.name, host);
  ReadPipeline pipe(cfg_.common, host);
  Trigger trigger(cfg_.common);
  Backoff backoff(cfg_.common.retry_min_ms, cfg_.common.retry_max_ms);
  std::string where = cfg_.host + ":" + std::to_string(cfg_.port);
  while (!stop.stop_requested()) {
    // Listen.
    Fd lsock;
    {
      addrinfo hints{};
      hints.ai_family = AF_UNSPEC;
      hints.ai_socktype = SOCK_STREAM;
      hints.ai_flags = AI_PASSIVE;
      addrinfo* res = nullptr;
      int rc = ::getaddrinfo(cfg_.host.c_str(), std::to_string(cfg_.port).c_str(), &hints, &res);
      std::string why = rc ? ::gai_strerror(rc) : "";
      for (addrinfo* a = rc ? nullptr : res; a; a = a->ai_next) {
        int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) continue;
        int on = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 4) == 0) {
          lsock.reset(fd);
          break;
        }
        why = std::strerror(errno);
        ::close(fd);
      }
      if (res) ::freeaddrinfo(res);
      if (lsock.fd < 0) {
        status.down("cannot listen on " + where + ": " + why);
        if (!backoff.wait(stop)) break;
        continue;
      }
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      ::getsockname(lsock.fd, reinterpret_cast<sockaddr*>(&ss), &len);
      int port = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                          : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
      bound_port_ = port;
      where = cfg_.host + ":" + std::to_string(port);
      spdlog::info("scanner {}: waiting for the reader on {}", cfg_.common.name, where);
      status.down("waiting for the reader to connect on " + where);
    }
    // Accept readers, one at a time; a new connection replaces the current one (the reader was
    // restarted and its old connection is dead even if we have not noticed yet).
    Fd conn;
    while (!stop.stop_requested()) {
      if (conn.fd < 0) {
        pollfd p{lsock.fd, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
      }
      sockaddr_storage peer{};
      socklen_t plen = sizeof peer;
      int fd = ::accept4(lsock.fd, reinterpret_cast<sockaddr*>(&peer), &plen,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
          if (conn.fd < 0) continue;
        } else {
          spdlog::warn("scanner {}: accept: {}", cfg_.common.name, std::strerror(errno));
          continue;
        }
      } else {
        if (conn.fd >= 0) {
          spdlog::info("scanner {}: the reader connected again; dropping its old connection",
                       cfg_.common.name);
          pipe.idle();
          pipe.reset();
        }
        keepalive(fd);
        conn.reset(fd);
        status.up("reader connected on " + where);
      }
      std::string why = stream_loop(conn.fd, pipe, trigger, host, stop, lsock.fd);
      if (why == "replaced") continue;  // accept the new connection at the top
      pipe.idle();
      pipe.reset();
      conn.close();
      if (stop.stop_requested()) break;
      status.down(why + "; waiting for the reader on " + where);
    }
  }
}

}  // namespace sortd::dev::scanner
