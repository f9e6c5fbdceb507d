// sortd: the ZeroMQ bus of the daemon: PUB stream with sequence numbers and heartbeats, ROUTER
// requests with JSON replies (docs/protocol.md).
#include "daemon_bus.h"

#include <sodium.h>

#include <cstring>

#include <spdlog/spdlog.h>

#include "daemon_bus_ctx.h"
#include "daemon_bus_worker.h"

namespace sortd {

using nlohmann::json;

namespace {
constexpr std::int64_t kMaxRequestBytes = 64ll << 20;

std::string random_instance() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot be initialised");
  unsigned char raw[8];
  randombytes_buf(raw, sizeof raw);
  char hex[17];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  return hex;
}

// One whole multipart message, if one is waiting (empty otherwise).
std::vector<zmq::message_t> recv_multipart(zmq::socket_t& s) {
  std::vector<zmq::message_t> parts;
  while (true) {
    zmq::message_t m;
    if (!s.recv(m, zmq::recv_flags::dontwait)) break;
    const bool more = m.more();
    parts.push_back(std::move(m));
    if (!more) break;
  }
  return parts;
}

}  // namespace

std::string reply_ok(const json& id, json result) {
  return json{{"id", id}, {"ok", true}, {"result", std::move(result)}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

std::string reply_error(const json& id, const std::string& code, const std::string& message,
                        const json& extra) {
  json r = {{"id", id}, {"ok", false}, {"error", {{"code", code}, {"message", message}}}};
  if (extra.is_object())
    for (auto it = extra.begin(); it != extra.end(); ++it) r[it.key()] = it.value();
  return r.dump(-1, ' ', false, json::error_handler_t::replace);
}

Bus::Bus(Daemon& d, BusOptions opt)
    : d_(d),
      opt_(std::move(opt)),
      pub_(d.zmq(), zmq::socket_type::pub),
      router_(d.zmq(), zmq::socket_type::router),
      instance_(random_instance()),
      worker_replies_(d.zmq(), zmq::socket_type::pull) {
  if (!opt_.users_file.empty()) users_ = load_users_file(opt_.users_file);
  curve_ = opt_.curve || !is_local_endpoint(opt_.pub_endpoint) ||
           !is_local_endpoint(opt_.router_endpoint);
  if (curve_) {
    if (opt_.curve_key_file.empty() || opt_.curve_clients_file.empty())
      throw std::runtime_error(
          "bus: CURVE is required (an endpoint beyond loopback, or --curve): give the server key "
          "pair (--curve-key FILE) and the allowed client keys (--curve-clients FILE)");
    CurveKeyPair kp = load_key_file(opt_.curve_key_file);
    std::set<std::string> clients = load_client_keys(opt_.curve_clients_file);
    if (clients.empty())
      throw std::runtime_error(opt_.curve_clients_file + ": no client keys: nobody could connect");
    zap_ = std::make_unique<ZapHandler>(d.zmq(), std::move(clients));
    for (zmq::socket_t* s : {&pub_, &router_}) {
      s->set(zmq::sockopt::curve_server, true);
      s->set(zmq::sockopt::curve_secretkey, kp.secret_key);
      s->set(zmq::sockopt::zap_domain, "sortd");
    }
  }
  pub_.set(zmq::sockopt::linger, 0);
  pub_.set(zmq::sockopt::sndhwm, opt_.pub_hwm);
  router_.set(zmq::sockopt::linger, 0);
  router_.set(zmq::sockopt::maxmsgsize, kMaxRequestBytes);
  router_.set(zmq::sockopt::sndhwm, 10000);
  try {
    pub_.bind(opt_.pub_endpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("bus: cannot bind the PUB socket to " + opt_.pub_endpoint + ": " +
                             e.what());
  }
  try {
    router_.bind(opt_.router_endpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("bus: cannot bind the ROUTER socket to " + opt_.router_endpoint +
                             ": " + e.what());
  }
  worker_replies_.set(zmq::sockopt::linger, 0);
  worker_replies_.bind(kWorkerReplies);
  worker_ = std::make_unique<BusWorker>(d.zmq(), d.options().db_path, opt_.worker_delay_ms);
  if (zap_) d.add_socket(zap_->socket(), [this] { zap_->handle_one(); });
  d.add_socket(router_, [this] { on_router_readable(); });
  d.add_socket(worker_replies_, [this] { on_worker_done(); });
  d.on_publish = [this](const Publish& p) { publish(p.topic, p.json); };
  d.on_tick = [this] { on_tick(); };
  spdlog::info("bus: PUB {} ROUTER {} instance {}{}{}", pub_endpoint(), router_endpoint(),
               instance_, curve_ ? ", CURVE with a client allow-list" : "",
               opt_.users_file.empty() ? ", no users file: commands refused"
                                       : ", " + std::to_string(users_.users.size()) + " users");
}

Bus::~Bus() {
  worker_.reset();  // its thread ends, and with it its end of worker_replies_
  d_.on_publish = nullptr;
  d_.on_tick = nullptr;
}

std::string Bus::pub_endpoint() const {
  return pub_.get(zmq::sockopt::last_endpoint);
}
std::string Bus::router_endpoint() const {
  return router_.get(zmq::sockopt::last_endpoint);
}

void Bus::publish(const std::string& topic, const std::string& body) {
  const std::uint64_t seq = ++seq_;
  std::string out;
  out.reserve(body.size() + 48);
  // The core's bodies are JSON objects: add "seq" (and "time" where the core gave none)
  // before the closing brace without parsing them again.
  std::size_t end = body.find_last_of('}');
  if (body.empty() || body.front() != '{' || end == std::string::npos) {
    out = json{{"value", json::parse(body, nullptr, false)}}.dump();
    end = out.size() - 1;
  } else {
    out.assign(body, 0, end);
  }
  const bool empty_object = out.find_first_not_of(" \t\r\n", 1) == std::string::npos;
  out += empty_object ? "" : ",";
  out += "\"seq\":";
  out += std::to_string(seq);
  if (body.find("\"time\":") == std::string::npos) {
    out += ",\"time\":";
    out += std::to_string(Daemon::now_ms());
  }
  out += '}';
  pub_.send(zmq::buffer(topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
  pub_.send(zmq::buffer(out), zmq::send_flags::dontwait);
}

void Bus::heartbeat() {
  const std::string body =
      json{{"seq", seq_}, {"instance", instance_}, {"time", Daemon::now_ms()}}.dump();
  pub_.send(zmq::buffer(std::string_view("hb")),
            zmq::send_flags::sndmore | zmq::send_flags::dontwait);
  pub_.send(zmq::buffer(body), zmq::send_flags::dontwait);
  last_hb_ = Daemon::now_ms();
}

void Bus::on_tick() {
  const TimeMs now = Daemon::now_ms();
  if (now - last_hb_ >= opt_.heartbeat_ms) {
    heartbeat();
    sessions_.expire(now);
  }
}

void Bus::on_router_readable() {
  for (int n = 0; n < 64; ++n) {
    std::vector<zmq::message_t> parts = recv_multipart(router_);
    if (parts.empty()) return;
    // [identity] [empty delimiter]? [request]
    std::size_t body = 1;
    if (parts.size() >= 3 && parts[1].size() == 0) body = 2;
    std::optional<std::string> reply;
    if (parts.size() < 2) {
      continue;  // no request at all: nothing to answer
    } else if (parts.size() != body + 1) {
      reply = reply_error(nullptr, "bad_request",
                          "a request is one frame (after an optional empty delimiter); got " +
                              std::to_string(parts.size() - 1) + " frames");
    } else {
      std::vector<std::string> envelope;
      for (std::size_t i = 0; i < body; ++i) envelope.push_back(parts[i].to_string());
      reply = handle_request(parts[body].to_string_view(), &envelope);
    }
    if (!reply) continue;  // the bus worker answers
    for (std::size_t i = 0; i < body; ++i)
      router_.send(parts[i], zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    router_.send(zmq::buffer(*reply), zmq::send_flags::dontwait);
  }
}

// A job the bus worker finished: [job number] [envelope...] [reply]. A job with a second half
// for the loop (Bus::defer's `then`) gets it now, with the worker's result; the reply is sent on.
void Bus::on_worker_done() {
  for (int n = 0; n < 64; ++n) {
    std::vector<zmq::message_t> parts = recv_multipart(worker_replies_);
    if (parts.empty()) return;
    if (parts.size() < 2) continue;
    std::uint64_t job = 0;
    if (parts[0].size() == sizeof job) std::memcpy(&job, parts[0].data(), sizeof job);
    std::string reply = parts.back().to_string();
    if (auto it = then_.find(job); it != then_.end()) {
      // (No structured binding: clang before 16 cannot capture one in the lambda below.)
      const std::string what = it->second.first;
      const std::function<json(json)> then = std::move(it->second.second);
      then_.erase(it);
      json r = json::parse(reply, nullptr, false);
      if (r.is_object() && r.value("ok", false))
        reply = reply_to(r["id"], what, [&] { return then(std::move(r["result"])); });
    }
    for (std::size_t i = 1; i + 1 < parts.size(); ++i)
      router_.send(parts[i], zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    router_.send(zmq::buffer(reply), zmq::send_flags::dontwait);
  }
}

const Session* Bus::authorise(Ctx& c, Role need) {
  if (need == Role::None) return nullptr;
  const Session* s = nullptr;
  if (const json* t = c.field("token")) {
    if (!t->is_string()) Ctx::wrong("token", "a string", *t);
    s = sessions_.find(t->get<std::string>(), c.now);
    if (!s) throw BusError("unauthenticated", "the session is unknown or expired: log in again");
  }
  if (!s) {
    if (need == Role::Viewer && !opt_.view_needs_login) return nullptr;
    throw BusError("unauthenticated", "'" + c.cmd + "' needs a login with the role " +
                                          to_string(need) + " or above (field 'token')");
  }
  if (s->role < need)
    throw BusError("forbidden", "'" + c.cmd + "' needs the role " + std::string(to_string(need)) +
                                    " or above; " + s->user + " is " + to_string(s->role));
  c.session = s;
  c.user = s->user;
  return s;
}

void Bus::audit(const std::string& user, const std::string& action, const json& detail) {
  d_.store().apply(
      {StoreAudit{user, action, detail.dump(-1, ' ', false, json::error_handler_t::replace),
                  Daemon::now_ms()}});
}

void Bus::publish_config(const std::string& reason, const std::string& source,
                         const std::string& user) {
  publish("config", json{{"reason", reason}, {"source", source}, {"user", user}}.dump());
}

std::string Bus::handle_request(std::string_view frame) {
  return *handle_request(frame, nullptr);  // without an envelope nothing is deferred
}

std::optional<std::string> Bus::handle_request(std::string_view frame,
                                               const std::vector<std::string>* envelope) {
  json id = nullptr;
  json req = json::parse(frame, nullptr, false);
  if (req.is_discarded()) {
    std::string why;
    try {
      json again = json::parse(frame);
      (void)again;
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
      why = e.what();
      if (auto p = why.find("parse error"); p != std::string::npos) why = why.substr(p);
    }
    return reply_error(nullptr, "bad_json", "the request is not valid JSON: " + why);
  }
  if (!req.is_object())
    return reply_error(nullptr, "bad_request",
                       std::string("a request must be a JSON object, not ") + req.type_name());
  if (auto it = req.find("id"); it != req.end()) id = *it;
  auto cmd_it = req.find("cmd");
  if (cmd_it == req.end())
    return reply_error(id, "bad_request", "the request has no 'cmd' (the request's name)");
  if (!cmd_it->is_string())
    return reply_error(id, "bad_request",
                       std::string("'cmd' must be a string, not ") + cmd_it->type_name());
  const std::string cmd = cmd_it->get<std::string>();
  const auto& table = commands();
  auto c = table.find(cmd);
  if (c == table.end())
    return reply_error(id, "unknown_command",
                       "unknown command '" + cmd + "' (see docs/protocol.md, section 5)");
  Ctx ctx{req, cmd, nullptr, "", Daemon::now_ms(), envelope, false};
  std::string reply = reply_to(id, cmd, [&] {
    authorise(ctx, c->second.role);
    return (this->*(c->second.fn))(ctx);
  });
  if (ctx.deferred) return std::nullopt;
  return reply;
}

std::string reply_to(const json& id, const std::string& what, const std::function<json()>& f) {
  try {
    return reply_ok(id, f());
  } catch (const BusError& e) {
    return reply_error(id, e.code, e.what(), e.extra);
  } catch (const StoreError& e) {
    spdlog::error("bus: {}: {}", what, e.what());
    return reply_error(id, "store_error", e.what());
  } catch (const ConfigError& e) {
    std::string msg;
    for (const auto& i : e.issues()) msg += (msg.empty() ? "" : "\n") + i.str();
    return reply_error(id, "config_error", msg);
  } catch (const std::exception& e) {
    spdlog::error("bus: {}: {}", what, e.what());
    return reply_error(id, "internal", e.what());
  }
}

}  // namespace sortd
