// sortd bus: the worker thread for the requests that must not hold up the event loop (reports,
// label previews, password checks; daemon_bus_worker.h). The loop checks a request (role,
// arguments) and gathers what the job needs from its own state; the worker builds the reply and
// hands it, with the request's envelope, back to the loop (kWorkerReplies), which finishes it
// when the job has a second half (a login opens its session there) and sends it on the ROUTER.
#include "daemon_bus_worker.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <chrono>
#include <thread>

#include "config.h"
#include "daemon_bus.h"
#include "daemon_bus_ctx.h"
#include "store.h"

namespace sortd {

using nlohmann::json;

WorkerDb::~WorkerDb() {
  if (owned_) sqlite3_close(db_);
}

sqlite3* WorkerDb::get() {
  if (db_) return db_;
  if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError("cannot open " + path_ + " to read: " + why);
  }
  sqlite3_busy_timeout(db_, 5000);
  return db_;
}

BusWorker::BusWorker(zmq::context_t& ctx, std::string db_path, int delay_ms)
    : ctx_(ctx), db_path_(std::move(db_path)), delay_ms_(delay_ms) {
  thread_ = std::jthread([this](std::stop_token st) { run(st); });
}

BusWorker::~BusWorker() {
  thread_.request_stop();
  cv_.notify_all();
  thread_.join();
}

void BusWorker::submit(Job j) {
  {
    std::lock_guard lk(mu_);
    jobs_.push_back(std::move(j));
  }
  cv_.notify_one();
}

void BusWorker::run(std::stop_token st) {
  zmq::socket_t out(ctx_, zmq::socket_type::push);
  out.set(zmq::sockopt::linger, 0);
  out.connect(kWorkerReplies);
  WorkerDb db(db_path_);
  while (true) {
    Job job;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, st, [&] { return !jobs_.empty(); });
      if (st.stop_requested()) break;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
    const std::string reply = reply_to(job.id, job.what, [&] { return job.build(db); });
    out.send(zmq::buffer(&job.number, sizeof job.number), zmq::send_flags::sndmore);
    for (auto& frame : job.envelope) out.send(zmq::buffer(frame), zmq::send_flags::sndmore);
    out.send(zmq::buffer(reply), zmq::send_flags::none);
  }
}

json Bus::defer(Ctx& c, std::string what, std::function<json(WorkerDb&)> build,
                std::function<json(json)> then) {
  if (c.envelope && worker_) {
    const auto id = c.req.find("id");
    const std::uint64_t number = ++jobs_;
    if (then) then_.emplace(number, std::pair{what, std::move(then)});
    worker_->submit(
        {number, *c.envelope, id == c.req.end() ? json() : *id, std::move(what), std::move(build)});
    c.deferred = true;
    return nullptr;
  }
  // Called directly (tests, fuzzing): both halves here, on the daemon's own connection. Errors
  // go to the caller as they are.
  WorkerDb db(d_.store().handle());
  json result = build(db);
  return then ? then(std::move(result)) : result;
}

}  // namespace sortd
