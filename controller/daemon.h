// sortd: the daemon. One event loop thread owns the station core, the store and the ZeroMQ
// sockets; each device driver runs in a thread of its own and talks to the loop over inproc
// sockets. The loop hands each event to the core and executes its effects in a fixed order:
// store (one durable transaction) first, then sort commands, print jobs, publications.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "config.h"
#include "core.h"
#include "core_replay.h"
#include "orders.h"
#include "store.h"

namespace sortd {

struct DaemonOptions {
  std::string config_path;
  std::string db_path;
  std::vector<std::string> import_files;  // imported at start
  bool all_or_nothing = false;            // refuse an order file that has any bad row
  std::size_t demo_orders = 0;            // load this many demo orders into an empty store
  std::uint64_t demo_seed = 42;
  std::string record_path;  // record every event handed to the core
  double run_seconds = 0;   // stop after this long (tests); 0 = until a signal
  int tick_ms = 100;
  // The station clock, for demos and tests that must not depend on the hour they run at:
  // "HH:MM" starts the clock at that local time (in the station's time zone) today and lets it
  // run from there. Empty: the real time. The shift applies to the whole process.
  std::string clock_start;
  std::int64_t clock_offset_ms = 0;  // or a fixed shift from the real time
};

// Latency from an event's arrival to its effects executed (durable commit included), in µs.
struct LatencyStats {
  std::vector<std::int64_t> samples;
  void add(std::int64_t us) { samples.push_back(us); }
  // p in [0, 1]; sorts a copy.
  std::int64_t percentile(double p) const;
};

class Daemon {
 public:
  explicit Daemon(DaemonOptions opt);
  ~Daemon();

  // Loads and checks everything (config, devices, store, orders) and throws ConfigError /
  // StoreError / std::runtime_error when the station cannot start. Nothing runs half-configured.
  void start();
  // Runs the event loop until stop() (or run_seconds). Returns the exit code.
  int run();
  void stop() { stopping_ = true; }

  Core& core() { return *core_; }
  Store& store() { return *store_; }
  const StationConfig& config() const { return *cfg_; }
  const LatencyStats& decision_latency() const { return latency_; }
  zmq::context_t& zmq() { return zmq_; }

  // Hands one event to the core and executes the effects. Used by the bus for commands, and
  // by tests.
  Effects dispatch(const Event& e, TimeMs now);
  // An operator's command (the bus): as dispatch, but when its record cannot be written it
  // throws StoreError, so that the operator hears it did not happen (the core went back to
  // what the store holds, without it) instead of an "ok".
  Effects command(const Event& e, TimeMs now);
  // Group commit: hands several events to the core in order, writes all their store
  // operations in one durable transaction, then sends all their commands. The loop uses this
  // for everything the drivers queued since the last poll.
  void dispatch_batch(const std::vector<Event>& events, TimeMs now);

  // Replace the station configuration (a new sort plan, or a SIGHUP reload) without stopping:
  // the new configuration must be valid (load_config_file + check_devices); the core is
  // rebuilt from the store's durable state, so parcels in flight carry on. Device drivers keep
  // running with the options they started with.
  void activate(StationConfig cfg);
  const OrderBook& orders() const { return orders_; }
  OrderBook& orders() { return orders_; }

  // Extra sockets polled by the loop (the bus): handler called when readable.
  void add_socket(zmq::socket_t& s, std::function<void()> on_readable);
  // Called for every publication, in order, after the store commit (the bus).
  std::function<void(const Publish&)> on_publish;
  // Called by the loop after every timer tick (the bus: heartbeats, session expiry).
  std::function<void()> on_tick;
  // Stops every device driver thread (tests: freeze the simulated belt). Call from any thread.
  void stop_devices();
  const DaemonOptions& options() const { return opt_; }

  // The station clock: the real time plus the shift set by clock_start / clock_offset_ms.
  // The database could not be written (full disk, I/O error): the station withholds sort
  // commands until it can (see execute()).
  struct StoreFault {
    TimeMs since = 0;
    std::string text;
    std::uint64_t episodes = 0, withheld_commands = 0;
  };
  bool store_failing() const { return store_failed_; }
  const StoreFault& store_fault() const { return store_fault_; }

  static TimeMs now_ms();
  static TimeMs real_now_ms();
  static void set_clock_offset(std::int64_t ms);
  static std::int64_t clock_offset();

 private:
  void start_devices();
  void execute(Effects& fx);
  void checkpoint_if_idle(std::int64_t idle_ms);
  void store_failed(const std::string& what, Effects& fx);
  void store_recovered();
  // A new core from the store's durable state (as after a restart), taking over what the old
  // one knew at run time (devices, the belt, statistics).
  std::unique_ptr<Core> core_from_store(const StationConfig& cfg);

  DaemonOptions opt_;
  std::unique_ptr<StationConfig> cfg_;  // the core refers to it: replaced only with the core
  CoreOptions core_options_;
  std::unique_ptr<Store> store_;
  OrderBook orders_;
  std::unique_ptr<Core> core_;
  std::unique_ptr<Recorder> recorder_;
  zmq::context_t zmq_;
  std::unique_ptr<zmq::socket_t> events_;
  struct DeviceThread;
  std::vector<std::unique_ptr<DeviceThread>> devices_;
  std::vector<std::pair<zmq::socket_t*, std::function<void()>>> extra_;
  std::atomic<bool> stopping_{false};
  bool store_failed_ = false;
  std::string last_store_error_;  // why the last execute() could not write, or empty
  StoreFault store_fault_;
  std::uint64_t commits_since_checkpoint_ = 0;
  LatencyStats latency_;
  std::vector<StoreSorterCursor> sorter_cursors_;  // recovered: where each sorter resumes
};

// The shift that makes the station's local time read `minute` (after midnight) now.
std::int64_t clock_offset_to(std::int32_t minute, std::int32_t utc_offset_min, TimeMs real_now);

// Checks the [[devices]] of a configuration against the driver registry; throws ConfigError.
void check_devices(const StationConfig& cfg);

}  // namespace sortd
