// sortd HMI gateway: browser sessions.
#include "web_sessions.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace sortd::hmi {

std::string random_hex32() {
  unsigned char raw[32];
  std::size_t got = 0;
  while (got < sizeof raw) {
    const ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
    }
    got += static_cast<std::size_t>(n);
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (unsigned char c : raw) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

std::string WebSessions::create(WebSession s, std::int64_t now_ms) {
  std::string id = random_hex32();
  s.last_used_ms = now_ms;
  std::lock_guard lk(mu_);
  expire_locked(now_ms);
  by_id_[id] = std::move(s);
  return id;
}

std::optional<WebSession> WebSessions::find(const std::string& id, std::int64_t now_ms) {
  if (id.empty()) return std::nullopt;
  std::lock_guard lk(mu_);
  expire_locked(now_ms);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  it->second.last_used_ms = now_ms;
  return it->second;
}

void WebSessions::erase(const std::string& id) {
  std::lock_guard lk(mu_);
  by_id_.erase(id);
}

std::size_t WebSessions::size() const {
  std::lock_guard lk(mu_);
  return by_id_.size();
}

void WebSessions::expire_locked(std::int64_t now_ms) {
  for (auto it = by_id_.begin(); it != by_id_.end();) {
    const auto& s = it->second;
    if (now_ms >= s.expires_ms || now_ms - s.last_used_ms >= idle_ms_)
      it = by_id_.erase(it);
    else
      ++it;
  }
}

std::string cookie_value(const std::string& header, const std::string& name) {
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    std::string part = header.substr(pos, end - pos);
    const auto b = part.find_first_not_of(' ');
    if (b != std::string::npos) part.erase(0, b);
    const auto eq = part.find('=');
    if (eq != std::string::npos && part.compare(0, eq, name) == 0 && eq == name.size())
      return part.substr(eq + 1);
    pos = end + 1;
  }
  return {};
}

}  // namespace sortd::hmi
