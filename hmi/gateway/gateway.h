// sortd HMI gateway: the HTTP side. Serves the built web page, a JSON API (state, status,
// parcel search, alarms, audit, login/logout, actions) and the live stream (Server-Sent
// Events), and forwards every request to the daemon over ZeroMQ with the browser's session
// token. The daemon decides who may do what (docs/protocol.md, section 4); the gateway only
// keeps the token out of the browser's reach (an HTTP-only cookie names a server-side session).
//
// API (docs/hmi.md has the details):
//   GET  /api/state            the live state {live, seq, instance, state, reason?}
//   GET  /api/stream           Server-Sent Events: snapshot, update, hb, stale
//   GET  /api/status           the daemon's `status` (decision latency, counters)
//   GET  /api/parcel?code=C | order_id=O | parcel_id=N     the daemon's `parcel` (full trace)
//   GET  /api/alarms[?history=1]   GET /api/audit[?limit=N]
//   GET  /api/whoami           POST /api/login {user,password}      POST /api/logout
//   POST /api/action/<cmd>     lane.enable lane.disable lane.reassign bag.close reprint
//                              alarm.ack plan.dry_run plan.activate order.cancel order.hold
//                              order.release, with the command's arguments as a JSON body
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "bus_client.h"
#include "live.h"
#include "web_sessions.h"

namespace httplib {
class Server;
}

namespace sortd::hmi {

struct GatewayOptions {
  BusEndpoints bus;
  std::string listen = "127.0.0.1";
  int port = 8080;  // 0: any free port
  std::string web_dir;
  std::int64_t idle_timeout_ms = 15 * 60 * 1000;
  std::chrono::milliseconds request_timeout{3000};
  bool secure_cookie = false;  // behind a TLS proxy
  int max_streams = 48;        // live streams at once (each holds an HTTP worker)
  CloneClient::Options clone;
  // The gateway's own viewer login, for a daemon run with --bus-view-login (empty: none).
  std::string bus_user, bus_password;
};

class Gateway {
 public:
  explicit Gateway(GatewayOptions opt);
  ~Gateway();
  // Binds the HTTP port and starts following the daemon. Returns the bound port. Throws.
  int start();
  // Serves until stop(). Blocks.
  void run();
  void stop();

  Live& live() { return live_; }
  static constexpr const char* kCookie = "sortd_hmi";

 private:
  void routes();

  GatewayOptions opt_;
  zmq::context_t ctx_;
  Requester req_;
  Live live_;
  CloneClient clone_;
  WebSessions sessions_;
  std::unique_ptr<httplib::Server> http_;
  std::mutex status_mu_;
  nlohmann::json status_cache_;
  std::chrono::steady_clock::time_point status_at_{};
};

// The HTTP status for an error code of the daemon (docs/protocol.md, section 6).
int http_status_for(const std::string& code);

}  // namespace sortd::hmi
