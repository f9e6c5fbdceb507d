// Test helpers for the printer drivers: `sort-sim printer` as a child process, and a collector
// of the events a printer engine emits.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "events.h"

extern char** environ;

namespace sortd::test {

// `sort-sim printer --port 0` in a child process; commands go to its stdin, replies come back
// on its stdout.
class SimPrinterProcess {
 public:
  SimPrinterProcess(const std::string& binary, const std::string& dir, int dpi = 203) : dir_(dir) {
    std::filesystem::remove_all(dir);
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    std::string dpi_s = std::to_string(dpi);
    std::vector<std::string> args = {binary,  "printer", "--port", "0",
                                     "--dir", dir,       "--dpi",  dpi_s};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, binary.c_str(), &fa, nullptr, argv.data(), environ) != 0)
      throw std::runtime_error("cannot start " + binary);
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    to_ = fdopen(in[1], "w");
    from_ = fdopen(out[0], "r");
    std::string ready = line();
    if (std::sscanf(ready.c_str(), "READY port=%d", &port_) != 1)
      throw std::runtime_error("sort-sim printer did not start: '" + ready + "'");
  }
  ~SimPrinterProcess() {
    kill(pid_, SIGTERM);
    int st = 0;
    waitpid(pid_, &st, 0);
    if (to_) fclose(to_);
    if (from_) fclose(from_);
  }
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }

  // Sends a control command; returns its reply line.
  std::string command(const std::string& c) {
    std::fprintf(to_, "%s\n", c.c_str());
    std::fflush(to_);
    return line();
  }
  // Files of the jobs received so far, in order (job-0001.zpl, ...).
  std::vector<std::filesystem::path> job_files() const {
    std::vector<std::filesystem::path> out;
    if (!std::filesystem::exists(dir_)) return out;
    for (auto& e : std::filesystem::directory_iterator(dir_)) {
      auto ext = e.path().extension();
      if (ext == ".zpl" || ext == ".tspl") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  // Waits until the simulator has stored n jobs (a job is reported printed when it has been
  // written to the socket; the simulator stores it when it has read it). Deadlock guard only.
  bool wait_jobs(std::size_t n, int guard_ms = 15000) {
    for (int waited = 0; waited < guard_ms; waited += 20) {
      if (command("jobs") == "ok " + std::to_string(n)) return true;
      usleep(20000);
    }
    return false;
  }
  std::string jobs_log() const {
    std::ifstream in(std::filesystem::path(dir_) / "jobs.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::string line() {
    char buf[4096];
    if (!std::fgets(buf, sizeof buf, from_)) return "";
    std::string s(buf);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

inline std::string slurp_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Collects events from a printer engine's sink (called on the engine's thread).
class Events {
 public:
  void operator()(const Event& e) {
    std::lock_guard lock(mu_);
    events_.push_back(e);
    cv_.notify_all();
  }
  // Waits (up to a generous deadlock guard, not a performance bound) until pred(events) holds.
  template <class Pred>
  bool wait(Pred pred, int guard_ms = 15000) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::milliseconds(guard_ms), [&] { return pred(events_); });
  }
  std::vector<PrintFinished> finished(std::uint64_t job_id) {
    std::lock_guard lock(mu_);
    std::vector<PrintFinished> out;
    for (auto& e : events_)
      if (auto* f = std::get_if<PrintFinished>(&e); f && f->job_id == job_id) out.push_back(*f);
    return out;
  }
  std::vector<DeviceStatus> statuses() {
    std::lock_guard lock(mu_);
    std::vector<DeviceStatus> out;
    for (auto& e : events_)
      if (auto* s = std::get_if<DeviceStatus>(&e)) out.push_back(*s);
    return out;
  }
  static int count(const std::vector<Event>& ev, std::uint64_t job_id, JobOutcome o) {
    int n = 0;
    for (auto& e : ev)
      if (auto* f = std::get_if<PrintFinished>(&e); f && f->job_id == job_id && f->outcome == o)
        ++n;
    return n;
  }
  static bool last_status_is(const std::vector<Event>& ev, bool up, const std::string& part = "") {
    for (auto it = ev.rbegin(); it != ev.rend(); ++it)
      if (auto* s = std::get_if<DeviceStatus>(&*it))
        return s->up == up && s->detail.find(part) != std::string::npos;
    return false;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;
};

}  // namespace sortd::test
