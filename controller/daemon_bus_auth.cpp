// sortd bus security: users file, password hashes, sessions, CURVE key files, ZAP handler.
#include "daemon_bus_auth.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include <sodium.h>
#include <spdlog/spdlog.h>
#include <toml++/toml.h>
#include <zmq.h>

namespace sortd {

namespace {
void init_sodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) throw std::runtime_error("libsodium cannot be initialised");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read: " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return std::string(s);
}
}  // namespace

const char* to_string(Role r) {
  switch (r) {
    case Role::None:
      return "none";
    case Role::Viewer:
      return "viewer";
    case Role::Operator:
      return "operator";
    case Role::Supervisor:
      return "supervisor";
    case Role::Admin:
      return "admin";
  }
  return "none";
}

std::optional<Role> role_from(std::string_view s) {
  for (auto r : {Role::Viewer, Role::Operator, Role::Supervisor, Role::Admin})
    if (s == to_string(r)) return r;
  return std::nullopt;
}

const BusUser* UsersFile::find(std::string_view name) const {
  for (const auto& u : users)
    if (u.name == name) return &u;
  return nullptr;
}

UsersFile parse_users(std::string_view text, const std::string& source) {
  std::vector<std::string> problems;
  auto where = [&](const toml::source_region& r, const std::string& key) {
    return source + ":" + std::to_string(r.begin.line) + ": " + key + ": ";
  };
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(source + ":" + std::to_string(e.source().begin.line) + ":" +
                             std::to_string(e.source().begin.column) + ": " +
                             std::string(e.description()));
  }
  UsersFile out;
  for (auto&& [k, v] : root) {
    const std::string key(k.str());
    if (key == "session_ttl_s") {
      auto n = v.value<std::int64_t>();
      if (!n || *n < 60 || *n > 7 * 24 * 3600)
        problems.push_back(where(v.source(), key) + "must be an integer from 60 to 604800 seconds");
      else
        out.session_ttl_s = *n;
    } else if (key == "users") {
      const toml::array* arr = v.as_array();
      if (!arr) {
        problems.push_back(where(v.source(), key) + "must be an array of tables ([[users]])");
        continue;
      }
      for (std::size_t i = 0; i < arr->size(); ++i) {
        const std::string ukey = "users[" + std::to_string(i) + "]";
        const toml::table* t = (*arr)[i].as_table();
        if (!t) {
          problems.push_back(where((*arr)[i].source(), ukey) + "must be a table");
          continue;
        }
        BusUser u;
        bool ok = true;
        for (auto&& [uk, uv] : *t) {
          const std::string f(uk.str());
          if (f != "name" && f != "role" && f != "password_hash") {
            problems.push_back(where(uv.source(), ukey + "." + f) +
                               "unknown key (known: name, role, password_hash)");
            ok = false;
          } else if (!uv.is_string()) {
            problems.push_back(where(uv.source(), ukey + "." + f) + "must be a string");
            ok = false;
          }
        }
        auto name = (*t)["name"].value<std::string>();
        auto role = (*t)["role"].value<std::string>();
        auto hash = (*t)["password_hash"].value<std::string>();
        if (!name || name->empty()) {
          problems.push_back(where(t->source(), ukey + ".name") + "missing or empty");
          ok = false;
        }
        if (!role) {
          problems.push_back(where(t->source(), ukey + ".role") + "missing");
          ok = false;
        } else if (auto r = role_from(*role)) {
          u.role = *r;
        } else {
          problems.push_back(where((*t)["role"].node()->source(), ukey + ".role") +
                             "unknown role '" + *role + "' (viewer, operator, supervisor, admin)");
          ok = false;
        }
        if (!hash) {
          problems.push_back(where(t->source(), ukey + ".password_hash") + "missing");
          ok = false;
        } else if (hash->rfind("$argon2", 0) != 0) {
          problems.push_back(
              where((*t)["password_hash"].node()->source(), ukey + ".password_hash") +
              "not an Argon2 hash (make one with `sortctl passwd-hash`)");
          ok = false;
        }
        if (name && out.find(*name)) {
          problems.push_back(where(t->source(), ukey + ".name") + "duplicate user '" + *name + "'");
          ok = false;
        }
        if (!ok) continue;
        u.name = *name;
        u.password_hash = *hash;
        out.users.push_back(std::move(u));
      }
    } else {
      problems.push_back(where(v.source(), key) + "unknown key (known: session_ttl_s, users)");
    }
  }
  if (!problems.empty()) {
    std::string msg;
    for (const auto& p : problems) msg += (msg.empty() ? "" : "\n") + p;
    throw std::runtime_error(msg);
  }
  return out;
}

UsersFile load_users_file(const std::string& path) {
  return parse_users(read_file(path), path);
}

std::string hash_password(std::string_view password, std::string_view cost) {
  init_sodium();
  unsigned long long ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
  std::size_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
  if (cost == "min") {
    ops = crypto_pwhash_OPSLIMIT_MIN;
    mem = crypto_pwhash_MEMLIMIT_MIN;
  } else if (cost == "moderate") {
    ops = crypto_pwhash_OPSLIMIT_MODERATE;
    mem = crypto_pwhash_MEMLIMIT_MODERATE;
  } else if (cost != "interactive") {
    throw std::invalid_argument("unknown hash cost '" + std::string(cost) + "'");
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), ops, mem,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    throw std::runtime_error("password hashing failed (out of memory)");
  return out;
}

bool verify_password(const std::string& hash, std::string_view password) {
  init_sodium();
  if (hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

bool Sessions::attempt(const std::string& name, std::int64_t now_ms) {
  auto& fails = failures_[name];
  while (!fails.empty() && now_ms - fails.front() > kFailureWindowMs) fails.pop_front();
  if (fails.size() >= static_cast<std::size_t>(kMaxFailures)) return false;
  fails.push_back(now_ms);
  return true;
}

Session Sessions::open(const BusUser& user, std::int64_t ttl_s, std::int64_t now_ms) {
  if (auto it = failures_.find(user.name); it != failures_.end()) {
    if (!it->second.empty()) it->second.pop_back();  // this attempt's
    if (it->second.empty()) failures_.erase(it);
  }
  init_sodium();
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  Session s{hex, user.name, user.role, now_ms + ttl_s * 1000};
  sessions_[s.token] = s;
  return s;
}

const Session* Sessions::find(const std::string& token, std::int64_t now_ms) {
  auto it = sessions_.find(token);
  if (it == sessions_.end()) return nullptr;
  if (it->second.expires_ms <= now_ms) {
    sessions_.erase(it);
    return nullptr;
  }
  return &it->second;
}

void Sessions::revalidate(const UsersFile& users) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    const BusUser* u = users.find(it->second.user);
    if (!u || u->role != it->second.role)
      it = sessions_.erase(it);
    else
      ++it;
  }
}

void Sessions::expire(std::int64_t now_ms) {
  for (auto it = sessions_.begin(); it != sessions_.end();)
    it = it->second.expires_ms <= now_ms ? sessions_.erase(it) : std::next(it);
  for (auto it = failures_.begin(); it != failures_.end();)
    it = (it->second.empty() || now_ms - it->second.back() > kFailureWindowMs) ? failures_.erase(it)
                                                                               : std::next(it);
}

// ---------------------------------------------------------------------------------------------
// CURVE keys

bool valid_z85_key(std::string_view k) {
  if (k.size() != 40) return false;
  std::uint8_t bin[32];
  return zmq_z85_decode(bin, std::string(k).c_str()) != nullptr;
}

CurveKeyPair load_key_file(const std::string& path) {
  std::istringstream in(read_file(path));
  CurveKeyPair kp;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    auto eq = t.find('=');
    if (eq == std::string::npos)
      throw std::runtime_error(path + ":" + std::to_string(n) + ": expected key = \"...\"");
    std::string k = trim(std::string_view(t).substr(0, eq));
    std::string v = trim(std::string_view(t).substr(eq + 1));
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    if (k != "public" && k != "secret")
      throw std::runtime_error(path + ":" + std::to_string(n) + ": " + k +
                               ": unknown key (public, secret)");
    if (!valid_z85_key(v))
      throw std::runtime_error(path + ":" + std::to_string(n) + ": " + k +
                               ": not a Z85 CURVE key (40 characters)");
    (k == "public" ? kp.public_key : kp.secret_key) = v;
  }
  if (kp.secret_key.empty()) throw std::runtime_error(path + ": no secret key");
  if (kp.public_key.empty()) {
    char pub[41];
    if (zmq_curve_public(pub, kp.secret_key.c_str()) != 0)
      throw std::runtime_error(path + ": cannot derive the public key");
    kp.public_key = pub;
  }
  return kp;
}

CurveKeyPair write_key_files(const std::string& prefix) {
  char pub[41], sec[41];
  if (zmq_curve_keypair(pub, sec) != 0)
    throw std::runtime_error("zmq_curve_keypair failed (libzmq without CURVE?)");
  const std::string key = prefix + ".key", pubf = prefix + ".pub";
  {
    std::ofstream out(key, std::ios::trunc);
    if (!out) throw std::runtime_error(key + ": cannot write");
    ::chmod(key.c_str(), 0600);
    out << "# sortd CURVE key pair: keep secret (mode 0600)\npublic = \"" << pub
        << "\"\nsecret = \"" << sec << "\"\n";
  }
  {
    std::ofstream out(pubf, std::ios::trunc);
    if (!out) throw std::runtime_error(pubf + ": cannot write");
    out << "public = \"" << pub << "\"\n";
  }
  return {pub, sec};
}

std::set<std::string> load_client_keys(const std::string& path) {
  std::istringstream in(read_file(path));
  std::set<std::string> keys;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    std::string k = t.substr(0, t.find_first_of(" \t"));
    if (k.rfind("public", 0) == 0) {  // a .pub file pasted in: public = "..."
      auto q = t.find('"');
      auto q2 = t.rfind('"');
      if (q != std::string::npos && q2 > q) k = t.substr(q + 1, q2 - q - 1);
    }
    if (!valid_z85_key(k))
      throw std::runtime_error(path + ":" + std::to_string(n) +
                               ": not a Z85 CURVE public key (40 characters)");
    keys.insert(k);
  }
  return keys;
}

ZapHandler::ZapHandler(zmq::context_t& ctx, std::set<std::string> allowed)
    : rep_(ctx, zmq::socket_type::rep), allowed_(std::move(allowed)) {
  rep_.set(zmq::sockopt::linger, 0);
  rep_.bind("inproc://zeromq.zap.01");
}

void ZapHandler::handle_one() {
  std::vector<zmq::message_t> parts;
  while (true) {
    zmq::message_t m;
    if (!rep_.recv(m, zmq::recv_flags::dontwait)) return;
    parts.push_back(std::move(m));
    if (!parts.back().more()) break;
  }
  // version, request id, domain, address, identity, mechanism, credentials...
  auto text = [&](std::size_t i) {
    return i < parts.size() ? parts[i].to_string() : std::string();
  };
  std::string status = "400", status_text = "refused", user;
  if (parts.size() >= 6 && text(0) == "1.0" && text(5) == "CURVE" && parts.size() >= 7 &&
      parts[6].size() == 32) {
    char z85[41];
    zmq_z85_encode(z85, static_cast<const std::uint8_t*>(parts[6].data()), 32);
    if (allowed_.count(z85)) {
      status = "200";
      status_text = "OK";
      user = z85;
      ++accepted_;
    } else {
      ++refused_;
      spdlog::warn("bus: CURVE client {} from {} refused: key not on the allow-list", z85, text(3));
    }
  } else {
    ++refused_;
    spdlog::warn("bus: ZAP request with mechanism '{}' from {} refused", text(5), text(3));
  }
  const std::string reply[] = {"1.0", text(1), status, status_text, user, ""};
  for (std::size_t i = 0; i < 6; ++i)
    rep_.send(zmq::buffer(reply[i]), i < 5 ? zmq::send_flags::sndmore : zmq::send_flags::none);
}

bool is_local_endpoint(std::string_view ep) {
  if (ep.rfind("inproc://", 0) == 0 || ep.rfind("ipc://", 0) == 0) return true;
  if (ep.rfind("tcp://", 0) != 0) return false;
  std::string_view host = ep.substr(6);
  if (host.rfind("127.", 0) == 0 || host.rfind("[::1]", 0) == 0 || host.rfind("localhost:", 0) == 0)
    return true;
  return false;
}

}  // namespace sortd
