// sortd: the ZeroMQ bus of the daemon (docs/protocol.md). A PUB socket streams every
// publication of the station core with a strictly increasing sequence number (plus a heartbeat),
// and a ROUTER socket answers requests: the clone pattern's snapshot, queries, commands, order
// import, login. Everything runs on the daemon's loop thread but reports, label previews and
// password checks, which a worker thread does (with its own read-only connection to the store):
// a month by the hour takes a second, a label preview tens of milliseconds, a password hash a
// tenth of a second, and none of that may hold up sorting. Their replies go out through the loop.
// Construct the Bus after Daemon::start() and before Daemon::run(), destroy it after run()
// returns and before the Daemon.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "daemon.h"
#include "daemon_bus_auth.h"

namespace sortd {

struct BusOptions {
  // "tcp://127.0.0.1:*" binds a free port (see Bus::pub_endpoint()).
  std::string pub_endpoint = "tcp://127.0.0.1:5570";
  std::string router_endpoint = "tcp://127.0.0.1:5571";
  std::string users_file;          // empty: nobody can log in
  bool view_needs_login = false;   // viewer requests need a session too
  bool curve = false;              // force CURVE (required anyway beyond loopback)
  std::string curve_key_file;      // the server's key pair
  std::string curve_clients_file;  // allowed client public keys
  int heartbeat_ms = 1000;
  int pub_hwm = 100000;
  // Tests only: the bus worker waits this long before each job (a report, a label preview, a
  // password check), which shows that the loop keeps sorting and answering meanwhile.
  int worker_delay_ms = 0;
};

class BusWorker;  // daemon_bus_worker.h
class WorkerDb;

// A refused request: a stable code (docs/protocol.md, section 6) and a message for people.
class BusError : public std::runtime_error {
 public:
  BusError(std::string code, const std::string& message, nlohmann::json extra = nullptr)
      : std::runtime_error(message), code(std::move(code)), extra(std::move(extra)) {}
  std::string code;
  nlohmann::json extra;  // fields added to the reply beside "error"
};

class Bus {
 public:
  // Binds both sockets and hooks into the daemon (add_socket, on_publish, on_tick). Throws
  // std::runtime_error on a bad option (CURVE needed, unreadable key or users file, bind failed).
  Bus(Daemon& daemon, BusOptions opt);
  ~Bus();
  Bus(const Bus&) = delete;
  Bus& operator=(const Bus&) = delete;

  std::string pub_endpoint() const;     // as bound (the real port)
  std::string router_endpoint() const;  // as bound
  const std::string& instance() const { return instance_; }
  std::uint64_t seq() const { return seq_; }
  bool curve() const { return curve_; }

  // Handles one request frame and returns the reply (JSON text). Never throws.
  std::string handle_request(std::string_view frame);
  // The same for a request that came in on the ROUTER with this envelope: nothing when the
  // reply will be sent later, by the bus worker.
  std::optional<std::string> handle_request(std::string_view frame,
                                            const std::vector<std::string>* envelope);
  // Stamps and sends one publication (what Daemon::on_publish calls).
  void publish(const std::string& topic, const std::string& json_body);
  void heartbeat();

 private:
  struct Ctx;
  using Handler = nlohmann::json (Bus::*)(Ctx&);
  struct Command {
    Role role;
    Handler fn;
  };

  void on_router_readable();
  void on_worker_done();
  void on_tick();
  const Session* authorise(Ctx& c, Role need);
  void audit(const std::string& user, const std::string& action, const nlohmann::json& detail);
  void publish_config(const std::string& reason, const std::string& source,
                      const std::string& user);

  // Requests (daemon_bus_requests.cpp).
  nlohmann::json cmd_hello(Ctx&);
  nlohmann::json cmd_login(Ctx&);
  nlohmann::json cmd_logout(Ctx&);
  nlohmann::json cmd_whoami(Ctx&);
  nlohmann::json cmd_status(Ctx&);
  nlohmann::json cmd_snapshot(Ctx&);
  nlohmann::json cmd_parcel(Ctx&);
  nlohmann::json cmd_lanes(Ctx&);
  nlohmann::json cmd_couriers(Ctx&);
  nlohmann::json cmd_orders(Ctx&);
  nlohmann::json cmd_order(Ctx&);
  nlohmann::json cmd_alarms(Ctx&);
  nlohmann::json cmd_export(Ctx&);
  nlohmann::json cmd_report(Ctx&);  // daemon_bus_reports.cpp
  nlohmann::json cmd_label(Ctx&);   // daemon_bus_label.cpp
  nlohmann::json cmd_lane_enable(Ctx&);
  nlohmann::json cmd_lane_disable(Ctx&);
  nlohmann::json cmd_lane_reassign(Ctx&);
  nlohmann::json cmd_order_cancel(Ctx&);
  nlohmann::json cmd_order_hold(Ctx&);
  nlohmann::json cmd_order_release(Ctx&);
  nlohmann::json cmd_orders_import(Ctx&);
  nlohmann::json cmd_alarm_ack(Ctx&);
  nlohmann::json cmd_reprint(Ctx&);
  nlohmann::json cmd_bag_close(Ctx&);
  // Bags, manifests, handover (daemon_bus_bags.cpp).
  nlohmann::json cmd_bags(Ctx&);
  nlohmann::json cmd_handover_scan(Ctx&);
  nlohmann::json cmd_handover_missort(Ctx&);
  nlohmann::json cmd_manifests(Ctx&);
  nlohmann::json cmd_manifest(Ctx&);
  nlohmann::json cmd_manifest_close(Ctx&);
  nlohmann::json manifest_view(std::uint64_t manifest_id, bool with_parcels);
  std::string manifest_dir() const;
  nlohmann::json cmd_plan_dry_run(Ctx&);
  nlohmann::json cmd_plan_activate(Ctx&);
  nlohmann::json cmd_audit(Ctx&);
  nlohmann::json cmd_users_reload(Ctx&);
  nlohmann::json lane_set(Ctx&, bool enabled);
  nlohmann::json order_status(Ctx&, OrderStatus s);
  nlohmann::json parcel_trace(std::uint64_t parcel_id);
  // What a parcel's label is made from (reprint, label): its last decision and its order, as a
  // reprint event (the caller sets its user).
  LabelReprint label_source(Ctx&);
  // Hands a request to the bus worker (daemon_bus_worker.h) and marks it deferred; called
  // directly (no envelope), runs `build` here on the daemon's connection and returns its result.
  // `then`, when given, runs on the loop with the worker's result and makes the reply (a login:
  // the worker checks the password, the loop opens the session).
  nlohmann::json defer(Ctx& c, std::string what, std::function<nlohmann::json(WorkerDb&)> build,
                       std::function<nlohmann::json(nlohmann::json)> then = {});
  static const std::map<std::string, Command, std::less<>>& commands();

  Daemon& d_;
  BusOptions opt_;
  std::unique_ptr<ZapHandler> zap_;
  zmq::socket_t pub_, router_;
  std::string instance_;
  std::uint64_t seq_ = 0;
  std::int64_t last_hb_ = 0;
  bool curve_ = false;
  UsersFile users_;
  Sessions sessions_;
  zmq::socket_t worker_replies_;  // PULL: the bus worker's finished replies, with envelopes
  std::unique_ptr<BusWorker> worker_;
  std::uint64_t jobs_ = 0;  // the worker's jobs so far (their numbers)
  // The loop's second half of jobs in the worker, by job number, with the request's name.
  std::map<std::uint64_t, std::pair<std::string, std::function<nlohmann::json(nlohmann::json)>>>
      then_;
};

}  // namespace sortd
