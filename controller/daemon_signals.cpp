// sortd as a system service: the journal, and SIGHUP reloading the configuration (see
// daemon_signals.h).
#include "daemon_signals.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <nlohmann/json.hpp>

#include "daemon.h"

namespace sortd {

bool stderr_is_journal() {
  const char* js = std::getenv("JOURNAL_STREAM");
  if (!js || !*js) return false;
  unsigned long long dev = 0, ino = 0;
  char tail = 0;
  if (std::sscanf(js, "%llu:%llu%c", &dev, &ino, &tail) != 2) return false;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

bool setup_logging(const std::string& ident, bool force_journal) {
  const bool journal = force_journal || stderr_is_journal();
  if (!journal) return false;
  // The journal adds its own time stamp, unit, pid and priority: send the bare message.
  auto sink = std::make_shared<spdlog::sinks::systemd_sink_mt>(ident, false);
  auto logger = std::make_shared<spdlog::logger>(ident, sink);
  logger->set_level(spdlog::get_level());
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  return true;
}

namespace {

bool same_device(const StationConfig::Device& a, const StationConfig::Device& b) {
  return a.name == b.name && a.kind == b.kind && a.driver == b.driver && a.options == b.options;
}

using Devices = std::vector<StationConfig::Device>;

std::vector<std::string> changed_devices(const Devices& before, const Devices& after) {
  std::vector<std::string> out;
  for (const auto& n : after) {
    auto it =
        std::find_if(before.begin(), before.end(), [&](const auto& o) { return o.name == n.name; });
    if (it == before.end())
      out.push_back(n.name + " (added)");
    else if (!same_device(*it, n))
      out.push_back(n.name + " (changed)");
  }
  for (const auto& o : before)
    if (std::none_of(after.begin(), after.end(), [&](const auto& n) { return n.name == o.name; }))
      out.push_back(o.name + " (removed)");
  return out;
}

void notify_status(const std::string& status) {
  sd_notify(0, ("READY=1\nSTATUS=" + status).c_str());
}

}  // namespace

ReloadResult reload_config(Daemon& d, const std::string& path, const std::string& why,
                           const Devices* started) {
  ReloadResult r;
  r.source = path;
  sd_notify(0, "RELOADING=1");
  spdlog::info("configuration reload ({}): checking {}", why, path);
  std::unique_ptr<StationConfig> next;
  try {
    next = std::make_unique<StationConfig>(load_config_file(path));
    check_devices(*next);
  } catch (const ConfigError& e) {
    for (const auto& i : e.issues()) r.errors.push_back(i.str());
  } catch (const std::exception& e) {
    r.errors.push_back(path + ": " + e.what());
  }
  if (r.errors.empty()) {
    // What the file changed, against the configuration running now (before activate()
    // replaces it).
    r.devices_changed = changed_devices(started ? *started : d.config().devices, next->devices);
    std::vector<std::pair<int, bool>> lane_switches;
    for (const auto& nl : next->lanes)
      if (const Lane* ol = d.config().lane(nl.id); ol && ol->enabled != nl.enabled)
        lane_switches.emplace_back(nl.id, nl.enabled);
    try {
      d.activate(std::move(*next));
      r.activated = true;
      // The store keeps each lane's run-time state (operators enable and disable lanes) and
      // the new core starts from it; a lane whose `enabled` the file changed is switched as an
      // operator command would, so the edit takes effect (and is audited).
      for (const auto& [lane, enabled] : lane_switches) {
        spdlog::info("configuration reload: lane {} {} by the file", lane,
                     enabled ? "enabled" : "disabled");
        d.dispatch(LaneSet{lane, enabled, "config:" + why}, Daemon::now_ms());
      }
    } catch (const std::exception& e) {
      r.errors.push_back(std::string("cannot activate: ") + e.what());
    }
  }

  const TimeMs now = Daemon::now_ms();
  nlohmann::json detail = {{"config", path}, {"signal", why}};
  if (r.activated) {
    for (const auto& dev : r.devices_changed)
      spdlog::warn(
          "configuration reload: device {}: device changes take effect at the next restart "
          "(systemctl restart sortd); the driver keeps its old options",
          dev);
    spdlog::info("configuration reload: {} activated ({} couriers, {} lanes)", path,
                 d.config().couriers.size(), d.config().lanes.size());
    detail["couriers"] = d.config().couriers.size();
    detail["lanes"] = d.config().lanes.size();
    if (!r.devices_changed.empty()) detail["devices_need_restart"] = r.devices_changed;
    notify_status("configuration " + path + " reloaded");
  } else {
    for (const auto& e : r.errors) spdlog::error("configuration reload refused: {}", e);
    spdlog::error(
        "configuration reload: {} has {} problem(s); the running configuration ({}) stays", path,
        r.errors.size(), d.config().source);
    detail["errors"] = r.errors;
    notify_status("reload of " + path + " refused (" + std::to_string(r.errors.size()) +
                  " problems); running the previous configuration");
  }
  try {
    d.store().apply(
        {StoreAudit{"config:" + why, r.activated ? "config.reload" : "config.reload_refused",
                    detail.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), now}});
  } catch (const std::exception& e) {
    spdlog::warn("configuration reload: audit not written: {}", e.what());
  }
  if (r.activated && d.on_publish)
    d.on_publish({"config", nlohmann::json{{"reason", "configuration reloaded (" + why + ")"},
                                           {"source", path},
                                           {"user", "config:" + why}}
                                .dump()});
  return r;
}

// ---------------------------------------------------------------------------------------------
// SIGHUP

namespace {
std::atomic<int> g_hup_pending{0};
std::atomic<bool> g_installed{false};
struct sigaction g_previous {};

extern "C" void on_sighup(int) {
  // Async-signal-safe: a lock-free atomic store, nothing else.
  g_hup_pending.store(1, std::memory_order_relaxed);
}
}  // namespace

namespace {
sigset_t service_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}
}  // namespace

WorkerSignalMask::WorkerSignalMask() {
  const sigset_t set = service_signals();
  held_ = ::pthread_sigmask(SIG_BLOCK, &set, &old_) == 0;
}
WorkerSignalMask::~WorkerSignalMask() {
  release();
}
void WorkerSignalMask::release() {
  if (!held_) return;
  ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  held_ = false;
}
void WorkerSignalMask::unblock_in_this_thread() {
  const sigset_t set = service_signals();
  ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

struct ReloadOnSighup::State {
  Daemon* daemon = nullptr;
  std::atomic<bool> alive{true};
  std::atomic<std::uint64_t> activated{0}, refused{0};
  std::vector<StationConfig::Device> started;  // what the drivers run with
  std::mutex mu;  // guards on_reload (set from another thread, called on the loop thread)
  std::function<void(const ReloadResult&)> on_reload;
};

ReloadOnSighup::ReloadOnSighup(Daemon& d) : state_(std::make_shared<State>()) {
  if (g_installed.exchange(true))
    throw std::logic_error("ReloadOnSighup: already installed in this process");
  state_->daemon = &d;
  state_->started = d.config().devices;
  g_hup_pending = 0;
  // Compose with the loop's tick (the bus's heartbeats): the tick runs on the loop thread,
  // which owns the core, so the reload needs no lock. The lambda holds the state, not this.
  auto previous = d.on_tick;
  std::weak_ptr<State> weak = state_;
  d.on_tick = [previous, weak] {
    if (previous) previous();
    auto s = weak.lock();
    if (!s || !s->alive) return;
    if (g_hup_pending.exchange(0, std::memory_order_relaxed) == 0) return;
    ReloadResult r =
        reload_config(*s->daemon, s->daemon->options().config_path, "SIGHUP", &s->started);
    (r.activated ? s->activated : s->refused).fetch_add(1);
    std::function<void(const ReloadResult&)> cb;
    {
      std::lock_guard<std::mutex> lk(s->mu);
      cb = s->on_reload;
    }
    if (cb) cb(r);
  };
  struct sigaction sa {};
  sa.sa_handler = on_sighup;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (::sigaction(SIGHUP, &sa, &g_previous) != 0) {
    g_installed = false;
    throw std::runtime_error(std::string("sigaction(SIGHUP): ") + std::strerror(errno));
  }
}

ReloadOnSighup::~ReloadOnSighup() {
  ::sigaction(SIGHUP, &g_previous, nullptr);
  state_->alive = false;
  g_hup_pending = 0;
  g_installed = false;
}

std::uint64_t ReloadOnSighup::activated() const {
  return state_->activated.load();
}
std::uint64_t ReloadOnSighup::refused() const {
  return state_->refused.load();
}
void ReloadOnSighup::on_reload(std::function<void(const ReloadResult&)> f) {
  std::lock_guard<std::mutex> lk(state_->mu);
  state_->on_reload = std::move(f);
}

}  // namespace sortd
