// sortd HMI gateway: the ZeroMQ client of sortd (docs/protocol.md).
// - Requester: request/reply over DEALER sockets to the daemon's ROUTER, safe to call from any
//   thread (the HTTP handlers); a request that gets no reply in time is abandoned with its
//   socket, so that a late reply can never answer the next request.
// - CloneClient: one thread that follows the PUB stream with the clone pattern and keeps the
//   Live state: subscribe first, snapshot, apply updates numbered after it, resync on a gap, a
//   heartbeat that stops (3 s of silence) or comes from another instance, and on `config`.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "live.h"

namespace sortd::hmi {

struct CurveKeys {
  std::string server_public;  // the daemon's public key (Z85)
  std::string client_public, client_secret;
};
// Reads `public = "..."` (and `secret = "..."`) from a key file as written by sortctl keygen.
// Throws std::runtime_error naming the file and line.
CurveKeys load_curve_keys(const std::string& server_key_file, const std::string& client_key_file);

struct BusEndpoints {
  std::string pub = "tcp://127.0.0.1:5570";
  std::string router = "tcp://127.0.0.1:5571";
  std::optional<CurveKeys> curve;
};

// No reply in time: the daemon is down, busy or unreachable.
class BusUnreachable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Requester {
 public:
  Requester(zmq::context_t& ctx, BusEndpoints ep) : ctx_(ctx), ep_(std::move(ep)) {}
  // Sends one request object (an "id" is set) and returns the whole reply object
  // ({id, ok, result | error}). Throws BusUnreachable when no reply comes within timeout, and
  // std::runtime_error when the reply is not a JSON object.
  nlohmann::json call(nlohmann::json request, std::chrono::milliseconds timeout);

  // The gateway's own login, for a daemon that wants one for viewing too (sortd
  // --bus-view-login): a viewer account whose session serves the live state and the pages of
  // browsers that have not logged in.
  void set_login(std::string user, std::string password);
  // call() for viewing: a request without a token gets the gateway's own (logging in first when
  // there is none yet, and once more when the daemon no longer knows it, after a restart or
  // expiry). Without a login set, the same as call(). A refused login is returned as the reply.
  nlohmann::json call_viewing(nlohmann::json request, std::chrono::milliseconds timeout);

 private:
  std::unique_ptr<zmq::socket_t> take();
  void give(std::unique_ptr<zmq::socket_t> s);

  zmq::context_t& ctx_;
  BusEndpoints ep_;
  std::mutex mu_;
  std::vector<std::unique_ptr<zmq::socket_t>> pool_;
  std::atomic<std::uint64_t> next_id_{1};
  std::string login_user_, login_password_;
  std::mutex login_mu_;  // one login at a time; guards token_ and login_refused_
  std::string token_, login_refused_;
};

class CloneClient {
 public:
  struct Options {
    std::chrono::milliseconds silence{3000};          // no message this long: resync
    std::chrono::milliseconds request_timeout{2000};  // the snapshot request
    std::chrono::milliseconds retry{500};             // between failed snapshot attempts
  };
  CloneClient(zmq::context_t& ctx, BusEndpoints ep, Requester& req, Live& live, Options opt);
  ~CloneClient();
  void start();
  void stop();
  // How many snapshots were taken (joins and resyncs).
  std::uint64_t snapshots() const { return snapshots_; }

 private:
  void run();
  bool resync(zmq::socket_t& sub, const std::string& why);

  zmq::context_t& ctx_;
  BusEndpoints ep_;
  Requester& req_;
  Live& live_;
  Options opt_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> snapshots_{0};
  // The clone thread's: the last refused snapshot's reason (logged once).
  std::string last_refusal_;
  std::thread thread_;
};

}  // namespace sortd::hmi
