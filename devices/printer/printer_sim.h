// A label printer on TCP, for tests, the demo and `sort-sim printer`: takes ZPL (^XA..^XZ) and
// TSPL (up to PRINT) jobs, stores each in a file of its own, draws a PNG preview of ZPL jobs with
// the label renderer, answers ~HS like a Zebra and <ESC>!? like a TSC printer, and can be told
// to run out of paper, open its head, pause, run out of ribbon, go silent and come back.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "printer.h"
#include "sim_net.h"

namespace sortd::dev::printer {

struct PrinterSimOptions {
  std::string host = "127.0.0.1";
  int port = 9100;        // 0 = any free port
  int control_port = -1;  // -1 = none, 0 = any free port
  std::string dir;        // where jobs are stored (empty = keep them in memory only)
  int dpi = 203;          // for previews
  bool previews = true;
};

class PrinterSim {
 public:
  explicit PrinterSim(PrinterSimOptions o);  // binds; throws std::runtime_error
  ~PrinterSim();
  int port() const { return port_; }
  int control_port() const { return control_port_; }

  // One control command ("paper-out", "paper-in", "head-open", "head-close", "pause",
  // "resume", "ribbon-out", "ribbon-in", "silent", "answer", "ok" (all clear), "status",
  // "jobs"). Returns the reply line ("ok <state>" or "error <why>").
  std::string command(const std::string& line);

  struct Job {
    std::string file;   // full path, or empty without a dir
    std::string bytes;  // what arrived, byte for byte
    std::string state;  // the printer's state when it arrived ("ready", "paper out", ...)
  };
  std::vector<Job> jobs() const;
  PrinterStatus status() const;
  int status_requests() const { return status_requests_; }

 private:
  void accept_loop();
  void serve(int fd);
  void store(const std::string& bytes, const std::string& ext);

  PrinterSimOptions opt_;
  int listen_fd_ = -1;
  int port_ = 0, control_port_ = -1;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  PrinterStatus status_;
  bool silent_ = false;
  std::vector<Job> jobs_;
  std::atomic<int> status_requests_{0};
  std::vector<std::thread> threads_;
  std::mutex threads_mu_;
  std::thread accept_;
  std::unique_ptr<LineControlServer> control_;  // the control port, when there is one
};

// `sort-sim printer` (devices/sort-sim/sim_printer.cpp).
int printer_sim_main(int argc, char** argv);

}  // namespace sortd::dev::printer
