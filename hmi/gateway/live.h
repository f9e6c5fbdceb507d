// sortd HMI gateway: the live station state and the browsers that follow it.
// The clone thread (bus_client.h) feeds it the snapshot and every message of the PUB stream;
// each browser's live stream (Server-Sent Events) is a Subscriber with a queue of ready-made
// SSE events. A new subscriber first gets the whole state (event "snapshot"), then every update
// after it (event "update"), the heartbeats ("hb") and "stale" when the gateway lost the daemon;
// one lock orders the state and the queues, so that no update falls between the snapshot a
// subscriber got and the updates it gets next.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "clone_state.h"

namespace sortd::hmi {

class Live {
 public:
  struct Subscriber {
    std::deque<std::string> queue;  // SSE events, ready to send
    std::condition_variable cv;
    bool closed = false;
  };

  // A subscriber whose queue grows past this is sent the whole state again instead.
  static constexpr std::size_t kMaxQueued = 4000;

  // --- the clone thread
  // A new snapshot (the `result` of the snapshot reply). Throws std::invalid_argument.
  void load_snapshot(const nlohmann::json& result);
  // One message from the PUB stream: applies it and passes it on. The body is JSON text; a body
  // that is not JSON is a reason to resync.
  CloneState::Outcome apply(const std::string& topic, const std::string& body);
  // The gateway has no live data any more (why: for people). Idempotent while stale.
  void set_stale(const std::string& why);
  // While stale, a better reason than the first one (the daemon answers but refuses the
  // snapshot: the page should say so rather than "connecting"). Keeps `since`.
  void explain_stale(const std::string& why);
  // Sends the snapshot to every subscriber after a resync (live again).
  void go_live();

  // --- HTTP side
  std::shared_ptr<Subscriber> subscribe();
  void unsubscribe(const std::shared_ptr<Subscriber>& s);
  // Waits up to `wait` for events; appends them to out. False when the gateway stops.
  bool next(Subscriber& s, std::string& out, std::chrono::milliseconds wait);
  // {live, reason, since, seq, instance, state} for GET /api/state.
  nlohmann::json view() const;
  bool live() const;
  std::size_t subscribers() const;
  void stop();

 private:
  std::string snapshot_event_locked() const;
  void broadcast_locked(const std::string& ev);

  mutable std::mutex mu_;
  CloneState clone_;
  bool live_ = false;
  bool ever_synced_ = false;
  std::string stale_reason_ = "connecting to the daemon";
  std::int64_t stale_since_ = 0;
  bool stopping_ = false;
  std::vector<std::shared_ptr<Subscriber>> subs_;
};

std::int64_t now_ms();

}  // namespace sortd::hmi
