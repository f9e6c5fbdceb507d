// sortd HMI gateway: the live station state and its subscribers (Server-Sent Events).
#include "live.h"

#include <algorithm>

namespace sortd::hmi {

using nlohmann::json;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {
std::string sse(const char* event, const std::string& data, std::uint64_t id = 0) {
  std::string out;
  out.reserve(data.size() + 48);
  if (id) out += "id: " + std::to_string(id) + "\n";
  out += "event: ";
  out += event;
  out += "\ndata: ";
  out += data;  // one line: JSON text never holds a raw newline
  out += "\n\n";
  return out;
}
std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}
}  // namespace

void Live::load_snapshot(const json& result) {
  std::lock_guard lk(mu_);
  clone_.load_snapshot(result);
  ever_synced_ = true;
}

CloneState::Outcome Live::apply(const std::string& topic, const std::string& body) {
  json b = json::parse(body, nullptr, false);
  if (b.is_discarded())
    return {CloneState::Verdict::Resync, "a message on '" + topic + "' is not JSON"};
  std::lock_guard lk(mu_);
  auto out = clone_.apply(topic, b);
  if (!live_) return out;  // still joining: the snapshot goes out when we are live
  switch (out.verdict) {
    case CloneState::Verdict::Applied:
      broadcast_locked(
          sse("update", "{\"topic\":" + dump(topic) + ",\"body\":" + body + "}", clone_.seq()));
      break;
    case CloneState::Verdict::Heartbeat:
      broadcast_locked(
          sse("hb", dump(json{{"seq", clone_.seq()}, {"time", b.value("time", json())}})));
      break;
    case CloneState::Verdict::Resync:
      // A config update was applied before the resync: pass it on so pages can say why.
      if (topic == "config")
        broadcast_locked(sse("update", "{\"topic\":\"config\",\"body\":" + body + "}"));
      break;
    case CloneState::Verdict::Dropped:
      break;
  }
  return out;
}

void Live::set_stale(const std::string& why) {
  std::lock_guard lk(mu_);
  clone_.invalidate();
  if (!live_ && stale_since_ != 0) return;
  live_ = false;
  stale_reason_ = why;
  stale_since_ = now_ms();
  broadcast_locked(sse(
      "stale", dump(json{{"live", false}, {"reason", stale_reason_}, {"since", stale_since_}})));
}

void Live::explain_stale(const std::string& why) {
  std::lock_guard lk(mu_);
  if (live_ || stale_reason_ == why) return;
  stale_reason_ = why;
  broadcast_locked(sse(
      "stale", dump(json{{"live", false}, {"reason", stale_reason_}, {"since", stale_since_}})));
}

void Live::go_live() {
  std::lock_guard lk(mu_);
  live_ = true;
  stale_reason_.clear();
  stale_since_ = 0;
  const std::string ev = snapshot_event_locked();
  for (auto& s : subs_) {
    s->queue.clear();  // the snapshot replaces whatever they had
    s->queue.push_back(ev);
    s->cv.notify_all();
  }
}

std::string Live::snapshot_event_locked() const {
  json j = {{"live", live_},
            {"seq", clone_.seq()},
            {"instance", clone_.instance()},
            {"time", now_ms()},
            {"state", ever_synced_ ? clone_.state() : json(nullptr)}};
  if (!live_) {
    j["reason"] = stale_reason_;
    j["since"] = stale_since_;
  }
  return sse("snapshot", dump(j), clone_.seq());
}

void Live::broadcast_locked(const std::string& ev) {
  for (auto& s : subs_) {
    if (s->queue.size() >= kMaxQueued) {
      // A browser that cannot keep up gets the whole state again rather than a gap.
      s->queue.clear();
      s->queue.push_back(snapshot_event_locked());
    } else {
      s->queue.push_back(ev);
    }
    s->cv.notify_all();
  }
}

std::shared_ptr<Live::Subscriber> Live::subscribe() {
  auto s = std::make_shared<Subscriber>();
  std::lock_guard lk(mu_);
  s->queue.push_back(snapshot_event_locked());
  if (!live_)
    s->queue.push_back(sse(
        "stale", dump(json{{"live", false}, {"reason", stale_reason_}, {"since", stale_since_}})));
  subs_.push_back(s);
  return s;
}

void Live::unsubscribe(const std::shared_ptr<Subscriber>& s) {
  std::lock_guard lk(mu_);
  subs_.erase(std::remove(subs_.begin(), subs_.end(), s), subs_.end());
}

bool Live::next(Subscriber& s, std::string& out, std::chrono::milliseconds wait) {
  std::unique_lock lk(mu_);
  s.cv.wait_for(lk, wait, [&] { return stopping_ || s.closed || !s.queue.empty(); });
  if (stopping_ || s.closed) return false;
  while (!s.queue.empty()) {
    out += s.queue.front();
    s.queue.pop_front();
  }
  return true;
}

json Live::view() const {
  std::lock_guard lk(mu_);
  json j = {{"live", live_},
            {"seq", clone_.seq()},
            {"instance", clone_.instance()},
            {"time", now_ms()},
            {"state", ever_synced_ ? clone_.state() : json(nullptr)}};
  if (!live_) {
    j["reason"] = stale_reason_;
    j["since"] = stale_since_;
  }
  return j;
}

bool Live::live() const {
  std::lock_guard lk(mu_);
  return live_;
}

std::size_t Live::subscribers() const {
  std::lock_guard lk(mu_);
  return subs_.size();
}

void Live::stop() {
  std::lock_guard lk(mu_);
  stopping_ = true;
  for (auto& s : subs_) {
    s->closed = true;
    s->cv.notify_all();
  }
}

}  // namespace sortd::hmi
