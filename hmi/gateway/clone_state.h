// sortd HMI gateway: the client side of the clone pattern (docs/protocol.md, "Joining").
// A pure state machine: it holds the station state of the last snapshot with every update
// applied after it, and says for each message of the PUB stream whether it was applied,
// dropped (at or below the snapshot's seq), or whether the client must resync (a gap, a
// heartbeat from another instance or ahead of us, a `config` update). No I/O: the ZeroMQ side
// lives in bus_client.h.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace sortd::hmi {

class CloneState {
 public:
  enum class Verdict {
    Applied,    // an update applied (or an event passed on) in order
    Heartbeat,  // a heartbeat that agrees with us
    Dropped,    // at or below the snapshot's seq, or not synced yet
    Resync,     // the state can no longer be trusted: take a new snapshot (why says why)
  };
  struct Outcome {
    Verdict verdict;
    std::string why;
  };

  // Loads the `result` of a `snapshot` reply: {seq, instance, time, state}. Throws
  // std::invalid_argument with a message naming the field when it is not a snapshot.
  void load_snapshot(const nlohmann::json& result);
  // Applies one message of the stream (topic + parsed body).
  Outcome apply(const std::string& topic, const nlohmann::json& body);
  // Forget the state (a resync is under way).
  void invalidate() { synced_ = false; }

  bool synced() const { return synced_; }
  std::uint64_t seq() const { return seq_; }
  const std::string& instance() const { return instance_; }
  const nlohmann::json& state() const { return state_; }

  static constexpr std::size_t kRecent = 20;

 private:
  void apply_update(const std::string& topic, const nlohmann::json& body);

  bool synced_ = false;
  std::uint64_t seq_ = 0;
  std::string instance_;
  nlohmann::json state_ = nlohmann::json::object();
};

}  // namespace sortd::hmi
