// sortd bus, internal: one request being served, with typed argument access whose errors are
// the protocol's error codes (missing_field, wrong_type, bad_value).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon_bus.h"

namespace sortd {

// Where the bus worker hands its finished replies to the loop (inproc, the daemon's context).
inline constexpr const char* kWorkerReplies = "inproc://sortd/bus-worker";

// The protocol's replies (docs/protocol.md, section 4), as JSON text.
std::string reply_ok(const nlohmann::json& id, nlohmann::json result);
std::string reply_error(const nlohmann::json& id, const std::string& code,
                        const std::string& message, const nlohmann::json& extra = nullptr);
// The reply to `id` from what `f` returns, or from what it throws: a BusError with its code,
// StoreError as store_error, ConfigError as config_error, anything else as internal (`what`
// names the request in the log).
std::string reply_to(const nlohmann::json& id, const std::string& what,
                     const std::function<nlohmann::json()>& f);

struct Bus::Ctx {
  const nlohmann::json& req;
  std::string cmd;
  const Session* session = nullptr;
  std::string user;  // who is acting ("" for an anonymous viewer)
  TimeMs now = 0;
  // The ROUTER envelope of the request, or null when called directly (tests, fuzzing). A
  // request that the bus worker answers later (Bus::defer) sets `deferred`.
  const std::vector<std::string>* envelope = nullptr;
  bool deferred = false;

  const nlohmann::json* field(const char* key) const {
    auto it = req.find(key);
    if (it == req.end() || it->is_null()) return nullptr;
    return &*it;
  }
  [[noreturn]] static void wrong(const char* key, const char* want, const nlohmann::json& v) {
    throw BusError("wrong_type",
                   std::string("'") + key + "' must be " + want + ", not " + v.type_name());
  }
  std::string str(const char* key, const char* what = "a string") const {
    const auto* v = field(key);
    if (!v)
      throw BusError("missing_field", std::string("'") + key + "' is required (" + what + ")");
    if (!v->is_string()) wrong(key, "a string", *v);
    return v->get<std::string>();
  }
  std::string nonempty(const char* key, const char* what = "a string") const {
    std::string s = str(key, what);
    if (s.empty()) throw BusError("bad_value", std::string("'") + key + "' must not be empty");
    return s;
  }
  std::int64_t integer(const char* key, const char* what = "an integer") const {
    const auto* v = field(key);
    if (!v)
      throw BusError("missing_field", std::string("'") + key + "' is required (" + what + ")");
    if (!v->is_number_integer()) wrong(key, "an integer", *v);
    if (v->is_number_unsigned() &&
        v->get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
      throw BusError("bad_value", std::string("'") + key + "' is out of range");
    return v->get<std::int64_t>();
  }
  std::int64_t integer_in(const char* key, std::int64_t lo, std::int64_t hi,
                          const char* what = "an integer") const {
    std::int64_t n = integer(key, what);
    if (n < lo || n > hi)
      throw BusError("bad_value", std::string("'") + key + "' must be from " + std::to_string(lo) +
                                      " to " + std::to_string(hi) + ", not " + std::to_string(n));
    return n;
  }
  bool has(const char* key) const { return field(key) != nullptr; }
  std::int64_t opt_integer(const char* key, std::int64_t dflt, std::int64_t lo,
                           std::int64_t hi) const {
    return has(key) ? integer_in(key, lo, hi) : dflt;
  }
  bool opt_bool(const char* key, bool dflt) const {
    const auto* v = field(key);
    if (!v) return dflt;
    if (!v->is_boolean()) wrong(key, "true or false", *v);
    return v->get<bool>();
  }
  std::string opt_str(const char* key, const std::string& dflt = {}) const {
    return has(key) ? str(key) : dflt;
  }
};

}  // namespace sortd
