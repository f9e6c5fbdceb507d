// sortd bus: the `report` query (docs/protocol.md section 5, docs/reports.md). The request is
// checked on the loop thread (role, format, range); the report itself is built by the report
// worker, on a thread of its own with its own read-only connection to the store (WAL lets it
// read beside the loop's writes), in one read transaction. A month by the hour takes about a
// second over a million parcels: the loop keeps sorting meanwhile. The worker hands the reply,
// with the request's envelope, back to the loop (kReportReplies), which sends it on the ROUTER.
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <chrono>
#include <thread>

#include "daemon_bus.h"
#include "daemon_bus_ctx.h"
#include "daemon_bus_report_worker.h"

namespace sortd {

using nlohmann::json;

namespace {

// The reply's result: the report in the format asked for. Throws StoreError / ReportError.
json report_result(sqlite3* db, const StationConfig& cfg, const ReportRange& range,
                   const std::string& format) {
  json rep = build_report(db, cfg, range);
  if (format == "csv") return {{"format", format}, {"text", report_csv(rep)}};
  if (format == "table") return {{"format", format}, {"text", report_table(rep)}};
  return rep;
}

}  // namespace

ReportWorker::ReportWorker(zmq::context_t& ctx, std::string db_path, int delay_ms)
    : ctx_(ctx), db_path_(std::move(db_path)), delay_ms_(delay_ms) {
  thread_ = std::jthread([this](std::stop_token st) { run(st); });
}

ReportWorker::~ReportWorker() {
  thread_.request_stop();
  cv_.notify_all();
  thread_.join();
}

void ReportWorker::submit(Job j) {
  {
    std::lock_guard lk(mu_);
    jobs_.push_back(std::move(j));
  }
  cv_.notify_one();
}

void ReportWorker::run(std::stop_token st) {
  zmq::socket_t out(ctx_, zmq::socket_type::push);
  out.set(zmq::sockopt::linger, 0);
  out.connect(kReportReplies);
  sqlite3* db = nullptr;
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
    std::string reply;
    try {
      if (!db) {
        if (sqlite3_open_v2(db_path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
          const std::string why = db ? sqlite3_errmsg(db) : "out of memory";
          sqlite3_close(db);
          db = nullptr;
          throw StoreError("report: cannot open " + db_path_ + ": " + why);
        }
        sqlite3_busy_timeout(db, 5000);
      }
      reply = reply_ok(job.id, report_result(db, *job.cfg, job.range, job.format));
    } catch (const std::exception& e) {  // StoreError, ReportError: the store's answer
      spdlog::error("bus: report: {}", e.what());
      reply = reply_error(job.id, "store_error", e.what());
    }
    for (auto& frame : job.envelope) out.send(zmq::buffer(frame), zmq::send_flags::sndmore);
    out.send(zmq::buffer(reply), zmq::send_flags::none);
  }
  sqlite3_close(db);
}

json Bus::cmd_report(Ctx& c) {
  const std::string format = c.opt_str("format", "json");
  if (format != "json" && format != "csv" && format != "table")
    throw BusError("bad_value", "'format' must be json, csv or table, not '" + format + "'");
  ReportRange range;
  try {
    range = parse_report_range(c.opt_str("period"), c.opt_str("from"), c.opt_str("to"),
                               d_.config().policies.utc_offset_min, c.now);
  } catch (const ReportError& e) {
    throw BusError("bad_value", e.what());
  }
  if (c.envelope && reports_) {
    const auto id = c.req.find("id");
    reports_->submit({*c.envelope, id == c.req.end() ? json() : *id,
                      std::make_shared<const StationConfig>(d_.config()), range, format});
    c.deferred = true;
    return nullptr;
  }
  try {  // called directly (tests, fuzzing): on the daemon's own connection
    return report_result(d_.store().handle(), d_.config(), range, format);
  } catch (const ReportError& e) {
    throw StoreError(e.what());
  }
}

}  // namespace sortd
