// sortd bus, internal: the bus worker (daemon_bus_worker.cpp). One thread, with its own
// read-only connection to the store, does the requests that take too long for the event loop
// (reports, label previews, password checks), one after the other. It sends each reply, behind
// its job number and its request's ROUTER envelope, to kWorkerReplies, where the loop picks it
// up and sends it on.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

struct sqlite3;

namespace sortd {

// The worker's read-only connection to the store, opened when a job first asks for it.
class WorkerDb {
 public:
  explicit WorkerDb(std::string path) : path_(std::move(path)) {}
  explicit WorkerDb(sqlite3* borrowed) : db_(borrowed), owned_(false) {}  // the loop's own
  ~WorkerDb();
  WorkerDb(const WorkerDb&) = delete;
  WorkerDb& operator=(const WorkerDb&) = delete;
  sqlite3* get();  // throws StoreError when the store cannot be opened

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
  bool owned_ = true;
};

class BusWorker {
 public:
  struct Job {
    std::uint64_t number = 0;  // sent back first, for the loop's second half (Bus::defer)
    std::vector<std::string> envelope;
    nlohmann::json id;
    std::string what;  // for the log: "report", "label", "login"
    // The reply's result. Throws BusError (its code), StoreError (store_error) or anything
    // else (internal). It must not touch the loop's state: give it copies.
    std::function<nlohmann::json(WorkerDb&)> build;
  };
  BusWorker(zmq::context_t& ctx, std::string db_path, int delay_ms);
  ~BusWorker();  // the job being done is finished; the ones waiting are dropped
  BusWorker(const BusWorker&) = delete;
  BusWorker& operator=(const BusWorker&) = delete;
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
