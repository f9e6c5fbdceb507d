// The print queue of one printer (and its backup): status polls, hold on a fault, resume once
// the printer is back, reprint, cancel, failover. Every job ends in a named outcome.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "printer.h"

namespace sortd::dev::printer {

namespace {
int ms_between(PrinterEngine::Clock::time_point a, PrinterEngine::Clock::time_point b) {
  return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count());
}
}  // namespace

labels::Label label_for_job(const labels::TemplateSet& templates, const PrintJob& job,
                            const StationConfig* config,
                            const std::map<std::string, std::string>& extra,
                            const labels::LabelSize& size) {
  const labels::Template* t = templates.find(job.kind, job.courier);
  if (!t)
    throw labels::TemplateError("no " + job.kind + " label template for courier '" + job.courier +
                                "'");
  return labels::fill(*t, labels::data_from_job(job, config, extra), size);
}

PrinterEngine::PrinterEngine(EngineOptions options,
                             std::shared_ptr<const labels::TemplateSet> templates,
                             const StationConfig* config, PrinterSpec primary,
                             std::optional<PrinterSpec> backup, Sink sink)
    : opt_(options),
      templates_(std::move(templates)),
      config_(config),
      primary_{std::move(primary), std::nullopt, "", {}, {}},
      sink_(std::move(sink)) {
  if (backup) backup_ = Printer{std::move(*backup), std::nullopt, "", {}, {}};
}

PrinterEngine::~PrinterEngine() = default;

bool PrinterEngine::primary_up() const {
  return primary_.up.value_or(false);
}

std::string PrinterEngine::render(const PrintJob& job,
                                  const std::map<std::string, std::string>& extra,
                                  Language language, const labels::LabelSize& size) const {
  labels::Label l = label_for_job(*templates_, job, config_, extra, size);
  return language == Language::Zpl ? labels::to_zpl(l) : labels::to_tspl(l);
}

void PrinterEngine::finish(const Job& j, JobOutcome o, const std::string& printer,
                           const std::string& detail) {
  sink_(PrintFinished{j.job.job_id, o, printer, detail});
  if (o == JobOutcome::Printed) {
    history_.push_back(j);
    history_.back().held_reported = false;
    while (history_.size() > opt_.history) history_.pop_front();
  }
}

void PrinterEngine::set_state(Printer& p, bool up, const std::string& detail,
                              Clock::time_point now) {
  bool changed = !p.up || *p.up != up || p.detail != detail;
  if (!up && (!p.up || *p.up)) p.fault_since = now;
  p.up = up;
  p.detail = detail;
  if (!changed) return;
  if (up)
    spdlog::info("printer {} ({}): {}", p.spec.name, p.spec.transport->describe(), detail);
  else
    spdlog::warn("printer {} ({}): down: {}", p.spec.name, p.spec.transport->describe(), detail);
  // The backup printer is another device: its own driver (if any) reports its state.
  if (&p == &primary_) sink_(DeviceStatus{p.spec.name, DeviceKind::Printer, up, detail});
}

bool PrinterEngine::poll(Printer& p, Clock::time_point now) {
  p.next_poll = now + std::chrono::milliseconds(opt_.poll_ms);
  Transport& t = *p.spec.transport;
  std::string err;
  if (!t.is_open() && !t.open(err)) {
    set_state(p, false, err, now);
    return false;
  }
  std::string buf;
  if (!t.read_some(buf, 0, err)) {  // what is left of an earlier reply
    set_state(p, false, err, now);
    return false;
  }
  buf.clear();
  const std::string request = status_request(p.spec.language);
  if (!t.write(request, opt_.write_timeout_ms, err)) {
    set_state(p, false, err, now);
    return false;
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(opt_.status_timeout_ms);
  std::size_t len = 0;
  while ((len = status_reply_length(p.spec.language, buf)) == 0) {
    int left = ms_between(Clock::now(), deadline);
    if (left <= 0) {
      t.close();  // a late reply must not be taken for the next one
      set_state(p, false,
                std::string("no answer to the status request (") +
                    (p.spec.language == Language::Zpl ? "~HS" : "<ESC>!?") + ") within " +
                    std::to_string(opt_.status_timeout_ms) + " ms",
                now);
      return false;
    }
    if (!t.read_some(buf, left, err)) {
      set_state(p, false, err, now);
      return false;
    }
  }
  PrinterStatus st;
  try {
    st = p.spec.language == Language::Zpl
             ? parse_zpl_host_status(std::string_view(buf).substr(0, len))
             : parse_tspl_status(static_cast<std::uint8_t>(buf[0]));
  } catch (const StatusError& e) {
    t.close();
    set_state(p, false, std::string("bad status reply: ") + e.what(), now);
    return false;
  }
  set_state(p, st.ok(), st.detail(), now);
  return st.ok();
}

bool PrinterEngine::send(Printer& p, Job& j, std::string& error) {
  std::string bytes;
  try {
    bytes = render(j.job, j.extra, p.spec.language, p.spec.size);
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
  return p.spec.transport->write(bytes, opt_.write_timeout_ms, error);
}

void PrinterEngine::handle(const Command& c, Clock::time_point now) {
  (void)now;
  switch (c.type) {
    case Command::Type::Print: {
      Job j{c.job, c.extra, false};
      try {  // refuse now what cannot be printed, with the reason
        render(j.job, j.extra, primary_.spec.language, primary_.spec.size);
      } catch (const std::exception& e) {
        finish(j, JobOutcome::Failed, primary_.spec.name, e.what());
        return;
      }
      queue_.push_back(std::move(j));
      return;
    }
    case Command::Type::Reprint: {
      auto it = std::find_if(history_.rbegin(), history_.rend(),
                             [&](const Job& h) { return h.job.job_id == c.job_id; });
      if (it == history_.rend()) {
        Job unknown;
        unknown.job.job_id = c.job_id;
        finish(unknown, JobOutcome::Failed, primary_.spec.name,
               "reprint: job " + std::to_string(c.job_id) + " is not among the last " +
                   std::to_string(history_.size()) + " printed");
        return;
      }
      queue_.push_back(*it);
      return;
    }
    case Command::Type::Cancel: {
      auto it = std::find_if(queue_.begin(), queue_.end(),
                             [&](const Job& q) { return q.job.job_id == c.job_id; });
      if (it == queue_.end()) {
        spdlog::info("printer {}: cancel: job {} is not waiting", primary_.spec.name, c.job_id);
        return;
      }
      Job j = *it;
      queue_.erase(it);
      finish(j, JobOutcome::Cancelled, primary_.spec.name, "cancelled while waiting");
      return;
    }
  }
}

int PrinterEngine::step(Clock::time_point now) {
  if (now >= primary_.next_poll) poll(primary_, now);

  // Print on the primary while it is up: a fresh status check before every job.
  while (!queue_.empty() && primary_up()) {
    if (!poll(primary_, now)) break;
    Job& j = queue_.front();
    std::string err;
    if (!send(primary_, j, err)) {
      if (!primary_.spec.transport->is_open()) {  // the printer went away mid-job: hold it
        set_state(primary_, false, err, now);
        break;
      }
      Job failed = j;
      queue_.pop_front();
      finish(failed, JobOutcome::Failed, primary_.spec.name, err);
      continue;
    }
    Job done = std::move(j);
    queue_.pop_front();
    finish(done, JobOutcome::Printed, primary_.spec.name, "");
  }

  if (!queue_.empty() && !primary_up()) {
    for (auto& j : queue_)
      if (!j.held_reported) {
        j.held_reported = true;
        sink_(PrintFinished{j.job.job_id, JobOutcome::Held, primary_.spec.name,
                            "held: " + primary_.detail});
      }
    // Failover once the fault has lasted long enough.
    if (backup_ && ms_between(primary_.fault_since, now) >= opt_.failover_after_ms) {
      while (!queue_.empty() && poll(*backup_, now)) {
        Job& j = queue_.front();
        std::string err;
        if (!send(*backup_, j, err)) {
          if (!backup_->spec.transport->is_open()) break;
          Job failed = j;
          queue_.pop_front();
          finish(failed, JobOutcome::Failed, backup_->spec.name, err);
          continue;
        }
        Job done = std::move(j);
        queue_.pop_front();
        finish(done, JobOutcome::Printed, backup_->spec.name,
               "failover from " + primary_.spec.name + " (" + primary_.detail + ")");
      }
    }
  }
  int wait = ms_between(now, primary_.next_poll);
  if (!queue_.empty() && backup_ && !primary_up()) {
    int to_failover = opt_.failover_after_ms - ms_between(primary_.fault_since, now);
    wait = std::min(wait, std::max(to_failover, 0) + 1);
  }
  return std::max(wait, 0);
}

// ---------------------------------------------------------------------------------------------

void run_engine(PrinterEngine& engine, const std::function<std::optional<Command>(int)>& next,
                std::stop_token stop) {
  while (!stop.stop_requested()) {
    int wait = engine.step(PrinterEngine::Clock::now());
    // Wake at least every 200 ms to notice a stop request.
    if (auto c = next(std::clamp(wait, 1, 200))) {
      engine.handle(*c, PrinterEngine::Clock::now());
      while (auto more = next(0)) engine.handle(*more, PrinterEngine::Clock::now());
    }
  }
}

PrinterWorker::PrinterWorker(std::unique_ptr<PrinterEngine> engine)
    : engine_(std::move(engine)), thread_([this](std::stop_token stop) {
        run_engine(
            *engine_,
            [this](int timeout_ms) -> std::optional<Command> {
              std::unique_lock lock(mu_);
              cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                           [this] { return !inbox_.empty(); });
              if (inbox_.empty()) return std::nullopt;
              Command c = std::move(inbox_.front());
              inbox_.pop_front();
              return c;
            },
            stop);
      }) {}

PrinterWorker::~PrinterWorker() {
  thread_.request_stop();
  cv_.notify_all();
  thread_.join();
}

void PrinterWorker::post(Command c) {
  {
    std::lock_guard lock(mu_);
    inbox_.push_back(std::move(c));
  }
  cv_.notify_one();
}

}  // namespace sortd::dev::printer
