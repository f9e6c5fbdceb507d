// sortd HMI gateway: browser sessions. A browser that logs in gets a random session id in an
// HTTP-only cookie; the daemon's session token (docs/protocol.md, section 4) stays here, on the
// server side, and is added to every request the browser makes through the gateway. A session
// ends at the daemon's expiry, after `idle` without use, on logout, or when the daemon says the
// token is no longer valid.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace sortd::hmi {

struct WebSession {
  std::string token;  // the daemon's session token
  std::string user, role;
  std::int64_t expires_ms = 0;    // the daemon's expiry
  std::int64_t last_used_ms = 0;  // for the idle timeout
};

class WebSessions {
 public:
  explicit WebSessions(std::int64_t idle_ms) : idle_ms_(idle_ms) {}
  // Stores the session and returns its id (256 random bits, hex).
  std::string create(WebSession s, std::int64_t now_ms);
  // The session of this id, if it is still valid at now_ms (it counts as a use).
  std::optional<WebSession> find(const std::string& id, std::int64_t now_ms);
  void erase(const std::string& id);
  std::size_t size() const;
  std::int64_t idle_ms() const { return idle_ms_; }

 private:
  void expire_locked(std::int64_t now_ms);

  std::int64_t idle_ms_;
  mutable std::mutex mu_;
  std::map<std::string, WebSession, std::less<>> by_id_;
};

// 32 bytes from the kernel's random source, as 64 hex digits. Throws std::runtime_error.
std::string random_hex32();

// The value of cookie `name` in a Cookie header ("" when absent).
std::string cookie_value(const std::string& header, const std::string& name);

}  // namespace sortd::hmi
