// sortd bus, internal: the report worker (daemon_bus_reports.cpp). One thread with its own
// read-only connection to the store builds the reports the bus hands it, one after the other,
// and sends each reply, behind its request's ROUTER envelope, to kReportReplies, where the loop
// picks it up and sends it on.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "config.h"
#include "reports.h"

namespace sortd {

class ReportWorker {
 public:
  struct Job {
    std::vector<std::string> envelope;
    nlohmann::json id;
    std::shared_ptr<const StationConfig> cfg;  // as it was when the request came
    ReportRange range;
    std::string format;
  };
  ReportWorker(zmq::context_t& ctx, std::string db_path, int delay_ms);
  ~ReportWorker();  // the job being built is finished; the ones waiting are dropped
  ReportWorker(const ReportWorker&) = delete;
  ReportWorker& operator=(const ReportWorker&) = delete;
  void submit(Job j);

 private:
  void run(std::stop_token st);

  zmq::context_t& ctx_;
  std::string db_path_;
  int delay_ms_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Job> jobs_;
  std::jthread thread_;  // last: it starts after the members above and is joined before them
};

}  // namespace sortd
