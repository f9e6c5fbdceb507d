#include "daemon.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <thread>

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include "codec.h"
#include "driver.h"

namespace sortd {

using nlohmann::json;

namespace {
constexpr const char* kEventsEndpoint = "inproc://sortd/events";
constexpr std::size_t kLatencyWindow = 200'000;

std::int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

std::int64_t LatencyStats::percentile(double p) const {
  if (samples.empty()) return 0;
  std::vector<std::int64_t> v = samples;
  std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(p * double(v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

namespace {
std::atomic<std::int64_t> g_clock_offset_ms{0};
}

TimeMs Daemon::real_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
TimeMs Daemon::now_ms() {
  return real_now_ms() + g_clock_offset_ms.load(std::memory_order_relaxed);
}
void Daemon::set_clock_offset(std::int64_t ms) {
  g_clock_offset_ms.store(ms);
}
std::int64_t Daemon::clock_offset() {
  return g_clock_offset_ms.load();
}

std::int64_t clock_offset_to(std::int32_t minute, std::int32_t utc_offset_min, TimeMs real_now) {
  const std::int64_t day_ms = 24LL * 60 * 60'000;
  const std::int64_t local = real_now + std::int64_t(utc_offset_min) * 60'000;
  const std::int64_t into_day = ((local % day_ms) + day_ms) % day_ms;
  return std::int64_t(minute) * 60'000 - into_day;
}

struct Daemon::DeviceThread {
  StationConfig::Device cfg;
  std::unique_ptr<zmq::socket_t> commands;  // PUSH, owned by the loop thread
  std::jthread thread;
};

void check_devices(const StationConfig& cfg) {
  std::vector<ConfigIssue> issues;
  for (std::size_t i = 0; i < cfg.devices.size(); ++i) {
    const auto& d = cfg.devices[i];
    const std::string key = "devices[" + std::to_string(i) + "]";
    const dev::DriverInfo* info = dev::find_driver(d.kind, d.driver);
    if (!info) {
      std::string known;
      for (const auto& di : dev::drivers())
        if (di.kind == d.kind) known += (known.empty() ? "" : ", ") + di.driver;
      issues.push_back({cfg.source, d.line, 0, key + ".driver",
                        "no " + d.kind + " driver '" + d.driver + "'" +
                            (known.empty() ? "" : " (" + d.kind + " drivers: " + known + ")")});
      continue;
    }
    if (!info->check) continue;
    for (const auto& msg : info->check(d)) {
      auto colon = msg.find(':');
      std::string opt = colon == std::string::npos ? "" : msg.substr(0, colon);
      std::string text = colon == std::string::npos ? msg : msg.substr(colon + 2);
      issues.push_back({cfg.source, d.line, 0, opt.empty() ? key : key + "." + opt, text});
    }
  }
  if (!issues.empty()) throw ConfigError(std::move(issues));
}

Daemon::Daemon(DaemonOptions opt) : opt_(std::move(opt)) {}

Daemon::~Daemon() {
  for (auto& d : devices_) d->thread.request_stop();
  for (auto& d : devices_)
    if (d->thread.joinable()) d->thread.join();
  devices_.clear();
  events_.reset();
}

void Daemon::start() {
  cfg_ = std::make_unique<StationConfig>(load_config_file(opt_.config_path));
  check_devices(*cfg_);
  if (!opt_.clock_start.empty()) {
    const auto minute = parse_time_of_day(opt_.clock_start);
    if (!minute)
      throw std::runtime_error("clock start '" + opt_.clock_start +
                               "' is not a time of day \"HH:MM\"");
    set_clock_offset(clock_offset_to(*minute, cfg_->policies.utc_offset_min, real_now_ms()));
  } else if (opt_.clock_offset_ms) {
    set_clock_offset(opt_.clock_offset_ms);
  }
  if (clock_offset())
    spdlog::warn("station clock shifted by {} s from the real time (demo/test clock)",
                 clock_offset() / 1000);
  store_ = std::make_unique<Store>(opt_.db_path);

  json orders_source = json::object();
  if (opt_.demo_orders && store_->order_count() == 0) {
    store_->upsert_orders(make_demo_orders(opt_.demo_orders, opt_.demo_seed));
    orders_source = {{"demo", opt_.demo_orders}, {"seed", opt_.demo_seed}};
    spdlog::info("loaded {} demo orders", opt_.demo_orders);
  } else {
    orders_source = {{"store", std::filesystem::absolute(opt_.db_path).string()}};
  }
  for (const auto& f : opt_.import_files) {
    ImportResult r = load_orders_file(f);
    for (const auto& e : r.errors) spdlog::warn("{}", e.str());
    if (opt_.all_or_nothing && !r.errors.empty())
      throw std::runtime_error(f + ": " + std::to_string(r.errors.size()) +
                               " bad rows, file refused (all-or-nothing)");
    store_->upsert_orders(r.orders);
    spdlog::info("{}: imported {} orders, {} rows refused", f, r.orders.size(), r.errors.size());
  }
  // Fold the imports into the database now, before any parcel: a large WAL checkpointed later
  // would hold up the loop.
  store_->checkpoint();
  std::size_t n = 0;
  store_->for_each_order([&](Order&& o) {
    orders_.upsert(o);
    ++n;
  });
  RecoveredState rec = store_->recover();
  sorter_cursors_ = rec.sorter_cursors;
  spdlog::info("store {}: {} orders, {} parcels in flight recovered", opt_.db_path, n,
               rec.in_flight.size());

  core_ = std::make_unique<Core>(*cfg_, orders_, rec, core_options_);

  if (!opt_.record_path.empty()) {
    recorder_ = std::make_unique<Recorder>(
        opt_.record_path, json{{"sortd_record", 1},
                               {"config", std::filesystem::absolute(opt_.config_path).string()},
                               {"orders", orders_source},
                               {"started", now_ms()}});
  }

  events_ = std::make_unique<zmq::socket_t>(zmq_, zmq::socket_type::pull);
  events_->set(zmq::sockopt::linger, 0);
  events_->bind(kEventsEndpoint);
  start_devices();
}

void Daemon::start_devices() {
  for (const auto& d : cfg_->devices) {
    const dev::DriverInfo* info = dev::find_driver(d.kind, d.driver);
    auto t = std::make_unique<DeviceThread>();
    t->cfg = d;
    for (const auto& c : sorter_cursors_)
      if (c.device == d.name && d.kind == "sorter")
        t->cfg.resume = {{"plc_boot", c.plc_boot}, {"conf_next", c.conf_next}};
    const std::string endpoint = "inproc://sortd/dev/" + d.name;
    t->commands = std::make_unique<zmq::socket_t>(zmq_, zmq::socket_type::push);
    t->commands->set(zmq::sockopt::linger, 0);
    t->commands->set(zmq::sockopt::sndhwm, 10000);
    t->commands->bind(endpoint);
    std::shared_ptr<dev::Driver> driver = info->make(t->cfg, *cfg_);
    t->thread = std::jthread([this, driver, endpoint, name = d.name](std::stop_token st) {
      try {
        dev::DriverIo io(zmq_, kEventsEndpoint, endpoint);
        driver->run(io, st);
      } catch (const std::exception& e) {
        spdlog::critical("device {}: driver stopped: {}", name, e.what());
      }
    });
    spdlog::info("device {}: {} driver '{}' started", d.name, d.kind, d.driver);
    devices_.push_back(std::move(t));
  }
}

void Daemon::activate(StationConfig cfg) {
  // The new core starts from the durable state, as after a restart, and takes over what the
  // old one knew of the devices and the belt.
  auto next_cfg = std::make_unique<StationConfig>(std::move(cfg));
  core_ = core_from_store(*next_cfg);
  cfg_ = std::move(next_cfg);  // the old configuration outlives the old core
  spdlog::info("configuration {} activated: {} couriers, {} lanes", cfg_->source,
               cfg_->couriers.size(), cfg_->lanes.size());
}

void Daemon::stop_devices() {
  for (auto& d : devices_) d->thread.request_stop();
  for (auto& d : devices_)
    if (d->thread.joinable()) d->thread.join();
}

void Daemon::add_socket(zmq::socket_t& s, std::function<void()> on_readable) {
  extra_.emplace_back(&s, std::move(on_readable));
}

Effects Daemon::dispatch(const Event& e, TimeMs now) {
  if (recorder_) recorder_->write(now, e);
  Effects fx = core_->handle(e, now);
  execute(fx);
  return fx;
}

Effects Daemon::command(const Event& e, TimeMs now) {
  Effects fx = dispatch(e, now);
  if (!last_store_error_.empty())
    throw StoreError("the command was not carried out: the database cannot be written (" +
                     last_store_error_ + ")");
  return fx;
}

void Daemon::dispatch_batch(const std::vector<Event>& events, TimeMs now) {
  const std::int64_t t0 = steady_us();
  Effects all;
  std::size_t reads = 0;
  for (const auto& e : events) {
    if (recorder_) recorder_->write(now, e);
    all.append(core_->handle(e, now));
    reads += std::holds_alternative<ScanRead>(e);
  }
  execute(all);
  if (reads) {
    if (latency_.samples.size() >= kLatencyWindow)
      latency_.samples.erase(latency_.samples.begin(),
                             latency_.samples.begin() + kLatencyWindow / 2);
    const std::int64_t us = steady_us() - t0;
    for (std::size_t i = 0; i < reads; ++i) latency_.add(us);
  }
}

void Daemon::execute(Effects& fx) {
  last_store_error_.clear();
  if (!fx.store.empty()) {
    try {
      store_->apply(fx.store);
      ++commits_since_checkpoint_;
      if (store_failed_) store_recovered();
    } catch (const StoreError& e) {
      last_store_error_ = e.what();
      store_failed(e.what(), fx);
    }
  }
  auto send_to = [this](const char* kind, const std::string& text) {
    for (auto& d : devices_) {
      if (d->cfg.kind != kind) continue;
      if (!d->commands->send(zmq::buffer(text), zmq::send_flags::dontwait))
        spdlog::error("device {}: command queue full, dropped {}", d->cfg.name, text);
      return;
    }
  };
  for (const auto& c : fx.sort) send_to("sorter", to_json(c).dump());
  for (const auto& p : fx.print) send_to("printer", to_json(p).dump());
  if (on_publish)
    for (const auto& p : fx.publish) on_publish(p);
  for (const auto& l : fx.log) spdlog::info("{}", l);
}

// Safe state: nothing leaves without its record. The step's sort commands, labels and
// publications are withheld (the PLC's fail-safe takes parcels without a sort command to the
// exception chute), an alarm is raised, and the core goes back to what the store holds, so
// that it does not count capacity or parcels the store never saw.
void Daemon::store_failed(const std::string& what, Effects& fx) {
  store_fault_.withheld_commands += fx.sort.size();
  fx.sort.clear();
  fx.print.clear();
  fx.publish.clear();
  fx.log.clear();
  if (!store_failed_) {
    store_failed_ = true;
    store_fault_.since = now_ms();
    store_fault_.text = "the database cannot be written (" + what +
                        "): parcels go to the exception chute until it can";
    ++store_fault_.episodes;
    spdlog::critical("store: {}: sort commands, labels and publications withheld", what);
    if (on_publish)
      on_publish({"alarm", json{{"key", "store:error"},
                                {"raised", true},
                                {"severity", "error"},
                                {"text", store_fault_.text},
                                {"time", store_fault_.since}}
                               .dump()});
  }
  try {
    core_ = core_from_store(*cfg_);
  } catch (const std::exception& e) {
    spdlog::error("store: cannot read the durable state back ({}): the core keeps its own",
                  e.what());
  }
}

void Daemon::store_recovered() {
  store_failed_ = false;
  const TimeMs now = now_ms();
  spdlog::warn("store: writing again after {} ms; {} sort commands were withheld",
               now - store_fault_.since, store_fault_.withheld_commands);
  // The alarm's raise and clear go into the store's alarm log now that it can hold them.
  std::vector<StoreOp> record{
      StoreAlarm{"store:error", true, "error", store_fault_.text, store_fault_.since},
      StoreAlarm{"store:error", false, "error", store_fault_.text, now}};
  try {
    store_->apply(record);
  } catch (const StoreError& e) {
    spdlog::error("store: recording the store alarm: {}", e.what());
  }
  if (on_publish)
    on_publish({"alarm", json{{"key", "store:error"},
                              {"raised", false},
                              {"severity", "error"},
                              {"text", store_fault_.text},
                              {"time", now}}
                             .dump()});
}

std::unique_ptr<Core> Daemon::core_from_store(const StationConfig& cfg) {
  auto next = std::make_unique<Core>(cfg, orders_, store_->recover(), core_options_);
  next->carry_over(*core_);
  return next;
}

void Daemon::checkpoint_if_idle(std::int64_t idle_ms) {
  if (commits_since_checkpoint_ == 0) return;
  if (idle_ms >= 200 || (commits_since_checkpoint_ > 5000 && idle_ms >= 20)) {
    try {
      store_->checkpoint();
    } catch (const StoreError& e) {
      spdlog::warn("store: checkpoint: {}", e.what());
    }
    commits_since_checkpoint_ = 0;
  }
}

int Daemon::run() {
  sd_notify(0, "READY=1");
  std::uint64_t watchdog_us = 0;
  const bool watchdog = sd_watchdog_enabled(0, &watchdog_us) > 0;
  const std::int64_t started = steady_us();
  std::int64_t last_tick = started, last_event = started, last_watchdog = started,
               last_report = started;
  std::vector<zmq::pollitem_t> items;
  std::vector<Event> batch;
  while (!stopping_) {
    const std::int64_t now_us = steady_us();
    if (opt_.run_seconds > 0 && now_us - started >= std::int64_t(opt_.run_seconds * 1e6)) break;
    items.clear();
    items.push_back({events_->handle(), 0, ZMQ_POLLIN, 0});
    for (auto& [s, _] : extra_) items.push_back({s->handle(), 0, ZMQ_POLLIN, 0});
    const std::int64_t wait_ms =
        std::clamp<std::int64_t>(opt_.tick_ms - (now_us - last_tick) / 1000, 0, opt_.tick_ms);
    try {
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(wait_ms));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
      continue;  // a signal (SIGTERM, SIGHUP): its handler set a flag, the loop looks at it
    }

    if (items[0].revents & ZMQ_POLLIN) {
      batch.clear();
      for (int i = 0; i < 256; ++i) {
        zmq::message_t msg;
        if (!events_->recv(msg, zmq::recv_flags::dontwait)) break;
        try {
          batch.push_back(decode_event(msg.to_string_view()));
        } catch (const CodecError& e) {
          spdlog::warn("event from a driver refused: {}: {}", e.what(), msg.to_string());
        }
      }
      if (!batch.empty()) dispatch_batch(batch, now_ms());
      last_event = steady_us();
    }
    for (std::size_t i = 1; i < items.size(); ++i)
      if (items[i].revents & ZMQ_POLLIN) extra_[i - 1].second();

    const std::int64_t t = steady_us();
    if (t - last_tick >= opt_.tick_ms * 1000) {
      dispatch(Tick{}, now_ms());
      last_tick = t;
      if (on_tick) on_tick();
    }
    checkpoint_if_idle((t - last_event) / 1000);
    if (watchdog && t - last_watchdog >= std::int64_t(watchdog_us / 2)) {
      sd_notify(0, "WATCHDOG=1");
      last_watchdog = t;
    }
    if (t - last_report >= 30'000'000) {
      last_report = t;
      const auto& s = core_->stats();
      spdlog::info(
          "stats: {} reads, {} diverted, {} exceptions, {} in flight; decision p50 {} us, "
          "p99 {} us",
          s.reads, s.diverted, s.exceptions, core_->in_flight(), latency_.percentile(0.5),
          latency_.percentile(0.99));
    }
  }
  sd_notify(0, "STOPPING=1");
  try {
    store_->checkpoint();
  } catch (const StoreError&) {
  }
  return 0;
}

}  // namespace sortd
