// sortd HMI gateway: the clone pattern's state machine (docs/protocol.md, "Joining").
#include "clone_state.h"

#include <stdexcept>

namespace sortd::hmi {

using nlohmann::json;

namespace {

// Replaces (or, with add, appends) the element of state[list] whose key equals body[key].
// Returns false when there is no such element and add is false.
bool replace_by(json& state, const char* list, const char* key, const json& body, bool add) {
  json& arr = state[list];
  if (!arr.is_array()) arr = json::array();
  const auto k = body.find(key);
  if (k == body.end()) return false;
  for (auto& e : arr)
    if (e.is_object() && e.contains(key) && e[key] == *k) {
      e = body;
      return true;
    }
  if (add) arr.push_back(body);
  return add;
}

json without(const json& body, std::initializer_list<const char*> keys) {
  json b = body;
  for (const char* k : keys) b.erase(k);
  return b;
}

// A sequence number: a non-negative JSON integer (0 when missing or anything else).
std::uint64_t seq_of(const json& body) {
  const auto it = body.find("seq");
  if (it == body.end() || !it->is_number_integer()) return 0;
  if (it->is_number_unsigned()) return it->get<std::uint64_t>();
  const auto v = it->get<std::int64_t>();
  return v > 0 ? static_cast<std::uint64_t>(v) : 0;
}

}  // namespace

void CloneState::load_snapshot(const json& result) {
  if (!result.is_object()) throw std::invalid_argument("snapshot: the result is not an object");
  const auto seq = result.find("seq");
  if (seq == result.end() || !seq->is_number_integer() ||
      (!seq->is_number_unsigned() && seq->get<std::int64_t>() < 0))
    throw std::invalid_argument("snapshot: 'seq' is missing or not a non-negative integer");
  const auto inst = result.find("instance");
  if (inst == result.end() || !inst->is_string())
    throw std::invalid_argument("snapshot: 'instance' is missing or not a string");
  const auto st = result.find("state");
  if (st == result.end() || !st->is_object())
    throw std::invalid_argument("snapshot: 'state' is missing or not an object");
  seq_ = seq_of(result);
  instance_ = inst->get<std::string>();
  state_ = *st;
  for (const char* list : {"lanes", "couriers", "devices", "alarms", "recent"})
    if (!state_[list].is_array()) state_[list] = json::array();
  if (!state_["station"].is_object()) state_["station"] = json::object();
  if (!state_.contains("stats")) state_["stats"] = json::object();
  synced_ = true;
}

CloneState::Outcome CloneState::apply(const std::string& topic, const json& body) {
  if (!body.is_object()) return {Verdict::Resync, "a message on '" + topic + "' is not an object"};
  if (topic == "hb") {
    if (!synced_) return {Verdict::Dropped, ""};
    const auto inst = body.find("instance");
    if (inst == body.end() || !inst->is_string() || inst->get<std::string>() != instance_)
      return {Verdict::Resync, "the daemon restarted (a new instance)"};
    const std::uint64_t hs = seq_of(body);
    if (hs > seq_)
      return {Verdict::Resync, "updates were lost (heartbeat at " + std::to_string(hs) +
                                   ", last applied " + std::to_string(seq_) + ")"};
    return {Verdict::Heartbeat, ""};
  }
  if (!synced_) return {Verdict::Dropped, ""};
  const std::uint64_t s = seq_of(body);
  if (s == 0) return {Verdict::Resync, "a message on '" + topic + "' has no seq"};
  if (s <= seq_) return {Verdict::Dropped, ""};
  if (s != seq_ + 1)
    return {Verdict::Resync,
            "a gap in the stream (" + std::to_string(seq_) + " then " + std::to_string(s) + ")"};
  seq_ = s;
  apply_update(topic, body);
  if (topic == "config") {
    synced_ = false;
    return {Verdict::Resync, "the configuration changed"};
  }
  return {Verdict::Applied, ""};
}

void CloneState::apply_update(const std::string& topic, const json& body) {
  if (topic == "lane") {
    replace_by(state_, "lanes", "lane", without(body, {"seq", "time"}), false);
  } else if (topic == "courier") {
    replace_by(state_, "couriers", "courier", without(body, {"seq", "time"}), false);
  } else if (topic == "device") {
    replace_by(state_, "devices", "device", without(body, {"seq", "time"}), true);
  } else if (topic == "alarm") {
    json& alarms = state_["alarms"];
    const json key = body.value("key", json());
    auto it = alarms.begin();
    for (; it != alarms.end(); ++it)
      if (it->is_object() && (*it)["key"] == key) break;
    if (body.value("raised", false)) {
      json a = {{"key", key},
                {"severity", body.value("severity", json())},
                {"text", body.value("text", json())},
                {"since", body.value("time", json())}};
      if (it != alarms.end() && it->contains("since")) a["since"] = (*it)["since"];
      for (const char* k : {"acked", "acked_by"})
        if (body.contains(k)) a[k] = body[k];
      if (it != alarms.end())
        *it = std::move(a);
      else
        alarms.push_back(std::move(a));
    } else if (it != alarms.end()) {
      alarms.erase(it);
    }
  } else if (topic == "stats") {
    state_["stats"] = without(body, {"seq"});
  } else if (topic == "station") {
    state_["station"]["degraded"] = body.value("degraded", false);
  } else if (topic == "parcel.diverted" ||
             (topic == "parcel.exception" && body.contains("state"))) {
    json& recent = state_["recent"];
    recent.insert(recent.begin(), without(body, {"seq"}));
    while (recent.size() > kRecent) recent.erase(recent.end() - 1);
  }
  // parcel.decided, parcel.exception (decision), parcel.recirculated, label, order, orders:
  // events for live views, nothing in the state.
}

}  // namespace sortd::hmi
