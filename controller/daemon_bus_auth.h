// sortd bus security: operators, roles, password hashes, sessions, CURVE keys and the ZAP
// allow-list (docs/protocol.md, section 4).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

namespace sortd {

enum class Role : std::uint8_t { None = 0, Viewer = 1, Operator = 2, Supervisor = 3, Admin = 4 };
const char* to_string(Role r);
std::optional<Role> role_from(std::string_view s);

struct BusUser {
  std::string name;
  Role role = Role::Viewer;
  std::string password_hash;  // crypto_pwhash_str (Argon2id)
};

struct UsersFile {
  std::vector<BusUser> users;
  std::int64_t session_ttl_s = 8 * 3600;
  const BusUser* find(std::string_view name) const;
};

// Reads a users file (TOML). Throws std::runtime_error naming the file, line and key of every
// problem (unknown key, missing field, unknown role, duplicate name, hash not an Argon2 string).
UsersFile load_users_file(const std::string& path);
UsersFile parse_users(std::string_view toml_text, const std::string& source);

// libsodium crypto_pwhash_str: Argon2id with a random salt. `cost`: "interactive" (default,
// ~0.1 s, 64 MiB), "moderate", or "min" (tests only).
std::string hash_password(std::string_view password, std::string_view cost = "interactive");
bool verify_password(const std::string& hash, std::string_view password);

struct Session {
  std::string token, user;
  Role role = Role::None;
  std::int64_t expires_ms = 0;
};

// Sessions in memory: random 256-bit tokens with an expiry; a rate limit on failed logins.
// A login is checked in three steps, so that the slow part (the password hash, ~0.1 s) can run
// away from the daemon's loop: attempt() (the rate limit), verify_password() anywhere, then
// open() when the password was right (a wrong one stays counted as a failure).
class Sessions {
 public:
  // False when `name` had kMaxFailures failed (or unfinished) logins in the last minute. Else
  // counts this attempt as failed until open() says otherwise, so that logins in flight count.
  bool attempt(const std::string& name, std::int64_t now_ms);
  // The password was right: the attempt does not count as a failure; a new session.
  Session open(const BusUser& user, std::int64_t ttl_s, std::int64_t now_ms);
  // The session of a token, or nullptr when unknown or expired (expired ones are dropped).
  const Session* find(const std::string& token, std::int64_t now_ms);
  void logout(const std::string& token) { sessions_.erase(token); }
  // After a users file reload: end sessions of users that are gone or whose role changed.
  void revalidate(const UsersFile& users);
  void expire(std::int64_t now_ms);
  std::size_t size() const { return sessions_.size(); }

  static constexpr int kMaxFailures = 5;
  static constexpr std::int64_t kFailureWindowMs = 60'000;

 private:
  std::map<std::string, Session> sessions_;
  std::map<std::string, std::deque<std::int64_t>> failures_;
};

// CURVE keys, Z85 text (40 characters).
struct CurveKeyPair {
  std::string public_key, secret_key;
};
// A key file: `public = "..."` and `secret = "..."` lines (comments with #). Throws.
CurveKeyPair load_key_file(const std::string& path);
// Writes PREFIX.key (both keys, mode 0600) and PREFIX.pub (public only). Returns the pair.
CurveKeyPair write_key_files(const std::string& prefix);
// One client public key per line (Z85, 40 chars), optionally followed by a comment. Throws.
std::set<std::string> load_client_keys(const std::string& path);
bool valid_z85_key(std::string_view k);

// The ZAP handler (RFC 27): a REP socket on inproc://zeromq.zap.01 of `ctx` that accepts CURVE
// clients whose public key is in `allowed` and refuses the others. It must exist before the
// CURVE server sockets bind. Polled by the daemon's loop (handle_one when readable).
class ZapHandler {
 public:
  ZapHandler(zmq::context_t& ctx, std::set<std::string> allowed_z85);
  zmq::socket_t& socket() { return rep_; }
  void handle_one();
  std::uint64_t accepted() const { return accepted_; }
  std::uint64_t refused() const { return refused_; }

 private:
  zmq::socket_t rep_;
  std::set<std::string> allowed_;
  std::uint64_t accepted_ = 0, refused_ = 0;
};

// True for endpoints that do not leave the machine: inproc://, ipc://, tcp:// on 127.0.0.0/8,
// [::1] or localhost.
bool is_local_endpoint(std::string_view endpoint);

}  // namespace sortd
