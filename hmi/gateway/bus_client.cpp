// sortd HMI gateway: the ZeroMQ client of sortd (requests and the clone pattern).
#include "bus_client.h"

#include <fstream>
#include <regex>

#include <spdlog/spdlog.h>

namespace sortd::hmi {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// `name = "value"` lines of a key file; # starts a comment.
std::string key_from(const std::string& path, const char* name, bool required) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read the key file");
  static const std::regex line_re(R"re(^\s*(public|secret)\s*=\s*"([^"]*)"\s*(#.*)?$)re");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::smatch m;
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    if (!std::regex_match(line, m, line_re))
      throw std::runtime_error(path + ":" + std::to_string(n) +
                               ": expected public = \"KEY\" or secret = \"KEY\"");
    if (m[1] == name) {
      if (m[2].length() != 40)
        throw std::runtime_error(path + ":" + std::to_string(n) + ": " + name +
                                 ": a key is 40 Z85 characters, this one has " +
                                 std::to_string(m[2].length()));
      return m[2];
    }
  }
  if (required) throw std::runtime_error(path + ": no '" + std::string(name) + "' key");
  return {};
}

void set_curve(zmq::socket_t& s, const std::optional<CurveKeys>& k) {
  if (!k) return;
  s.set(zmq::sockopt::curve_serverkey, k->server_public);
  s.set(zmq::sockopt::curve_publickey, k->client_public);
  s.set(zmq::sockopt::curve_secretkey, k->client_secret);
}

std::int64_t left_ms(Clock::time_point deadline) {
  return std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
}

}  // namespace

CurveKeys load_curve_keys(const std::string& server_key_file, const std::string& client_key_file) {
  CurveKeys k;
  k.server_public = key_from(server_key_file, "public", true);
  k.client_public = key_from(client_key_file, "public", true);
  k.client_secret = key_from(client_key_file, "secret", true);
  return k;
}

// ---------------------------------------------------------------------------------------------
// Requester

std::unique_ptr<zmq::socket_t> Requester::take() {
  {
    std::lock_guard lk(mu_);
    if (!pool_.empty()) {
      auto s = std::move(pool_.back());
      pool_.pop_back();
      return s;
    }
  }
  auto s = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
  s->set(zmq::sockopt::linger, 0);
  // Queue a request only on a connection that is up: a request must not wait in a queue and
  // reach the daemon long after the person who sent it was told it failed.
  s->set(zmq::sockopt::immediate, 1);
  set_curve(*s, ep_.curve);
  s->connect(ep_.router);
  return s;
}

void Requester::give(std::unique_ptr<zmq::socket_t> s) {
  std::lock_guard lk(mu_);
  if (pool_.size() < 8) pool_.push_back(std::move(s));
}

json Requester::call(json request, std::chrono::milliseconds timeout) {
  const std::uint64_t id = next_id_++;
  request["id"] = id;
  const std::string text = request.dump(-1, ' ', false, json::error_handler_t::replace);
  const auto deadline = Clock::now() + timeout;
  auto s = take();
  // Wait until the socket can send (a peer is connected), then send.
  while (true) {
    zmq::pollitem_t it{s->handle(), 0, ZMQ_POLLOUT, 0};
    zmq::poll(&it, 1, std::chrono::milliseconds(left_ms(deadline)));
    if (it.revents & ZMQ_POLLOUT) {
      if (s->send(zmq::buffer(text), zmq::send_flags::dontwait)) break;
    }
    if (left_ms(deadline) == 0)
      throw BusUnreachable("the daemon is not reachable at " + ep_.router);
  }
  while (true) {
    zmq::pollitem_t it{s->handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&it, 1, std::chrono::milliseconds(left_ms(deadline)));
    if (it.revents & ZMQ_POLLIN) {
      std::vector<zmq::message_t> parts;
      while (true) {
        zmq::message_t m;
        if (!s->recv(m, zmq::recv_flags::dontwait)) break;
        const bool more = m.more();
        parts.push_back(std::move(m));
        if (!more) break;
      }
      if (parts.empty()) continue;
      json reply = json::parse(parts.back().to_string_view(), nullptr, false);
      if (reply.is_object() && reply.value("id", json()) == json(id)) {
        give(std::move(s));
        return reply;
      }
      if (!reply.is_object()) throw std::runtime_error("the daemon's reply is not a JSON object");
      continue;  // a late reply to an earlier request on this socket: not ours
    }
    if (left_ms(deadline) == 0)
      // The socket is dropped with the request: its reply, if it ever comes, goes nowhere.
      throw BusUnreachable("no reply from the daemon at " + ep_.router + " within " +
                           std::to_string(timeout.count()) + " ms");
  }
}

void Requester::set_login(std::string user, std::string password) {
  login_user_ = std::move(user);
  login_password_ = std::move(password);
}

json Requester::call_viewing(json request, std::chrono::milliseconds timeout) {
  if (login_user_.empty() || request.contains("token")) return call(std::move(request), timeout);
  for (int attempt = 0;; ++attempt) {
    std::string token;
    {
      std::lock_guard lk(login_mu_);
      if (token_.empty()) {
        json r =
            call({{"cmd", "login"}, {"user", login_user_}, {"password", login_password_}}, timeout);
        if (!r.value("ok", false)) {
          const std::string why = r.value("error", json::object()).value("message", "");
          if (why != login_refused_)  // once, not at every retry
            spdlog::error("hmi: the gateway's login as '{}' was refused: {}", login_user_, why);
          login_refused_ = why;
          return r;
        }
        login_refused_.clear();
        token_ = r["result"].value("token", std::string());
        spdlog::info("hmi: logged in to the daemon as '{}' for viewing", login_user_);
      }
      token = token_;
    }
    request["token"] = token;
    json reply = call(request, timeout);
    const bool unknown =
        !reply.value("ok", false) &&
        reply.value("error", json::object()).value("code", "") == "unauthenticated";
    if (!unknown || attempt > 0) return reply;
    std::lock_guard lk(login_mu_);
    if (token_ == token) token_.clear();  // log in again (unless another thread already did)
  }
}

// ---------------------------------------------------------------------------------------------
// CloneClient

CloneClient::CloneClient(zmq::context_t& ctx, BusEndpoints ep, Requester& req, Live& live,
                         Options opt)
    : ctx_(ctx), ep_(std::move(ep)), req_(req), live_(live), opt_(opt) {}

CloneClient::~CloneClient() {
  stop();
}

void CloneClient::start() {
  thread_ = std::thread([this] { run(); });
}

void CloneClient::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

namespace {
// Reads one two-frame message (topic, body) without waiting. False when none is there.
bool read_one(zmq::socket_t& sub, std::string& topic, std::string& body) {
  zmq::message_t t;
  if (!sub.recv(t, zmq::recv_flags::dontwait)) return false;
  topic = t.to_string();
  body.clear();
  while (t.more()) {
    zmq::message_t b;
    if (!sub.recv(b)) break;
    const bool more = b.more();
    if (body.empty()) body = b.to_string();
    if (!more) break;
  }
  return true;
}
}  // namespace

// Takes a snapshot and applies what arrived meanwhile. True when live again.
bool CloneClient::resync(zmq::socket_t& sub, const std::string& why) {
  live_.set_stale(why);
  // Everything already queued on the SUB socket was published before the snapshot is taken:
  // at or below its seq (or from a previous instance). Drop it.
  std::string topic, body;
  while (read_one(sub, topic, body)) {
  }
  const auto deadline = Clock::now() + opt_.request_timeout;
  json reply;
  // The request runs on another thread of ours so that this one keeps reading (and queueing)
  // the stream meanwhile, as the clone pattern wants.
  std::exception_ptr err;
  std::atomic<bool> done{false};
  std::thread t([&] {
    try {
      reply = req_.call_viewing({{"cmd", "snapshot"}}, opt_.request_timeout);
    } catch (...) {
      err = std::current_exception();
    }
    done = true;
  });
  std::vector<std::pair<std::string, std::string>> queued;
  while (!done && !stop_) {
    zmq::pollitem_t it{sub.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&it, 1,
              std::chrono::milliseconds(std::min<std::int64_t>(50, left_ms(deadline) + 50)));
    while (read_one(sub, topic, body)) queued.emplace_back(topic, body);
  }
  t.join();
  if (stop_) return false;
  while (read_one(sub, topic, body)) queued.emplace_back(topic, body);
  try {
    if (err) std::rethrow_exception(err);
    if (!reply.value("ok", false)) {
      const json e = reply.value("error", json::object());
      const std::string why =
          "the daemon refused the snapshot: " + e.value("code", std::string("?")) + ": " +
          e.value("message", std::string());
      live_.explain_stale(why);
      if (why != last_refusal_) spdlog::warn("hmi: {}", why);  // once, not every retry
      last_refusal_ = why;
      return false;
    }
    live_.load_snapshot(reply["result"]);
  } catch (const std::exception& e) {
    live_.set_stale(e.what());
    return false;
  }
  ++snapshots_;
  for (const auto& [tp, b] : queued) {
    const auto out = live_.apply(tp, b);
    if (out.verdict == CloneState::Verdict::Resync) {
      spdlog::info("hmi: resync: {}", out.why);
      return false;
    }
  }
  live_.go_live();
  spdlog::info("hmi: live at seq {}", reply["result"].value("seq", 0));
  return true;
}

void CloneClient::run() {
  zmq::socket_t sub(ctx_, zmq::socket_type::sub);
  sub.set(zmq::sockopt::linger, 0);
  sub.set(zmq::sockopt::rcvhwm, 100000);
  set_curve(sub, ep_.curve);
  sub.set(zmq::sockopt::subscribe, "");
  sub.connect(ep_.pub);

  bool live = false;
  std::string why = "connecting to the daemon";
  auto last_msg = Clock::now();
  while (!stop_) {
    if (!live) {
      live = resync(sub, why);
      last_msg = Clock::now();
      if (!live) {
        // The page keeps the first reason (set_stale is idempotent while stale): the cause.
        std::this_thread::sleep_for(opt_.retry);
        why = "waiting for the daemon";
        continue;
      }
    }
    zmq::pollitem_t it{sub.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&it, 1, std::chrono::milliseconds(100));
    std::string topic, body;
    while (live && read_one(sub, topic, body)) {
      last_msg = Clock::now();
      const auto out = live_.apply(topic, body);
      if (out.verdict == CloneState::Verdict::Resync) {
        spdlog::info("hmi: resync: {}", out.why);
        why = out.why;
        live = false;
      }
    }
    if (live && Clock::now() - last_msg > opt_.silence) {
      why =
          "no heartbeat from the daemon for " + std::to_string(opt_.silence.count() / 1000) + " s";
      spdlog::warn("hmi: {}", why);
      live = false;
    }
  }
  live_.set_stale("the gateway is stopping");
}

}  // namespace sortd::hmi
