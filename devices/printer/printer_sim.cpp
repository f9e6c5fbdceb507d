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

PrinterSim::PrinterSim(PrinterSimOptions o) : opt_(std::move(o)) {
  if (!opt_.dir.empty()) std::filesystem::create_directories(opt_.dir);
  listen_fd_ = tcp_listen(opt_.host, opt_.port, &port_);
  if (opt_.control_port >= 0) {
    control_ = std::make_unique<LineControlServer>(
        opt_.host, opt_.control_port, [this](const std::string& line) { return command(line); });
    control_port_ = control_->port();
  }
  accept_ = std::thread([this] { accept_loop(); });
}

PrinterSim::~PrinterSim() {
  stop_ = true;
  if (accept_.joinable()) accept_.join();
  control_.reset();
  std::lock_guard lock(threads_mu_);
  for (auto& t : threads_) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
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

}  // namespace sortd::dev::printer
