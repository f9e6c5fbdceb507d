// Shared helpers of the scanner driver tests: a Host that records what a driver emits, and
// building a driver's config from TOML-style options.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "scanner/scanner.h"

namespace scanner_test {

using namespace std::chrono_literals;

// Generous: a deadline for a failing test, not a performance threshold.
constexpr auto kWait = std::chrono::seconds(20);

class Recorder {
 public:
  Recorder() {
    host.emit = [this](const sortd::Event& e) {
      std::lock_guard lock(mu_);
      events_.push_back(e);
      cv_.notify_all();
    };
    host.command = [this]() -> std::optional<std::string> {
      std::lock_guard lock(mu_);
      if (commands_.empty()) return std::nullopt;
      auto c = commands_.front();
      commands_.pop_front();
      return c;
    };
  }
  void command(std::string json) {
    std::lock_guard lock(mu_);
    commands_.push_back(std::move(json));
  }
  // The next read (skipping status events, which are kept for next_status).
  std::optional<sortd::ScanRead> next_read(std::chrono::milliseconds timeout = kWait) {
    return next<sortd::ScanRead>(timeout);
  }
  std::optional<sortd::DeviceStatus> next_status(std::chrono::milliseconds timeout = kWait) {
    return next<sortd::DeviceStatus>(timeout);
  }
  // Waits for a status with the given `up`, dropping the others.
  bool wait_status(bool up, std::chrono::milliseconds timeout = kWait) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      auto s = next_status(std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now()));
      if (s && s->up == up) return true;
    }
    return false;
  }
  std::size_t pending_reads() {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (auto& e : events_) n += std::holds_alternative<sortd::ScanRead>(e);
    return n;
  }

  sortd::dev::scanner::Host host;

 private:
  template <class T>
  std::optional<T> next(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    std::optional<T> out;
    cv_.wait_for(lock, timeout, [&] {
      for (auto it = events_.begin(); it != events_.end(); ++it)
        if (auto* p = std::get_if<T>(&*it)) {
          out = *p;
          events_.erase(it);
          return true;
        }
      return false;
    });
    return out;
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<sortd::Event> events_;
  std::deque<std::string> commands_;
};

inline sortd::StationConfig::Device device(const std::string& driver,
                                           std::map<std::string, std::string> opts) {
  sortd::StationConfig::Device d;
  d.name = "scan-test";
  d.kind = "scanner";
  d.driver = driver;
  d.options = std::move(opts);
  return d;
}

// Reads the config as the registry does and fails the test on any option problem.
template <class Config, class Read>
Config config(const sortd::StationConfig::Device& d, Read read) {
  sortd::dev::scanner::Options o(d);
  Config c = read(o);
  auto problems = o.finish();
  for (const auto& p : problems) BOOST_TEST_MESSAGE("option problem: " << p);
  BOOST_REQUIRE(problems.empty());
  return c;
}

inline std::vector<std::string> texts(const sortd::ScanRead& r) {
  std::vector<std::string> v;
  for (const auto& c : r.codes) v.push_back(c.text);
  return v;
}

}  // namespace scanner_test
