// The bus's PUB stream at full speed: messages per second, and the latency from a parcel's
// decision (the dispatch of its read) to its update arriving at a subscriber over TCP on
// loopback; beside a bare ZeroMQ PUB/SUB pair sending messages of the same size in the same
// run. Prints its figures; never fails on them.
//   bench_bus [reads=3000]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "daemon.h"
#include "daemon_bus.h"

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * double(v.size() - 1) + 0.5))];
}

struct Result {
  double msgs_per_s = 0, p50_us = 0, p99_us = 0;
  std::size_t messages = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const int reads = argc > 1 ? std::atoi(argv[1]) : 3000;
  spdlog::set_level(spdlog::level::warn);
  fs::path dir = fs::temp_directory_path() / ("sortd-bench-bus-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string text;
  {
    std::ifstream in(SORTD_SOURCE_DIR "/config/demo-station.toml");
    std::stringstream s;
    s << in.rdbuf();
    text = s.str();
  }
  std::ofstream(dir / "station.toml") << text.substr(0, text.find("[[devices]]"));
  sortd::DaemonOptions o;
  o.config_path = (dir / "station.toml").string();
  o.db_path = (dir / "sortd.db").string();
  o.demo_orders = static_cast<std::size_t>(reads) + 10;
  auto daemon = std::make_unique<sortd::Daemon>(o);
  daemon->start();
  sortd::BusOptions bo;
  bo.pub_endpoint = "tcp://127.0.0.1:*";
  bo.router_endpoint = "tcp://127.0.0.1:*";
  auto bus = std::make_unique<sortd::Bus>(*daemon, bo);
  const auto orders = sortd::make_demo_orders(static_cast<std::size_t>(reads), 42);

  // --- the daemon's stream -------------------------------------------------------------------
  Result bus_r;
  std::size_t bus_bytes = 0;
  {
    zmq::context_t ctx;
    std::map<std::string, std::int64_t> arrived;  // order id -> ns its decision arrived
    std::atomic<bool> ready{false};
    std::atomic<std::size_t> received{0};
    std::int64_t first_ns = 0, last_ns = 0;
    std::size_t bytes = 0;
    std::thread sub_thread([&] {
      zmq::socket_t sub(ctx, zmq::socket_type::sub);
      sub.set(zmq::sockopt::subscribe, "");
      sub.set(zmq::sockopt::rcvhwm, 0);
      sub.connect(bus->pub_endpoint());
      while (true) {
        zmq::message_t t, b;
        if (!sub.recv(t)) continue;
        (void)sub.recv(b);
        const std::int64_t ns = now_ns();
        const std::string topic = t.to_string();
        if (topic == "bench.ready") {
          ready = true;
          continue;
        }
        if (topic == "bench.end") break;
        if (!ready) continue;
        if (!first_ns) first_ns = ns;
        last_ns = ns;
        bytes += b.size();
        ++received;
        if (topic == "parcel.decided" || topic == "parcel.exception") {
          json j = json::parse(b.to_string_view(), nullptr, false);
          if (!j.is_discarded() && !j.contains("state"))
            arrived.emplace(j.value("order_id", ""), ns);
        }
      }
    });
    // The subscription takes a moment to reach the publisher: announce until it is heard.
    while (!ready) {
      bus->publish("bench.ready", "{}");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::vector<std::int64_t> sent(orders.size());
    const std::int64_t t0 = now_ns();
    for (std::size_t i = 0; i < orders.size(); ++i) {
      sent[i] = now_ns();
      daemon->dispatch(sortd::ScanRead{"scanner-1", 0, {{orders[i].codes.at(0), ""}}, false},
                       sortd::Daemon::now_ms());
    }
    const std::int64_t t1 = now_ns();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    bus->publish("bench.end", "{}");
    sub_thread.join();
    std::vector<double> lat;
    for (std::size_t i = 0; i < orders.size(); ++i) {
      auto it = arrived.find(orders[i].id);
      if (it != arrived.end()) lat.push_back(double(it->second - sent[i]) / 1000.0);
    }
    bus_r.messages = received;
    bus_r.msgs_per_s = double(received) / (double(std::max(last_ns, t1) - t0) / 1e9);
    bus_r.p50_us = pct(lat, 0.5);
    bus_r.p99_us = pct(lat, 0.99);
    bus_bytes = received ? bytes / received : 0;
    std::printf("bus: %d reads dispatched in %.2f s (%.0f reads/s, each a durable commit)\n", reads,
                double(t1 - t0) / 1e9, reads / (double(t1 - t0) / 1e9));
    std::printf("bus: %zu messages, %zu bytes on average, %.0f messages/s\n", received.load(),
                bus_bytes, bus_r.msgs_per_s);
    std::printf("bus: decision -> subscriber latency p50 %.0f us, p99 %.0f us (%zu parcels)\n",
                bus_r.p50_us, bus_r.p99_us, lat.size());
  }

  // --- the bus's PUB path at full speed, beside a bare PUB/SUB: same body size, same receiver --
  // Each body is a JSON object carrying its send time; the receiver reads it back the same way.
  const std::size_t n = 200000;
  const std::size_t size = std::max<std::size_t>(bus_bytes, 64);
  auto make_body = [&](std::int64_t ns) {
    std::string b = "{\"t\":" + std::to_string(ns) + ",\"pad\":\"";
    b.append(size > b.size() + 2 ? size - b.size() - 2 : 0, 'x');
    return b + "\"}";
  };
  auto receive = [&](zmq::context_t& ctx, const std::string& ep, std::atomic<bool>& ready,
                     std::vector<double>& lat, std::int64_t& last_ns) {
    zmq::socket_t sub(ctx, zmq::socket_type::sub);
    sub.set(zmq::sockopt::subscribe, "");
    sub.set(zmq::sockopt::rcvhwm, 0);
    sub.connect(ep);
    while (true) {
      zmq::message_t t, b;
      if (!sub.recv(t)) continue;
      (void)sub.recv(b);
      const std::int64_t ns = now_ns();
      const std::string_view topic = t.to_string_view();
      if (topic == "bench.ready") {
        ready = true;
        continue;
      }
      if (topic == "bench.end") break;
      if (!ready) continue;
      const std::string_view body = b.to_string_view();
      auto at = body.find("\"t\":");
      if (at == std::string_view::npos) continue;
      lat.push_back(double(ns - std::strtoll(body.data() + at + 4, nullptr, 10)) / 1000.0);
      last_ns = ns;
    }
  };
  auto run = [&](const char* name, const std::string& ep, zmq::context_t& ctx,
                 const std::function<void(const std::string&, const std::string&)>& send) {
    std::atomic<bool> ready{false};
    std::vector<double> lat;
    lat.reserve(n);
    std::int64_t last_ns = 0;
    std::thread th([&] { receive(ctx, ep, ready, lat, last_ns); });
    while (!ready) {
      send("bench.ready", "{}");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const std::int64_t t0 = now_ns();
    for (std::size_t i = 0; i < n; ++i) send("parcel.decided", make_body(now_ns()));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    send("bench.end", "{}");
    th.join();
    Result r;
    r.messages = lat.size();
    r.msgs_per_s = double(lat.size()) / (double(last_ns - t0) / 1e9);
    r.p50_us = pct(lat, 0.5);
    r.p99_us = pct(lat, 0.99);
    std::printf(
        "%s: %zu of %zu messages of ~%zu bytes, %.0f messages/s, latency p50 %.0f us, "
        "p99 %.0f us\n",
        name, r.messages, n, size, r.msgs_per_s, r.p50_us, r.p99_us);
    return r;
  };
  Result bus_path = run("bus PUB path", bus->pub_endpoint(), daemon->zmq(),
                        [&](const std::string& t, const std::string& b) { bus->publish(t, b); });
  bus.reset();
  daemon.reset();
  fs::remove_all(dir);
  Result bare;
  {
    zmq::context_t ctx;
    zmq::socket_t pub(ctx, zmq::socket_type::pub);
    pub.set(zmq::sockopt::sndhwm, 100000);  // as the bus
    pub.bind("tcp://127.0.0.1:*");
    bare = run("bare zmq PUB", pub.get(zmq::sockopt::last_endpoint), ctx,
               [&](const std::string& t, const std::string& b) {
                 pub.send(zmq::buffer(t), zmq::send_flags::sndmore);
                 pub.send(zmq::buffer(b));
               });
  }
  std::printf("ratio bus PUB path / bare: throughput %.2f, latency p50 %.2fx, p99 %.2fx\n",
              bare.msgs_per_s > 0 ? bus_path.msgs_per_s / bare.msgs_per_s : 0,
              bare.p50_us > 0 ? bus_path.p50_us / bare.p50_us : 0,
              bare.p99_us > 0 ? bus_path.p99_us / bare.p99_us : 0);
  return 0;
}
