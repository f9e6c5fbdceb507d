// The printer simulator (see printer_sim.h).
#include "printer_sim.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace sortd::dev::printer {

namespace {

int listen_on(const std::string& host, int port, int& bound) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) {
    ::close(fd);
    throw std::runtime_error("not an IPv4 address: " + host);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0) {
    std::string e = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("listen on " + host + ":" + std::to_string(port) + ": " + e);
  }
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  bound = ntohs(a.sin_port);
  return fd;
}

bool send_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    s.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

PrinterSim::PrinterSim(PrinterSimOptions o) : opt_(std::move(o)) {
  if (!opt_.dir.empty()) std::filesystem::create_directories(opt_.dir);
  listen_fd_ = listen_on(opt_.host, opt_.port, port_);
  if (opt_.control_port >= 0) control_fd_ = listen_on(opt_.host, opt_.control_port, control_port_);
  accept_ = std::thread([this] { accept_loop(); });
  if (control_fd_ >= 0) control_ = std::thread([this] { control_loop(); });
}

PrinterSim::~PrinterSim() {
  stop_ = true;
  if (accept_.joinable()) accept_.join();
  if (control_.joinable()) control_.join();
  std::lock_guard lock(threads_mu_);
  for (auto& t : threads_) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (control_fd_ >= 0) ::close(control_fd_);
}

std::vector<PrinterSim::Job> PrinterSim::jobs() const {
  std::lock_guard lock(mu_);
  return jobs_;
}

PrinterStatus PrinterSim::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

std::string PrinterSim::command(const std::string& raw) {
  std::string line = raw;
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' '))
    line.pop_back();
  std::lock_guard lock(mu_);
  auto& s = status_;
  if (line == "paper-out")
    s.paper_out = true;
  else if (line == "paper-in")
    s.paper_out = false;
  else if (line == "head-open")
    s.head_open = true;
  else if (line == "head-close")
    s.head_open = false;
  else if (line == "pause")
    s.paused = true;
  else if (line == "resume")
    s.paused = false;
  else if (line == "ribbon-out")
    s.ribbon_out = true;
  else if (line == "ribbon-in")
    s.ribbon_out = false;
  else if (line == "silent")
    silent_ = true;
  else if (line == "answer")
    silent_ = false;
  else if (line == "ok" || line == "back") {
    s = PrinterStatus{};
    silent_ = false;
  } else if (line == "jobs") {
    return "ok " + std::to_string(jobs_.size());
  } else if (line != "status") {
    return "error unknown command '" + line +
           "' (paper-out paper-in head-open head-close pause resume ribbon-out ribbon-in silent "
           "answer ok status jobs)";
  }
  return "ok " + s.detail() + (silent_ ? ", silent" : "");
}

void PrinterSim::store(const std::string& bytes, const std::string& ext) {
  std::lock_guard lock(mu_);
  Job j;
  j.bytes = bytes;
  j.state = status_.detail() + (silent_ ? ", silent" : "");
  const std::size_t n = jobs_.size() + 1;
  if (!opt_.dir.empty()) {
    char name[32];
    std::snprintf(name, sizeof name, "job-%04zu", n);
    j.file = (std::filesystem::path(opt_.dir) / (std::string(name) + ext)).string();
    std::ofstream(j.file, std::ios::binary) << bytes;
    std::ofstream(std::filesystem::path(opt_.dir) / "jobs.log", std::ios::app)
        << name << ext << " bytes=" << bytes.size() << " state=" << j.state << "\n";
    if (opt_.previews && ext == ".zpl") {
      try {
        if (auto label = labels::label_from_zpl(bytes, opt_.dpi))
          labels::write_png(
              *label, (std::filesystem::path(opt_.dir) / (std::string(name) + ".png")).string());
      } catch (const std::exception& e) {
        spdlog::warn("printer sim: no preview of {}: {}", name, e.what());
      }
    }
  }
  jobs_.push_back(std::move(j));
}

void PrinterSim::accept_loop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(threads_mu_);
    threads_.emplace_back([this, fd] { serve(fd); });
  }
}

void PrinterSim::serve(int fd) {
  std::string buf;
  bool closed = false;
  while (!stop_ && !closed) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      char tmp[8192];
      ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0)
        closed = true;
      else
        buf.append(tmp, static_cast<std::size_t>(n));
    }
    // Take every complete request / job off the front of the buffer.
    for (;;) {
      std::size_t skip = 0;
      while (skip < buf.size() && (buf[skip] == '\r' || buf[skip] == '\n' || buf[skip] == ' '))
        ++skip;
      buf.erase(0, skip);
      if (buf.empty()) break;
      if (buf.rfind("~HS", 0) == 0 || buf.rfind("\x1b!?", 0) == 0) {
        const bool zpl = buf[0] == '~';
        buf.erase(0, 3);
        ++status_requests_;
        std::string reply;
        {
          std::lock_guard lock(mu_);
          if (silent_) continue;
          reply = zpl ? format_zpl_host_status(status_)
                      : std::string(1, static_cast<char>(format_tspl_status(status_)));
        }
        send_all(fd, reply);
        continue;
      }
      if (buf[0] == '^' || buf[0] == '~') {  // ZPL: a job is ^XA .. ^XZ
        auto start = buf.find("^XA");
        if (start != 0) {
          if (start == std::string::npos && buf.size() < 3) break;
          spdlog::warn("printer sim: ZPL outside ^XA..^XZ dropped: {}",
                       buf.substr(0, std::min<std::size_t>(start, 60)));
          buf.erase(0, start == std::string::npos ? buf.size() : start);
          continue;
        }
        auto end = buf.find("^XZ");
        if (end == std::string::npos) break;
        store(buf.substr(0, end + 3), ".zpl");
        buf.erase(0, end + 3);
        continue;
      }
      if (buf[0] == '\x1b') {  // an ESC command we do not know (or not whole yet)
        if (buf.size() < 3) break;
        buf.erase(0, 3);
        continue;
      }
      // TSPL: commands up to and including the PRINT line.
      std::size_t pos = 0, end = std::string::npos;
      for (;;) {
        auto eol = buf.find("\r\n", pos);
        if (eol == std::string::npos) break;
        if (buf.compare(pos, 6, "PRINT ") == 0) {
          end = eol + 2;
          break;
        }
        pos = eol + 2;
      }
      if (end == std::string::npos) break;
      store(buf.substr(0, end), ".tspl");
      buf.erase(0, end);
    }
  }
  ::close(fd);
}

void PrinterSim::control_loop() {
  std::vector<std::pair<int, std::string>> clients;
  while (!stop_) {
    std::vector<pollfd> fds{{control_fd_, POLLIN, 0}};
    for (auto& c : clients) fds.push_back({c.first, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      int fd = ::accept4(control_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) clients.emplace_back(fd, "");
    }
    for (std::size_t i = 1; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
      auto& [fd, pending] = clients[i - 1];
      char tmp[1024];
      ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) {
        ::close(fd);
        fd = -1;
        continue;
      }
      pending.append(tmp, static_cast<std::size_t>(n));
      std::size_t eol;
      while ((eol = pending.find('\n')) != std::string::npos) {
        std::string reply = command(pending.substr(0, eol)) + "\n";
        pending.erase(0, eol + 1);
        send_all(fd, reply);
      }
    }
    std::erase_if(clients, [](auto& c) { return c.first < 0; });
  }
  for (auto& c : clients) ::close(c.first);
}

}  // namespace sortd::dev::printer
