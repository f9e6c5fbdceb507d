// bench_modbus: how long a sort command takes from PlcClient::send_command() to the PLC's
// acknowledgement (SortAcked), over Modbus TCP on loopback against `sort-sim plc` running in
// this process, beside a bare libmodbus FC16 write of the same five registers to the same
// server in the same run. Prints p50 / p99 / p99.9 and the ratios (goal: driver <= 1.3 x bare).
// It never fails on its figures.
//   bench_modbus [iterations]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <modbus/modbus.h>
#include <spdlog/spdlog.h>

#include "plc_sim.h"
#include "sorter/plc_client.h"

using Clock = std::chrono::steady_clock;

namespace {

struct Stats {
  double p50, p99, p999, mean;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, std::size_t(q * double(v.size())))]; };
  double sum = 0;
  for (double x : v) sum += x;
  return {at(0.50), at(0.99), at(0.999), sum / double(v.size())};
}

void print(const char* name, const Stats& s) {
  std::printf("  %-34s p50 %8.1f us   p99 %8.1f us   p99.9 %8.1f us   mean %8.1f us\n", name, s.p50,
              s.p99, s.p999, s.mean);
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 3000;
  if (n < 100) n = 100;
  spdlog::set_level(spdlog::level::err);

  sortd::sim::PlcSimOptions so;
  so.manual_clock = true;  // parcels stay before their deadline: every command is accepted
  so.control_port = -1;
  sortd::sim::PlcSim sim(so);
  sim.start();
  // One parcel per command, inducted before the client connects (it skips ring history).
  int total = 3 * (n + 200);
  std::vector<std::uint32_t> tids;
  for (int i = 0; i < total; ++i) tids.push_back(std::stoul(sim.control("induct").substr(3)));
  std::size_t next_tid = 0;
  std::uint32_t seq = 1;

  // The three ways are interleaved command by command, so that the load of a shared machine
  // falls on all of them alike.
  auto make_client = [&](bool fc23) {
    sortd::sorter::PlcOptions o;
    o.port = sim.modbus_port();
    o.fc23 = fc23;
    o.poll_interval_ms = 20;
    auto c = std::make_unique<sortd::sorter::PlcClient>(o);
    while (!c->up()) c->poll();
    return c;
  };
  auto c16 = make_client(false);
  auto c23 = make_client(true);
  modbus_t* ctx = modbus_new_tcp("127.0.0.1", sim.modbus_port());
  modbus_set_slave(ctx, 1);
  if (modbus_connect(ctx) == -1) {
    std::fprintf(stderr, "bench_modbus: connect: %s\n", modbus_strerror(errno));
    return 1;
  }
  auto one_client = [&](sortd::sorter::PlcClient& c, int i) {
    std::uint32_t s = seq++;
    auto t0 = Clock::now();
    c.send_command({s, tids[next_tid++], 1 + i % 11});
    bool acked = false;
    while (!acked)
      for (auto& e : c.poll())
        if (auto* a = std::get_if<sortd::SortAcked>(&e); a && a->seq == s) acked = true;
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  };
  auto one_bare = [&](int i) {
    std::uint32_t s = seq++, tid = tids[next_tid++];
    std::uint16_t regs[5] = {std::uint16_t(s >> 16), std::uint16_t(s), std::uint16_t(tid >> 16),
                             std::uint16_t(tid), std::uint16_t(1 + i % 11)};
    auto t0 = Clock::now();
    if (modbus_write_registers(ctx, 0, 5, regs) != 5) {
      std::fprintf(stderr, "bench_modbus: write: %s\n", modbus_strerror(errno));
      std::exit(1);
    }
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  };
  std::vector<double> lb, l16, l23;
  for (int i = 0; i < n + 200; ++i) {
    double b = one_bare(i), x = one_client(*c16, i), y = one_client(*c23, i);
    if (i < 200) continue;  // warm-up
    lb.push_back(b);
    l16.push_back(x);
    l23.push_back(y);
  }
  modbus_close(ctx);
  modbus_free(ctx);
  auto bare = stats(lb), fc16 = stats(l16), fc23 = stats(l23);
  std::printf("bench_modbus: sort command -> PLC ack over Modbus TCP loopback, %d commands each\n",
              n);
  print("bare libmodbus FC16 write (5 regs)", bare);
  print("driver, write = fc16 (FC16 + FC3)", fc16);
  print("driver, write = fc23 (one FC23)", fc23);
  std::printf(
      "  ratio driver/bare  fc16: p50 %.2f p99 %.2f   fc23: p50 %.2f p99 %.2f   "
      "(goal <= 1.3)\n",
      fc16.p50 / bare.p50, fc16.p99 / bare.p99, fc23.p50 / bare.p50, fc23.p99 / bare.p99);
  sim.stop();
  return 0;
}
