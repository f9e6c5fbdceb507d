// sortd as a system service: logging to the journal with priorities, and SIGHUP reloading the
// station configuration after checking it (docs/operations.md).
#pragma once

#include <signal.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model.h"

namespace sortd {

class Daemon;

// True when stderr is the journal stream systemd gave the service: JOURNAL_STREAM ("dev:ino")
// names the device and inode of fd 2 (systemd.exec(5), sd_journal_stream_fd(3)).
bool stderr_is_journal();

// Routes spdlog's default logger to the journal (priority per level: info 6, warning 4,
// error 3, critical 2; SYSLOG_IDENTIFIER=ident) when stderr_is_journal() or force_journal,
// and keeps the console otherwise. Returns true when it logs to the journal.
bool setup_logging(const std::string& ident = "sortd", bool force_journal = false);

struct ReloadResult {
  bool activated = false;
  std::string source;               // the file read
  std::vector<std::string> errors;  // why it was refused ("file:line:column: key: message")
  std::vector<std::string> devices_changed;  // device sections that differ (need a restart)
};

// Reads and checks the station file (load_config_file + check_devices) and activates it with
// Daemon::activate. An invalid file is refused: its errors are logged, the running
// configuration stays. Tells systemd (RELOADING=1 ... READY=1, STATUS=), writes an audit row,
// and publishes a "config" update on the bus. Call on the daemon's loop thread.
// Device sections are compared with `started` (the devices the drivers were started with; the
// running configuration's when null): drivers keep their start-up options until a restart.
ReloadResult reload_config(Daemon& d, const std::string& path, const std::string& why = "SIGHUP",
                           const std::vector<StationConfig::Device>* started = nullptr);

// Blocks SIGHUP, SIGINT and SIGTERM in the constructing thread until release(). Threads started
// meanwhile (device drivers, ZeroMQ's I/O threads, the bus) inherit the mask and never take
// these signals: only the loop thread does, whose poll expects to be interrupted (a driver's
// blocking call would not). Create it before Daemon::start(); release() in the loop thread just
// before Daemon::run(), after the handlers are installed (a signal that came meanwhile is
// delivered then).
class WorkerSignalMask {
 public:
  WorkerSignalMask();
  ~WorkerSignalMask();
  WorkerSignalMask(const WorkerSignalMask&) = delete;
  WorkerSignalMask& operator=(const WorkerSignalMask&) = delete;
  // Restores the constructing thread's mask (call in that thread).
  void release();
  // Unblocks the three signals in the calling thread (a loop thread that is not the one that
  // made the mask, e.g. in tests).
  static void unblock_in_this_thread();

 private:
  sigset_t old_{};
  bool held_ = false;
};

// SIGHUP reloads the daemon's configuration file (DaemonOptions::config_path). The handler only
// raises a flag; the loop thread does the reload at its next tick (composed with whatever
// Daemon::on_tick already does: create this after the bus). The previous SIGHUP disposition
// comes back when this is destroyed. One per process.
class ReloadOnSighup {
 public:
  explicit ReloadOnSighup(Daemon& d);
  ~ReloadOnSighup();
  ReloadOnSighup(const ReloadOnSighup&) = delete;
  ReloadOnSighup& operator=(const ReloadOnSighup&) = delete;

  std::uint64_t activated() const;
  std::uint64_t refused() const;
  // Called on the loop thread after each reload (tests, the bus).
  void on_reload(std::function<void(const ReloadResult&)> f);

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace sortd
