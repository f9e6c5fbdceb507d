#include "scanner/stream.h"

#include <cerrno>
#include <chrono>
#include <cstring>

#include <poll.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

namespace sortd::dev::scanner {

bool write_all(int fd, const std::string& bytes) {
  std::size_t off = 0;
  int spins = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n > 0) {
      off += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) && spins++ < 50) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 20);
      continue;
    }
    return false;
  }
  return true;
}

std::string stream_loop(int fd, ReadPipeline& pipe, Trigger& trigger, Host& host,
                        std::stop_token stop, int listen_fd) {
  using clock = std::chrono::steady_clock;
  auto last_data = clock::now();
  bool pending = false;
  char buf[4096];
  if (auto t = trigger.on_connect(); !t.empty() && !write_all(fd, t))
    return std::string("writing the trigger failed: ") + std::strerror(errno);
  while (!stop.stop_requested()) {
    pollfd p[2] = {{fd, POLLIN, 0}, {listen_fd, POLLIN, 0}};
    int n = ::poll(p, listen_fd >= 0 ? 2 : 1, 50);
    if (n < 0 && errno != EINTR) return std::string("poll: ") + std::strerror(errno);
    auto now = clock::now();
    if (n > 0 && (p[0].revents & POLLNVAL)) return "the device handle became invalid";
    if (n > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t got = ::read(fd, buf, sizeof buf);
      if (got > 0) {
        pipe.bytes(std::string_view(buf, static_cast<std::size_t>(got)));
        last_data = now;
        pending = true;
      } else if (got == 0) {
        return "the reader closed the connection";
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return std::strerror(errno);
      }
    }
    if (n > 0 && listen_fd >= 0 && (p[1].revents & POLLIN)) return "replaced";
    if (pending && now - last_data >= std::chrono::milliseconds(pipe.idle_ms())) {
      pipe.idle();
      pending = false;
    }
    if (host.command) {
      while (auto cmd = host.command()) {
        if (auto t = trigger.on_command(*cmd); !t.empty() && !write_all(fd, t))
          return std::string("writing the trigger failed: ") + std::strerror(errno);
      }
    }
    if (auto t = trigger.on_tick(now); !t.empty() && !write_all(fd, t))
      return std::string("writing the trigger failed: ") + std::strerror(errno);
  }
  return "";
}

}  // namespace sortd::dev::scanner
