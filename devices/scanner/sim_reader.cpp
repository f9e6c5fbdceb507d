#include "scanner/sim_reader.h"

#include "sim_net.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

namespace sortd::dev::scanner {

namespace {

int tcp_connect(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = res; a; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  return fd;
}

}  // namespace

std::unique_ptr<SimReader> SimReader::listen(const std::string& host, int port, SimFraming f) {
  std::unique_ptr<SimReader> s(new SimReader(Mode::Listen, std::move(f)));
  s->host_ = host;
  s->listen_fd_ = tcp_listen(host, port, &s->port_);
  SimReader* self = s.get();
  s->acceptor_ = std::jthread([self](std::stop_token st) { self->accept_loop(st); });
  return s;
}

std::unique_ptr<SimReader> SimReader::connect(const std::string& host, int port, SimFraming f) {
  std::unique_ptr<SimReader> s(new SimReader(Mode::Connect, std::move(f)));
  s->host_ = host;
  s->port_ = port;
  return s;
}

std::unique_ptr<SimReader> SimReader::pty(const std::string& link, SimFraming f) {
  std::unique_ptr<SimReader> s(new SimReader(Mode::Pty, std::move(f)));
  int master = -1, slave = -1;
  char name[256] = {};
  if (::openpty(&master, &slave, name, nullptr, nullptr) != 0)
    throw std::runtime_error(std::string("sim reader: openpty: ") + std::strerror(errno));
  termios t{};
  ::tcgetattr(slave, &t);
  ::cfmakeraw(&t);
  ::tcsetattr(slave, TCSANOW, &t);
  s->conn_fd_ = master;
  s->pty_slave_ = slave;
  s->pty_path_ = name;
  if (!link.empty()) {
    ::unlink(link.c_str());
    if (::symlink(name, link.c_str()) != 0)
      throw std::runtime_error("sim reader: cannot link " + link + ": " + std::strerror(errno));
    s->pty_link_ = link;
  }
  return s;
}

SimReader::~SimReader() {
  if (acceptor_.joinable()) {
    acceptor_.request_stop();
    acceptor_.join();
  }
  if (conn_fd_ >= 0) ::close(conn_fd_);
  if (pty_slave_ >= 0) ::close(pty_slave_);
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (!pty_link_.empty()) ::unlink(pty_link_.c_str());
}

void SimReader::accept_loop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    int lfd;
    {
      std::lock_guard lock(mu_);
      lfd = listen_fd_;
    }
    if (lfd < 0) {  // unplugged
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    pollfd p{lfd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    std::lock_guard lock(mu_);
    if (listen_fd_ != lfd) continue;  // unplugged meanwhile: lfd is closed
    int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) continue;
    const int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    if (conn_fd_ >= 0) ::close(conn_fd_);  // the daemon reconnected: the newest wins
    conn_fd_ = fd;
  }
}

bool SimReader::ensure_connected() {
  if (unplugged_) return false;
  if (conn_fd_ >= 0) return true;
  if (mode_ != Mode::Connect) return false;
  conn_fd_ = tcp_connect(host_, port_);
  return conn_fd_ >= 0;
}

bool SimReader::write_locked(std::string_view bytes) {
  if (!ensure_connected()) return false;
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(conn_fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = ::write(conn_fd_, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (mode_ != Mode::Pty) {
        ::close(conn_fd_);
        conn_fd_ = -1;
      }
      return false;
    }
    off += static_cast<std::size_t>(n);
  }
  return true;
}

std::string SimReader::encode(const ScanRead& r) const {
  const SimFraming& f = framing_;
  std::string body;
  if (!f.tracking_sep.empty()) body += std::to_string(r.tracking_id) + f.tracking_sep;
  if (r.no_read || r.codes.empty()) {
    body += f.no_read;
  } else {
    for (std::size_t i = 0; i < r.codes.size(); ++i) {
      if (i) body += f.separator;
      if (f.aim)
        body += "]" + (r.codes[i].symbology.empty() ? f.default_symbology : r.codes[i].symbology);
      body += r.codes[i].text;
    }
  }
  return f.prefix + body + f.suffix;
}

bool SimReader::play(const ScanRead& r) {
  return send_raw(encode(r));
}

bool SimReader::send_raw(std::string_view bytes) {
  std::lock_guard lock(mu_);
  return write_locked(bytes);
}

bool SimReader::send_split(std::string_view bytes, std::size_t at, std::chrono::milliseconds gap) {
  if (at > bytes.size()) at = bytes.size();
  if (!send_raw(bytes.substr(0, at))) return false;
  std::this_thread::sleep_for(gap);
  return send_raw(bytes.substr(at));
}

bool SimReader::wait_connected(std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (ensure_connected()) return true;
    }
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void SimReader::unplug() {
  std::lock_guard lock(mu_);
  unplugged_ = true;
  // The listener first, or the kernel would complete a reconnection in its backlog; shut down
  // before it is closed, because the acceptor's poll() keeps a closed socket listening.
  if (listen_fd_ >= 0) {
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
  if (mode_ != Mode::Pty && conn_fd_ >= 0) {
    ::close(conn_fd_);
    conn_fd_ = -1;
  }
}

void SimReader::plug() {
  std::lock_guard lock(mu_);
  if (!unplugged_) return;
  if (mode_ == Mode::Listen) listen_fd_ = tcp_listen(host_, port_);
  unplugged_ = false;
}

void SimReader::drop_connection() {
  std::lock_guard lock(mu_);
  if (mode_ == Mode::Pty) return;
  if (conn_fd_ >= 0) ::close(conn_fd_);
  conn_fd_ = -1;
}

std::string SimReader::take_received(std::chrono::milliseconds wait) {
  std::string out;
  auto until = std::chrono::steady_clock::now() + wait;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (conn_fd_ >= 0) {
        pollfd p{conn_fd_, POLLIN, 0};
        while (::poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) {
          char buf[512];
          ssize_t n = ::read(conn_fd_, buf, sizeof buf);
          if (n <= 0) break;
          out.append(buf, static_cast<std::size_t>(n));
        }
      }
    }
    if (!out.empty() || std::chrono::steady_clock::now() >= until) return out;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace sortd::dev::scanner
