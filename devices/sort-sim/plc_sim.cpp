#include "plc_sim.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <random>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <modbus/modbus.h>

#include "sim_net.h"

namespace sortd::sim {

using namespace sortd::sorter;
using Clock = std::chrono::steady_clock;

namespace {

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> split(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> w;
  std::string s;
  while (in >> s) w.push_back(s);
  return w;
}

bool to_int(const std::string& s, long long& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

const char* kHelp =
    "commands: induct [weight_g [length_mm width_mm height_mm]] | fill <chute> | empty <chute> | "
    "disable <chute> | enable <chute> | fault <code> | delay <ms> [count] | "
    "exception <fc> <count> [code] | drop-connection | down <ms> | lose <tracking-id|next> | "
    "wrong-chute next | restart | freeze-heartbeat on|off | advance <ms> | rate <per-minute> | "
    "set <speed_mm_s|decision_mm|capacity|max_laps> <value> | parcel <tracking-id> | stats | "
    "help | quit";

}  // namespace

struct PlcSim::Impl {
  PlcSimOptions o;
  std::mutex mu;
  std::atomic<bool> stopping{false};
  int wake[2] = {-1, -1};

  // Modbus.
  modbus_t* mb = nullptr;  // server context (TCP or RTU)
  modbus_mapping_t* map = nullptr;
  int listen_fd = -1;
  std::vector<int> clients;
  long long listen_again_at = 0;  // `down`: reopen the listener at this time
  int port = 0;
  // Control port: its own thread, each command under `mu`.
  std::unique_ptr<dev::LineControlServer> ctl;
  int ctl_port = 0;

  // Misbehaviour knobs.
  int delay_ms = 0, delay_count = 0;  // count < 0: every request
  int exc_fc = 0, exc_count = 0, exc_code = MODBUS_EXCEPTION_SLAVE_OR_SERVER_BUSY;
  bool lose_next = false, wrong_next = false, freeze_hb = false;
  std::uint16_t fault = 0;

  // The conveyor.
  struct Parcel {
    std::uint32_t tid = 0;
    double pos = 0;  // mm from the scan zone, within the current lap
    int lap = 0;
    bool decided = false;   // passed the decision point this lap
    bool has_cmd = false;   // a command is bound for this lap
    std::uint32_t seq = 0;  // bound command (0 = none)
    int chute = 0;          // commanded chute
    int target = 0;         // fixed at the decision point
    bool failsafe = false;  // target is the exception chute by the fail-safe
    bool lose = false;
  };
  std::deque<Parcel> belt;
  struct Record {
    std::string state = "on-belt";
    int chute = 0, diverts = 0, laps = 0;
    std::uint32_t seq = 0;
  };
  std::map<std::uint32_t, Record> records;  // every parcel of this boot
  std::vector<int> fill;                    // per chute (1-based)
  std::vector<bool> forced_full, enabled;
  std::uint16_t boot_id = 1;
  std::uint32_t inducted = 0;
  std::uint32_t last_mailbox_seq = 0;
  std::map<std::uint32_t, std::uint16_t> history;  // seq -> ack result
  std::deque<std::uint32_t> history_order;
  std::uint16_t conf_next = 0, ind_next = 0, meas_next = 0;
  std::map<std::string, long long> stats;
  double induct_acc = 0;

  // Clocks.
  long long sim_ms = 0;  // conveyor time
  long long last_real = 0, last_hb = 0, host_hb_seen_at = 0;
  std::uint16_t host_hb = 0;
  std::uint16_t plc_hb = 0;

  std::mt19937 rng{std::random_device{}()};
  std::FILE* journal_file = nullptr;

  template <class... A>
  void journal(fmt::format_string<A...> f, A&&... a) {
    if (!journal_file) return;
    fmt::print(journal_file, "{}\n", fmt::format(f, std::forward<A>(a)...));
    std::fflush(journal_file);
  }

  explicit Impl(PlcSimOptions opts) : o(std::move(opts)) {
    if (o.exception_chute == 0) o.exception_chute = o.chutes;
    if (o.loop_mm == 0) o.loop_mm = chute_pos(o.chutes) + 2000;
    auto problems = o.map.check();
    if (!problems.empty()) throw std::runtime_error("register map: " + problems.front());
    if (o.chutes < 1 || o.chutes > st::MaxChutes)
      throw std::runtime_error(fmt::format("chutes: {} is not 1..{}", o.chutes, st::MaxChutes));
    if (o.exception_chute < 1 || o.exception_chute > o.chutes)
      throw std::runtime_error(
          fmt::format("exception chute {} is not 1..{}", o.exception_chute, o.chutes));
    if (o.speed_mm_s <= 0) throw std::runtime_error("speed must be positive");
    if (!o.journal_path.empty()) {
      journal_file = std::fopen(o.journal_path.c_str(), "a");
      if (!journal_file)
        throw std::runtime_error(
            fmt::format("journal {}: {}", o.journal_path, std::strerror(errno)));
    }
    if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0)
      throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
    map = modbus_mapping_new_start_address(0, 0, 0, 0, 0, o.map.end(), 0, 0);
    if (!map) throw std::runtime_error("modbus_mapping_new failed");
    reset_plc();
  }

  ~Impl() {
    close_all();
    if (map) modbus_mapping_free(map);
    if (mb) {
      modbus_close(mb);
      modbus_free(mb);
    }
    for (int fd : wake)
      if (fd >= 0) ::close(fd);
    if (journal_file) std::fclose(journal_file);
  }

  int chute_pos(int c) const { return o.first_chute_mm + (c - 1) * o.chute_pitch_mm; }
  std::uint16_t* reg(int base, int off) { return &map->tab_registers[base + off]; }
  std::uint16_t* S(int off) { return reg(o.map.status_base, off); }

  void reset_plc() {
    std::fill(map->tab_registers, map->tab_registers + map->nb_registers, 0);
    std::uint16_t b;
    do b = std::uint16_t(rng());
    while (b == 0 || b == boot_id);
    boot_id = b;
    journal("boot {}", boot_id);
    belt.clear();
    records.clear();
    fill.assign(o.chutes + 1, 0);
    forced_full.assign(o.chutes + 1, false);
    enabled.assign(o.chutes + 1, true);
    inducted = 0;
    last_mailbox_seq = 0;
    history.clear();
    history_order.clear();
    conf_next = ind_next = meas_next = 0;
    stats.clear();
    plc_hb = 0;
    host_hb = 0;
    host_hb_seen_at = now_ms();
    fault = 0;
    lose_next = wrong_next = false;
    *S(st::MapVersion) = kMapVersion;
    *S(st::BootId) = boot_id;
    *S(st::ConfRingSize) = std::uint16_t(o.map.confirm_ring);
    *S(st::InductRingSize) = std::uint16_t(o.map.induct_ring);
    *S(st::MeasRingSize) = std::uint16_t(o.map.measure_ring);
    *S(st::ChuteCount) = std::uint16_t(o.chutes);
    // A slot never written holds an entry number that cannot be expected next: all ones.
    for (int i = 0; i < o.map.confirm_ring; ++i)
      *reg(o.map.confirm_base, i * conf::EntrySize) = std::uint16_t(0xffff - i);
    for (int i = 0; i < o.map.induct_ring; ++i)
      *reg(o.map.induct_base, i * ind::EntrySize) = std::uint16_t(0xffff - i);
    for (int i = 0; i < o.map.measure_ring; ++i)
      *reg(o.map.measure_base, i * meas::EntrySize) = std::uint16_t(0xffff - i);
    update_status();
  }

  bool full(int c) const { return forced_full[c] || (o.capacity > 0 && fill[c] >= o.capacity); }

  void update_status() {
    *S(st::PlcHeartbeat) = plc_hb;
    *S(st::HostHeartbeatEcho) = host_hb;
    *S(st::FaultCode) = fault;
    std::uint16_t state = kStateRunning;
    if (now_ms() - host_hb_seen_at <= o.host_timeout_ms) state |= kStateHostOk;
    bool failsafe = false;
    for (auto& p : belt) failsafe |= p.failsafe;
    if (failsafe) state |= kStateFailSafe;
    *S(st::State) = state;
    *S(st::ConfNext) = conf_next;
    *S(st::InductNext) = ind_next;
    *S(st::MeasNext) = meas_next;
    for (int w = 0; w < 8; ++w) *S(st::ChuteFull + w) = *S(st::ChuteEnabled + w) = 0;
    for (int c = 1; c <= o.chutes; ++c) {
      int w = (c - 1) / 16, b = (c - 1) % 16;
      if (full(c)) *S(st::ChuteFull + w) |= std::uint16_t(1u << b);
      if (enabled[c]) *S(st::ChuteEnabled + w) |= std::uint16_t(1u << b);
    }
  }

  void confirm(std::uint32_t seq, std::uint32_t tid, int chute, std::uint16_t outcome) {
    std::uint16_t* e = reg(o.map.confirm_base, (conf_next % o.map.confirm_ring) * conf::EntrySize);
    e[conf::SeqHi] = hi16(seq);
    e[conf::SeqLo] = lo16(seq);
    e[conf::TidHi] = hi16(tid);
    e[conf::TidLo] = lo16(tid);
    e[conf::Chute] = std::uint16_t(chute);
    e[conf::Outcome] = outcome;
    e[conf::EntryNo] = conf_next;
    conf_next++;
    static const char* names[] = {"", "diverted", "recirculated", "rejected", "lost"};
    stats[names[outcome]]++;
    journal("confirm {} {} {} {}", seq, tid, chute, names[outcome]);
    update_status();
  }

  std::uint32_t induct(long long weight, long long l, long long w, long long h) {
    std::uint32_t tid = (std::uint32_t(boot_id) << 16) | std::uint16_t(++inducted);
    Parcel p;
    p.tid = tid;
    p.lose = lose_next;
    lose_next = false;
    belt.push_back(p);
    records[tid] = Record{};
    journal("induct {}", tid);
    std::uint16_t* e = reg(o.map.induct_base, (ind_next % o.map.induct_ring) * ind::EntrySize);
    e[ind::TidHi] = hi16(tid);
    e[ind::TidLo] = lo16(tid);
    e[ind::EntryNo] = ind_next;
    ind_next++;
    if (weight > 0) {
      std::uint16_t* m =
          reg(o.map.measure_base, (meas_next % o.map.measure_ring) * meas::EntrySize);
      m[meas::TidHi] = hi16(tid);
      m[meas::TidLo] = lo16(tid);
      m[meas::WeightHi] = hi16(std::uint32_t(weight));
      m[meas::WeightLo] = lo16(std::uint32_t(weight));
      m[meas::Length] = std::uint16_t(l);
      m[meas::Width] = std::uint16_t(w);
      m[meas::Height] = std::uint16_t(h);
      m[meas::EntryNo] = meas_next;
      meas_next++;
    }
    stats["inducted"]++;
    update_status();
    if (o.on_induct) o.on_induct(tid);
    return tid;
  }

  void ack(std::uint32_t seq, std::uint16_t result) {
    *S(st::AckResult) = result;
    *S(st::AckSeqHi) = hi16(seq);
    *S(st::AckSeqLo) = lo16(seq);
  }

  // The mailbox: act on a new sequence number once; a repeated one is only acknowledged again.
  void check_mailbox() {
    std::uint16_t* m = reg(o.map.command_base, 0);
    std::uint32_t seq = u32(m[cmd::SeqHi], m[cmd::SeqLo]);
    if (seq == 0 || seq == last_mailbox_seq) return;
    last_mailbox_seq = seq;
    if (auto it = history.find(seq); it != history.end()) {
      stats["repeats"]++;
      journal("cmd {} {} {} {} repeat", seq, u32(m[cmd::TidHi], m[cmd::TidLo]), m[cmd::Chute], -1);
      ack(seq, kAckRepeat);
      return;
    }
    std::uint32_t tid = u32(m[cmd::TidHi], m[cmd::TidLo]);
    int chute = m[cmd::Chute];
    stats["commands"]++;
    std::uint16_t result = kAckAccepted;
    auto p = std::find_if(belt.begin(), belt.end(), [&](auto& x) { return x.tid == tid; });
    if (p == belt.end()) {
      result = kAckRefused;  // not tracked (never inducted, gone, or forgotten by a restart)
      confirm(seq, tid, 0, kOutcomeLost);
    } else if (p->has_cmd) {
      result = kAckRefused;  // this lap already has its command; the first one stands
      confirm(seq, tid, 0, kOutcomeRejected);
    } else if (chute < 1 || chute > o.chutes) {
      result = kAckRefused;  // no such chute: the parcel stays without a command (fail-safe)
      confirm(seq, tid, 0, kOutcomeRejected);
    } else {
      p->has_cmd = true;
      p->seq = seq;
      p->chute = chute;
      records[tid].seq = seq;
      if (p->decided) result = kAckRefused;  // late: it goes to exception, confirmed with seq
    }
    if (result == kAckRefused) stats["refused"]++;
    journal("cmd {} {} {} {} {}", seq, tid, chute, p == belt.end() ? -1 : p->lap,
            result == kAckAccepted             ? "accepted"
            : p != belt.end() && p->seq == seq ? "late"
                                               : "refused");
    history[seq] = result;
    history_order.push_back(seq);
    if (history_order.size() > 1024) {
      history.erase(history_order.front());
      history_order.pop_front();
    }
    ack(seq, result);
  }

  void step(double dt_ms) {
    // Automatic inductions.
    if (o.rate_per_min > 0) {
      induct_acc += o.rate_per_min * dt_ms / 60000.0;
      while (induct_acc >= 1) {
        induct_acc -= 1;
        std::uniform_int_distribution<int> wd(200, 8000), sd(100, 600);
        induct(wd(rng), sd(rng), sd(rng), sd(rng));
      }
    }
    double d = o.speed_mm_s * dt_ms / 1000.0;
    for (auto it = belt.begin(); it != belt.end();) {
      Parcel& p = *it;
      double from = p.pos;
      p.pos += d;
      bool gone = false;
      if (!p.decided && from < o.decision_mm && p.pos >= o.decision_mm) {
        p.decided = true;
        if (p.has_cmd && p.lap < o.max_laps) {
          p.target = p.chute;
        } else {
          p.target = o.exception_chute;  // fail-safe: never a wrong lane
          p.failsafe = true;
        }
      }
      if (p.decided && p.target > 0 && from < chute_pos(p.target) && p.pos >= chute_pos(p.target)) {
        Record& r = records[p.tid];
        r.laps = p.lap;
        int c = p.target;
        if (p.lose) {
          r.state = "lost";
          confirm(p.seq, p.tid, 0, kOutcomeLost);
          gone = true;
        } else if (p.failsafe) {
          fill[c]++;
          r.state = "exception";
          r.chute = c;
          r.diverts++;
          confirm(p.seq, p.tid, c, kOutcomeRejected);
          gone = true;
        } else if (enabled[c] && !full(c)) {
          int actual = c;
          if (wrong_next) {
            wrong_next = false;
            actual = c % o.chutes + 1;
            if (actual == o.exception_chute) actual = actual % o.chutes + 1;
          }
          fill[actual]++;
          r.state = "diverted";
          r.chute = actual;
          r.diverts++;
          confirm(p.seq, p.tid, actual, kOutcomeDiverted);
          gone = true;
        } else {
          confirm(p.seq, p.tid, 0, kOutcomeRecirculated);
          r.state = "recirculating";
          p.target = 0;
        }
      }
      if (!gone && p.pos >= o.loop_mm) {  // next lap
        p.pos -= o.loop_mm;
        p.lap++;
        p.decided = p.has_cmd = p.failsafe = false;
        p.seq = 0;
        p.chute = p.target = 0;
      }
      it = gone ? belt.erase(it) : std::next(it);
    }
    sim_ms += static_cast<long long>(dt_ms);
  }

  // Real-time housekeeping: heartbeats, belt (unless the clock is manual), listener reopening.
  void housekeeping() {
    long long now = now_ms();
    if (!freeze_hb && now - last_hb >= o.heartbeat_ms) {
      plc_hb++;
      last_hb = now;
    }
    if (!o.manual_clock) {
      long long dt = std::min<long long>(now - last_real, 1000);
      if (dt > 0) step(double(dt));
    }
    last_real = now;
    std::uint16_t h = *reg(o.map.command_base, cmd::HostHeartbeat);
    if (h != host_hb) {
      host_hb = h;
      host_hb_seen_at = now;
    }
    check_mailbox();
    update_status();
  }

  // ---------------------------------------------------------------- Modbus service

  void open_modbus() {
    if (!o.rtu_device.empty()) {
      mb = modbus_new_rtu(o.rtu_device.c_str(), o.baud, o.parity, 8, 1);
      if (!mb) throw std::runtime_error(fmt::format("modbus_new_rtu: {}", std::strerror(errno)));
      modbus_set_slave(mb, o.unit_id);
      if (modbus_connect(mb) == -1)
        throw std::runtime_error(fmt::format("open {}: {}", o.rtu_device, modbus_strerror(errno)));
      return;
    }
    mb = modbus_new_tcp("127.0.0.1", 502);  // used for framing only; we own the sockets
    if (!mb) throw std::runtime_error("modbus_new_tcp failed");
    modbus_set_slave(mb, o.unit_id);
    listen_fd = dev::tcp_listen(o.host, o.port, &port);
  }

  void open_control() {
    if (o.control_port < 0) return;
    ctl = std::make_unique<dev::LineControlServer>(o.host, o.control_port,
                                                   [this](const std::string& line) {
                                                     std::string reply;
                                                     {
                                                       std::lock_guard lock(mu);
                                                       reply = control(line);
                                                     }
                                                     // The loop applies it now, not next tick.
                                                     (void)!::write(wake[1], "x", 1);
                                                     return reply;
                                                   });
    ctl_port = ctl->port();
  }

  // Sockets are closed by the loop thread only (control() may run in another thread).
  bool drop_flag = false, unlisten_flag = false;
  void close_clients() { drop_flag = true; }
  void apply_closes() {
    if (drop_flag) {
      for (int fd : clients) ::close(fd);
      clients.clear();
      drop_flag = false;
    }
    if (unlisten_flag) {
      if (listen_fd >= 0) ::close(listen_fd);
      listen_fd = -1;
      unlisten_flag = false;
    }
  }
  void close_all() {
    ctl.reset();
    close_clients();
    apply_closes();
    if (listen_fd >= 0) ::close(listen_fd);
    listen_fd = -1;
  }

  // Writes go only to the command area; anything else is refused as the PLC would.
  bool write_range(const std::uint8_t* q, int hl, int& addr, int& nb, const std::uint8_t*& vals) {
    int fc = q[hl];
    auto u16 = [&](int i) { return (q[hl + i] << 8) | q[hl + i + 1]; };
    if (fc == MODBUS_FC_WRITE_SINGLE_REGISTER) {
      addr = u16(1);
      nb = 1;
      vals = q + hl + 3;
      return true;
    }
    if (fc == MODBUS_FC_WRITE_MULTIPLE_REGISTERS) {
      addr = u16(1);
      nb = u16(3);
      vals = q + hl + 6;
      return true;
    }
    if (fc == MODBUS_FC_WRITE_AND_READ_REGISTERS) {
      addr = u16(5);
      nb = u16(7);
      vals = q + hl + 10;
      return true;
    }
    return false;
  }

  // Serve one request on the current socket. Returns false when the client is gone.
  bool serve_one() {
    std::uint8_t q[MODBUS_TCP_MAX_ADU_LENGTH];
    int rc = modbus_receive(mb, q);
    if (rc == -1) return false;
    if (rc == 0) return true;  // not for our unit id
    int hl = modbus_get_header_length(mb);
    int fc = q[hl];
    std::unique_lock lock(mu);
    stats["requests"]++;
    if (delay_count != 0) {
      int d = delay_ms;
      if (delay_count > 0) delay_count--;
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(d));
      lock.lock();
    }
    if (exc_count > 0 && (exc_fc == 0 || exc_fc == fc)) {
      exc_count--;
      stats["exceptions"]++;
      modbus_reply_exception(mb, q, unsigned(exc_code));
      return true;
    }
    housekeeping();
    int addr = 0, nb = 0;
    const std::uint8_t* vals = nullptr;
    if (write_range(q, hl, addr, nb, vals)) {
      int lo = o.map.command_base, hi = o.map.command_base + cmd::Size;
      if (addr < lo || addr + nb > hi || nb < 1) {
        stats["refused_writes"]++;
        modbus_reply_exception(mb, q, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
        return true;
      }
      // Apply the write and run the mailbox logic before answering, so that an FC23 read in
      // the same transaction already carries the acknowledgement.
      for (int i = 0; i < nb; ++i)
        map->tab_registers[addr + i] = std::uint16_t((vals[2 * i] << 8) | vals[2 * i + 1]);
      housekeeping();
    }
    modbus_reply(mb, q, rc, map);
    return true;
  }

  // ---------------------------------------------------------------- control

  std::string control(const std::string& line) {
    auto w = split(line);
    if (w.empty()) return "error empty command (try 'help')";
    const std::string& c = w[0];
    auto arg = [&](std::size_t i, long long lo, long long hi, long long& v,
                   const char* what) -> std::string {
      if (i >= w.size()) return fmt::format("error {}: missing {}", c, what);
      if (!to_int(w[i], v))
        return fmt::format("error {}: {} '{}' is not an integer", c, what, w[i]);
      if (v < lo || v > hi)
        return fmt::format("error {}: {} {} is out of range {}..{}", c, what, v, lo, hi);
      return {};
    };
    auto nargs = [&](std::size_t lo, std::size_t hi) -> std::string {
      if (w.size() - 1 < lo || w.size() - 1 > hi)
        return fmt::format("error {}: takes {}{} argument(s), got {}", c, lo,
                           hi > lo ? fmt::format("..{}", hi) : "", w.size() - 1);
      return {};
    };
    std::string e;
    long long a = 0, b = 0;
    if (c == "help") return std::string("ok ") + kHelp;
    if (c == "induct") {
      if (!(e = nargs(0, 4)).empty()) return e;
      long long wt = 0, l = 0, wd = 0, h = 0;
      if (w.size() >= 2 && !(e = arg(1, 1, 1000000, wt, "weight_g")).empty()) return e;
      if (w.size() == 3 || w.size() == 4)
        return "error induct: give all three dimensions (length width height) or none";
      if (w.size() == 5) {
        if (!(e = arg(2, 1, 65535, l, "length_mm")).empty()) return e;
        if (!(e = arg(3, 1, 65535, wd, "width_mm")).empty()) return e;
        if (!(e = arg(4, 1, 65535, h, "height_mm")).empty()) return e;
      }
      return fmt::format("ok {}", induct(wt, l, wd, h));
    }
    if (c == "fill" || c == "empty" || c == "disable" || c == "enable") {
      if (!(e = nargs(1, 1)).empty()) return e;
      if (!(e = arg(1, 1, o.chutes, a, "chute")).empty()) return e;
      if (c == "fill") forced_full[a] = true;
      if (c == "empty") forced_full[a] = false, fill[a] = 0;
      if (c == "disable") enabled[a] = false;
      if (c == "enable") enabled[a] = true;
      update_status();
      return "ok";
    }
    if (c == "fault") {
      if (!(e = nargs(1, 1)).empty()) return e;
      if (!(e = arg(1, 0, 65535, a, "code")).empty()) return e;
      fault = std::uint16_t(a);
      update_status();
      return "ok";
    }
    if (c == "delay") {
      if (!(e = nargs(1, 2)).empty()) return e;
      if (!(e = arg(1, 0, 60000, a, "ms")).empty()) return e;
      b = -1;
      if (w.size() == 3 && !(e = arg(2, 1, 1000000, b, "count")).empty()) return e;
      delay_ms = int(a);
      delay_count = a == 0 ? 0 : int(b);
      return "ok";
    }
    if (c == "exception") {
      if (!(e = nargs(2, 3)).empty()) return e;
      if (!(e = arg(1, 0, 127, a, "function code")).empty()) return e;
      if (!(e = arg(2, 0, 1000000, b, "count")).empty()) return e;
      long long code = MODBUS_EXCEPTION_SLAVE_OR_SERVER_BUSY;
      if (w.size() == 4 && !(e = arg(3, 1, 11, code, "exception code")).empty()) return e;
      exc_fc = int(a);
      exc_count = int(b);
      exc_code = int(code);
      return "ok";
    }
    if (c == "drop-connection") {
      if (!(e = nargs(0, 0)).empty()) return e;
      stats["drops"]++;
      close_clients();
      return "ok";
    }
    if (c == "down") {
      if (!(e = nargs(1, 1)).empty()) return e;
      if (!(e = arg(1, 1, 600000, a, "ms")).empty()) return e;
      if (!o.rtu_device.empty()) return "error down: only for Modbus TCP";
      close_clients();
      unlisten_flag = true;
      listen_again_at = now_ms() + a;
      return "ok";
    }
    if (c == "lose") {
      if (!(e = nargs(1, 1)).empty()) return e;
      if (w[1] == "next") {
        lose_next = true;
        return "ok";
      }
      if (!(e = arg(1, 1, 0xffffffffLL, a, "tracking id")).empty()) return e;
      for (auto& p : belt)
        if (p.tid == std::uint32_t(a)) {
          p.lose = true;
          return "ok";
        }
      return fmt::format("error lose: tracking id {} is not on the belt", a);
    }
    if (c == "wrong-chute") {
      if (w.size() != 2 || w[1] != "next") return "error wrong-chute: usage 'wrong-chute next'";
      wrong_next = true;
      return "ok";
    }
    if (c == "restart") {
      if (!(e = nargs(0, 0)).empty()) return e;
      close_clients();
      reset_plc();
      return fmt::format("ok boot={}", boot_id);
    }
    if (c == "freeze-heartbeat") {
      if (w.size() != 2 || (w[1] != "on" && w[1] != "off"))
        return "error freeze-heartbeat: usage 'freeze-heartbeat on|off'";
      freeze_hb = w[1] == "on";
      return "ok";
    }
    if (c == "advance") {
      if (!(e = nargs(1, 1)).empty()) return e;
      if (!(e = arg(1, 1, 3600000, a, "ms")).empty()) return e;
      if (!o.manual_clock) return "error advance: the clock is not manual (--manual-clock)";
      for (long long t = 0; t < a; t += o.tick_ms)
        step(double(std::min<long long>(o.tick_ms, a - t)));
      update_status();
      return fmt::format("ok t={}", sim_ms);
    }
    if (c == "rate") {
      if (!(e = nargs(1, 1)).empty()) return e;
      if (!(e = arg(1, 0, 100000, a, "parcels per minute")).empty()) return e;
      o.rate_per_min = double(a);
      return "ok";
    }
    if (c == "set") {
      if (!(e = nargs(2, 2)).empty()) return e;
      if (w[1] == "speed_mm_s") {
        if (!(e = arg(2, 1, 100000, a, "value")).empty()) return e;
        o.speed_mm_s = int(a);
      } else if (w[1] == "decision_mm") {
        if (!(e = arg(2, 0, o.first_chute_mm, a, "value")).empty()) return e;
        o.decision_mm = int(a);
      } else if (w[1] == "capacity") {
        if (!(e = arg(2, 0, 1000000, a, "value")).empty()) return e;
        o.capacity = int(a);
      } else if (w[1] == "max_laps") {
        if (!(e = arg(2, 0, 1000, a, "value")).empty()) return e;
        o.max_laps = int(a);
      } else {
        return fmt::format(
            "error set: unknown key '{}' (speed_mm_s, decision_mm, capacity, "
            "max_laps)",
            w[1]);
      }
      update_status();
      return "ok";
    }
    if (c == "parcel") {
      if (!(e = nargs(1, 1)).empty()) return e;
      if (!(e = arg(1, 1, 0xffffffffLL, a, "tracking id")).empty()) return e;
      auto it = records.find(std::uint32_t(a));
      if (it == records.end()) return fmt::format("error parcel: tracking id {} unknown", a);
      auto& r = it->second;
      return fmt::format("ok tid={} state={} chute={} diverts={} laps={} seq={}", a, r.state,
                         r.chute, r.diverts, r.laps, r.seq);
    }
    if (c == "stats") {
      std::string s =
          fmt::format("ok boot={} belt={} clients={}", boot_id, belt.size(), clients.size());
      for (auto& [k, v] : stats) s += fmt::format(" {}={}", k, v);
      for (int ch = 1; ch <= o.chutes; ++ch) s += fmt::format(" chute{}={}", ch, fill[ch]);
      return s;
    }
    return fmt::format("error unknown command '{}' (try 'help')", c);
  }

  // ---------------------------------------------------------------- loop

  void loop() {
    last_real = now_ms();
    while (!stopping) {
      std::vector<pollfd> fds;
      fds.push_back({wake[0], POLLIN, 0});
      int rtu_fd = (!o.rtu_device.empty() && mb) ? modbus_get_socket(mb) : -1;
      if (rtu_fd >= 0) fds.push_back({rtu_fd, POLLIN, 0});
      if (listen_fd >= 0) fds.push_back({listen_fd, POLLIN, 0});
      std::size_t first_client = fds.size();
      for (int fd : clients) fds.push_back({fd, POLLIN, 0});
      int n = ::poll(fds.data(), fds.size(), o.tick_ms);
      if (n < 0 && errno != EINTR) break;
      {
        std::lock_guard lock(mu);
        housekeeping();
        apply_closes();
        if (listen_fd < 0 && o.rtu_device.empty() && listen_again_at &&
            now_ms() >= listen_again_at) {
          try {
            listen_fd = dev::tcp_listen(o.host, port, nullptr);
            listen_again_at = 0;
          } catch (const std::exception&) {
            listen_again_at = now_ms() + 50;
          }
        }
      }
      if (n <= 0) continue;
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if (!fds[i].revents) continue;
        int fd = fds[i].fd;
        if (fd == wake[0]) {
          char buf[64];
          while (::read(wake[0], buf, sizeof buf) > 0) {
          }
        } else if (fd == rtu_fd) {
          serve_one();
        } else if (fd == listen_fd && i < first_client) {
          int c = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
          if (c >= 0) {
            int one = 1;
            ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            std::lock_guard lock(mu);
            clients.push_back(c);
            stats["connections"]++;
          }
        } else if (i >= first_client) {
          // The client may have been closed by a control command in this round.
          if (std::find(clients.begin(), clients.end(), fd) == clients.end()) continue;
          modbus_set_socket(mb, fd);
          if (!serve_one()) {
            std::lock_guard lock(mu);
            auto it = std::find(clients.begin(), clients.end(), fd);
            if (it != clients.end()) {
              ::close(fd);
              clients.erase(it);
            }
          }
        }
      }
    }
  }
};

PlcSim::PlcSim(PlcSimOptions opts) : impl_(std::make_unique<Impl>(std::move(opts))) {}

PlcSim::~PlcSim() {
  stop();
}

void PlcSim::start() {
  impl_->open_modbus();
  impl_->open_control();
  modbus_port_ = impl_->port;
  control_port_ = impl_->ctl_port;
  thread_ = std::thread([this] { impl_->loop(); });
}

void PlcSim::run() {
  impl_->open_modbus();
  impl_->open_control();
  modbus_port_ = impl_->port;
  control_port_ = impl_->ctl_port;
  impl_->loop();
}

void PlcSim::stop() {
  if (!impl_) return;
  impl_->stopping = true;
  (void)!::write(impl_->wake[1], "x", 1);
  if (thread_.joinable()) thread_.join();
}

std::string PlcSim::control(const std::string& line) {
  std::lock_guard lock(impl_->mu);
  return impl_->control(line);
}

}  // namespace sortd::sim
