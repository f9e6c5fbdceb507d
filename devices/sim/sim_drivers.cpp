#include "sim_drivers.h"

#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "codec.h"
#include "demo_stream.h"

namespace sortd::dev {

namespace {

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string opt(const StationConfig::Device& d, const std::string& key, const std::string& dflt) {
  auto it = d.options.find(key);
  return it == d.options.end() ? dflt : it->second;
}
double opt_num(const StationConfig::Device& d, const std::string& key, double dflt) {
  auto it = d.options.find(key);
  if (it == d.options.end()) return dflt;
  return std::stod(it->second);
}

// Checks that every option is known and numeric options are numbers in range.
std::vector<std::string> check_options(const StationConfig::Device& d,
                                       const std::map<std::string, std::pair<double, double>>& nums,
                                       const std::set<std::string>& strings) {
  std::vector<std::string> errs;
  for (const auto& [k, v] : d.options) {
    auto n = nums.find(k);
    if (n != nums.end()) {
      try {
        std::size_t pos = 0;
        double x = std::stod(v, &pos);
        if (pos != v.size()) throw std::invalid_argument(v);
        if (x < n->second.first || x > n->second.second)
          errs.push_back(k + ": " + v + " is out of range [" + std::to_string(n->second.first) +
                         ", " + std::to_string(n->second.second) + "]");
      } catch (const std::exception&) {
        errs.push_back(k + ": '" + v + "' is not a number");
      }
    } else if (!strings.count(k)) {
      errs.push_back(k + ": unknown option for a sim device");
    }
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------
// The simulated loop sorter: inducts demo parcels, takes sort commands, diverts, recirculates
// when a chute is full, loses a parcel now and then, and sends a parcel that got no command by
// its deadline to the exception chute (the PLC's fail-safe).
class SimSorter : public Driver {
 public:
  SimSorter(const StationConfig::Device& d, const StationConfig& cfg)
      : name_(d.name),
        belt_(opt(d, "belt", "main")),
        rate_(opt_num(d, "rate", 4.0)),
        lost_(opt_num(d, "lost", 0.003)),
        chute_capacity_(static_cast<int>(opt_num(d, "chute_capacity", 60))),
        empty_after_ms_(static_cast<int>(opt_num(d, "empty_after_s", 20) * 1000)),
        scan_delay_ms_(static_cast<int>(opt_num(d, "scan_delay_ms", cfg.scan_delay_ms))),
        travel_ms_(static_cast<int>(opt_num(d, "travel_ms", 1500))),
        deadline_ms_(static_cast<int>(opt_num(d, "deadline_ms", 1200))),
        loop_ms_(static_cast<int>(opt_num(d, "loop_ms", 4000))),
        rng_(static_cast<std::uint64_t>(opt_num(d, "seed", 42))),
        stream_(DemoStreamOptions{static_cast<std::size_t>(opt_num(d, "demo_orders", 20000)),
                                  static_cast<std::uint64_t>(opt_num(d, "seed", 42)),
                                  opt_num(d, "no_read", 0.03), opt_num(d, "unknown", 0.02),
                                  opt_num(d, "multi", 0.01), opt_num(d, "duplicate", 0.02)}) {
    for (const auto& l : cfg.lanes) {
      if (l.kind == LaneKind::Exception && l.takes.empty()) exception_chute_ = l.chute;
      chutes_[l.chute] = {};
    }
    if (!exception_chute_)
      for (const auto& l : cfg.lanes)
        if (l.kind == LaneKind::Exception) exception_chute_ = l.chute;
    exception_chute_ = static_cast<int>(opt_num(d, "exception_chute", exception_chute_));
  }

  void run(DriverIo& io, std::stop_token stop) override {
    io.emit(DeviceStatus{name_, DeviceKind::Sorter, true, "simulated loop sorter"});
    std::int64_t next_induct = steady_ms() + 500;
    while (!stop.stop_requested()) {
      const std::int64_t now = steady_ms();
      if (rate_ > 0 && now >= next_induct) {
        induct(io, now);
        next_induct = now + static_cast<std::int64_t>(1000.0 / rate_);
      }
      move_belt(io, now);
      if (auto cmd = io.next_command(5)) handle_command(io, *cmd);
    }
  }

 private:
  struct OnBelt {
    std::uint32_t tid = 0;
    std::int64_t deadline = 0, divert_at = 0;
    std::uint32_t seq = 0;
    int chute = 0;
  };
  struct Chute {
    int fill = 0;
    bool full = false;
    std::int64_t empty_at = 0;
  };

  void induct(DriverIo& io, std::int64_t now) {
    SimParcel p;
    p.tracking_id = next_tid_++;
    p.scan_at_ms = now + scan_delay_ms_;
    p.codes = stream_.next();
    belt_parcels_.push_back(OnBelt{p.tracking_id, now + deadline_ms_, now + travel_ms_, 0, 0});
    io.emit(ParcelInducted{p.tracking_id});
    SimBelt::get(belt_).put(std::move(p));
  }

  void handle_command(DriverIo& io, const std::string& text) {
    SortCommand c;
    try {
      c = sort_command_from_json(nlohmann::json::parse(text));
    } catch (const std::exception& e) {
      spdlog::warn("{}: bad sort command ignored: {}", name_, e.what());
      return;
    }
    if (acked_.count(c.seq)) {  // a repeated sequence is the same command
      io.emit(SortAcked{c.seq});
      return;
    }
    for (auto& b : belt_parcels_) {
      if (b.tid != c.tracking_id) continue;
      if (steady_ms() <= b.deadline) {
        b.seq = c.seq;
        b.chute = c.chute;
      }
      acked_.insert(c.seq);
      io.emit(SortAcked{c.seq});
      return;
    }
    // No such parcel on the belt (gone already): acknowledge so the host does not resend;
    // the confirmation tells what happened.
    acked_.insert(c.seq);
    io.emit(SortAcked{c.seq});
  }

  void move_belt(DriverIo& io, std::int64_t now) {
    for (auto& [chute, c] : chutes_) {
      if (c.full && now >= c.empty_at) {
        c = Chute{};
        io.emit(ChuteState{chute, false, true});
      }
    }
    std::uniform_real_distribution<double> u(0, 1);
    for (auto it = belt_parcels_.begin(); it != belt_parcels_.end();) {
      if (now < it->divert_at) {
        ++it;
        continue;
      }
      OnBelt& b = *it;
      if (b.seq == 0) {  // fail-safe: no command by the deadline
        io.emit(DivertConfirmed{0, b.tid, exception_chute_, DivertOutcome::Diverted});
        it = belt_parcels_.erase(it);
        continue;
      }
      if (u(rng_) < lost_) {
        io.emit(DivertConfirmed{b.seq, b.tid, 0, DivertOutcome::Lost});
        it = belt_parcels_.erase(it);
        continue;
      }
      Chute& c = chutes_[b.chute];
      if (c.full) {
        io.emit(DivertConfirmed{b.seq, b.tid, b.chute, DivertOutcome::Recirculated});
        b.seq = 0;
        b.chute = 0;
        b.divert_at = now + loop_ms_;
        b.deadline = now + loop_ms_ - (travel_ms_ - deadline_ms_);
        ++it;
        continue;
      }
      io.emit(DivertConfirmed{b.seq, b.tid, b.chute, DivertOutcome::Diverted});
      if (b.chute != exception_chute_ && ++c.fill >= chute_capacity_) {
        c.full = true;
        c.empty_at = now + empty_after_ms_;
        io.emit(ChuteState{b.chute, true, true});
      }
      it = belt_parcels_.erase(it);
    }
  }

  std::string name_, belt_;
  double rate_, lost_;
  int chute_capacity_, empty_after_ms_, scan_delay_ms_, travel_ms_, deadline_ms_, loop_ms_;
  int exception_chute_ = 0;
  std::mt19937_64 rng_;
  DemoStream stream_;
  std::uint32_t next_tid_ = 1;
  std::deque<OnBelt> belt_parcels_;
  std::map<int, Chute> chutes_;
  std::set<std::uint32_t> acked_;
};

// The simulated scanner: reads each parcel as it passes, echoing the PLC's tracking id (like a
// reader triggered by the PLC) unless echo_tracking = false.
class SimScanner : public Driver {
 public:
  SimScanner(const StationConfig::Device& d, const StationConfig&)
      : name_(d.name),
        belt_(opt(d, "belt", "main")),
        echo_(opt(d, "echo_tracking", "true") == "true") {}

  void run(DriverIo& io, std::stop_token stop) override {
    io.emit(DeviceStatus{name_, DeviceKind::Scanner, true, "simulated scanner"});
    SimParcel p;
    while (!stop.stop_requested()) {
      if (!SimBelt::get(belt_).take(p, 100)) continue;
      ScanRead r;
      r.scanner = name_;
      r.tracking_id = echo_ ? p.tracking_id : 0;
      r.no_read = p.codes.empty();
      for (auto& c : p.codes) r.codes.push_back({c, "C0"});
      io.emit(r);
    }
  }

 private:
  std::string name_, belt_;
  bool echo_;
};

// The simulated printer: takes every job and reports it printed.
class SimPrinter : public Driver {
 public:
  SimPrinter(const StationConfig::Device& d, const StationConfig&) : name_(d.name) {}

  void run(DriverIo& io, std::stop_token stop) override {
    io.emit(DeviceStatus{name_, DeviceKind::Printer, true, "simulated printer"});
    while (!stop.stop_requested()) {
      auto cmd = io.next_command(100);
      if (!cmd) continue;
      try {
        PrintJob job = print_job_from_json(nlohmann::json::parse(*cmd));
        io.emit(PrintFinished{job.job_id, JobOutcome::Printed, name_, ""});
      } catch (const std::exception& e) {
        spdlog::warn("{}: bad print job ignored: {}", name_, e.what());
      }
    }
  }

 private:
  std::string name_;
};

}  // namespace

SimBelt& SimBelt::get(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<SimBelt>> belts;
  std::lock_guard lk(mu);
  auto& b = belts[name];
  if (!b) b = std::make_unique<SimBelt>();
  return *b;
}

void SimBelt::put(SimParcel p) {
  {
    std::lock_guard lk(mu_);
    q_.push_back(std::move(p));
  }
  cv_.notify_all();
}

bool SimBelt::take(SimParcel& out, int timeout_ms) {
  using clock = std::chrono::steady_clock;
  std::unique_lock lk(mu_);
  const auto until = clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const std::int64_t due = q_.empty() ? 0 : q_.front().scan_at_ms - steady_ms();
    if (!q_.empty() && due <= 0) {
      out = std::move(q_.front());
      q_.pop_front();
      return true;
    }
    const auto now = clock::now();
    if (now >= until) return false;
    auto wake = until;
    if (!q_.empty()) wake = std::min(until, now + std::chrono::milliseconds(due));
    cv_.wait_until(lk, wake);
  }
}

std::vector<DriverInfo> sim_drivers() {
  const std::set<std::string> common{"belt"};
  return {
      {"sorter", "sim", "simulated loop sorter feeding demo parcels (in-process)",
       [](const auto& d, const auto& cfg) { return std::make_unique<SimSorter>(d, cfg); },
       [common](const auto& d) {
         return check_options(d,
                              {{"rate", {0, 1000}},
                               {"no_read", {0, 1}},
                               {"unknown", {0, 1}},
                               {"multi", {0, 1}},
                               {"duplicate", {0, 1}},
                               {"lost", {0, 1}},
                               {"chute_capacity", {1, 100000}},
                               {"empty_after_s", {0, 86400}},
                               {"scan_delay_ms", {0, 60000}},
                               {"travel_ms", {1, 60000}},
                               {"deadline_ms", {1, 60000}},
                               {"loop_ms", {1, 600000}},
                               {"seed", {0, 1e15}},
                               {"demo_orders", {1, 1e7}},
                               {"exception_chute", {0, 65535}}},
                              common);
       }},
      {"scanner", "sim", "simulated scanner reading the simulated belt (in-process)",
       [](const auto& d, const auto& cfg) { return std::make_unique<SimScanner>(d, cfg); },
       [common](const auto& d) {
         auto s = common;
         s.insert("echo_tracking");
         return check_options(d, {}, s);
       }},
      {"printer", "sim", "simulated printer that prints every job (in-process)",
       [](const auto& d, const auto& cfg) { return std::make_unique<SimPrinter>(d, cfg); },
       [](const auto& d) { return check_options(d, {}, {}); }},
  };
}

}  // namespace sortd::dev
