#include "plc_client.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>
#include <modbus/modbus.h>
#include <spdlog/spdlog.h>

namespace sortd::sorter {

namespace {

using Ms = std::chrono::milliseconds;

long long ms_between(PlcClient::Clock::time_point a, PlcClient::Clock::time_point b) {
  return std::chrono::duration_cast<Ms>(b - a).count();
}

bool is_modbus_exception(int e) {
  return e > MODBUS_ENOBASE && e <= EMBXGTAR;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Options

PlcOptions plc_options_from(const std::string& name, const std::string& driver,
                            const std::map<std::string, std::string>& options,
                            std::vector<std::string>& problems) {
  PlcOptions o;
  o.name = name;
  if (driver == "modbus-tcp")
    o.transport = PlcOptions::Transport::Tcp;
  else if (driver == "modbus-rtu")
    o.transport = PlcOptions::Transport::Rtu;
  else
    problems.push_back(fmt::format("driver: '{}' is not modbus-tcp or modbus-rtu", driver));

  auto integer = [&](const std::string& key, const std::string& v, int lo, int hi, int& dst) {
    int x = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc() || p != v.data() + v.size()) {
      problems.push_back(fmt::format("{}: '{}' is not an integer", key, v));
      return;
    }
    if (x < lo || x > hi) {
      problems.push_back(fmt::format("{}: {} is out of range {}..{}", key, x, lo, hi));
      return;
    }
    dst = x;
  };
  const bool tcp = o.transport == PlcOptions::Transport::Tcp;
  bool have_device = false;
  for (const auto& [k, v] : options) {
    if (k == "host" && tcp) {
      if (v.empty()) problems.push_back("host: empty");
      o.host = v;
    } else if (k == "port" && tcp) {
      integer(k, v, 1, 65535, o.port);
    } else if (k == "device" && !tcp) {
      if (v.empty()) problems.push_back("device: empty");
      o.device = v;
      have_device = true;
    } else if (k == "baud" && !tcp) {
      integer(k, v, 300, 4000000, o.baud);
    } else if (k == "parity" && !tcp) {
      if (v == "N" || v == "none")
        o.parity = 'N';
      else if (v == "E" || v == "even")
        o.parity = 'E';
      else if (v == "O" || v == "odd")
        o.parity = 'O';
      else
        problems.push_back(fmt::format("parity: '{}' is not none/even/odd (N/E/O)", v));
    } else if (k == "data_bits" && !tcp) {
      integer(k, v, 5, 8, o.data_bits);
    } else if (k == "stop_bits" && !tcp) {
      integer(k, v, 1, 2, o.stop_bits);
    } else if (k == "serial_mode" && !tcp) {
      if (v == "rs485" || v == "rs232")
        o.rs485 = v == "rs485";
      else
        problems.push_back(fmt::format("serial_mode: '{}' is not rs232 or rs485", v));
    } else if (k == "rts" && !tcp) {
      if (v == "none")
        o.rts = PlcOptions::Rts::None;
      else if (v == "up")
        o.rts = PlcOptions::Rts::Up;
      else if (v == "down")
        o.rts = PlcOptions::Rts::Down;
      else
        problems.push_back(fmt::format("rts: '{}' is not none, up or down", v));
    } else if (k == "unit_id") {
      integer(k, v, tcp ? 0 : 1, tcp ? 255 : 247, o.unit_id);
    } else if (k == "poll_ms") {
      integer(k, v, 1, 10000, o.poll_interval_ms);
    } else if (k == "response_timeout_ms") {
      integer(k, v, 10, 60000, o.response_timeout_ms);
    } else if (k == "ack_timeout_ms") {
      integer(k, v, 10, 60000, o.ack_timeout_ms);
    } else if (k == "ack_retries") {
      integer(k, v, 0, 100, o.ack_retries);
    } else if (k == "command_expiry_ms") {
      integer(k, v, 100, 3600000, o.command_expiry_ms);
    } else if (k == "heartbeat_ms") {
      integer(k, v, 10, 60000, o.heartbeat_interval_ms);
    } else if (k == "plc_heartbeat_timeout_ms") {
      integer(k, v, 100, 600000, o.plc_heartbeat_timeout_ms);
    } else if (k == "reconnect_min_ms") {
      integer(k, v, 10, 600000, o.reconnect_min_ms);
    } else if (k == "reconnect_max_ms") {
      integer(k, v, 10, 600000, o.reconnect_max_ms);
    } else if (k == "exception_limit") {
      integer(k, v, 1, 1000, o.exception_limit);
    } else if (k == "write") {
      if (v == "fc16")
        o.fc23 = false;
      else if (v == "fc23")
        o.fc23 = true;
      else
        problems.push_back(fmt::format("write: '{}' is not fc16 or fc23", v));
    } else if (k == "command_base") {
      integer(k, v, 0, 65535, o.map.command_base);
    } else if (k == "status_base") {
      integer(k, v, 0, 65535, o.map.status_base);
    } else if (k == "confirm_base") {
      integer(k, v, 0, 65535, o.map.confirm_base);
    } else if (k == "induct_base") {
      integer(k, v, 0, 65535, o.map.induct_base);
    } else if (k == "measure_base") {
      integer(k, v, 0, 65535, o.map.measure_base);
    } else if (k == "confirm_ring") {
      integer(k, v, 1, 16, o.map.confirm_ring);
    } else if (k == "induct_ring") {
      integer(k, v, 1, 32, o.map.induct_ring);
    } else if (k == "measure_ring") {
      integer(k, v, 1, 8, o.map.measure_ring);
    } else {
      problems.push_back(fmt::format("{}: unknown option for a {} sorter", k, driver));
    }
  }
  if (!tcp && !have_device) problems.push_back("device: missing (serial device of the PLC)");
  if (o.reconnect_max_ms < o.reconnect_min_ms)
    problems.push_back(fmt::format("reconnect_max_ms: {} is below reconnect_min_ms {}",
                                   o.reconnect_max_ms, o.reconnect_min_ms));
  for (auto& p : o.map.check()) problems.push_back(p);
  return o;
}

// ---------------------------------------------------------------------------------------------

PlcClient::PlcClient(PlcOptions opts) : opts_(std::move(opts)) {}

PlcClient::~PlcClient() {
  if (ctx_) {
    modbus_close(ctx_);
    modbus_free(ctx_);
  }
}

void PlcClient::send_command(const SortCommand& c) {
  for (const auto& p : queue_)
    if (p.cmd.seq == c.seq) {
      spdlog::debug("{}: seq {} already queued, ignored", opts_.name, c.seq);
      return;
    }
  queue_.push_back({c, Clock::now(), std::nullopt, 0});
}

int PlcClient::next_poll_in_ms() const {
  auto now = Clock::now();
  if (!ctx_) return int(std::clamp<long long>(ms_between(now, next_connect_), 0, 1000));
  long long wait = opts_.poll_interval_ms - ms_between(last_status_, now);
  if (!queue_.empty()) {
    const auto& f = queue_.front();
    if (!f.written) return 0;
    wait = std::min<long long>(wait, opts_.ack_timeout_ms - ms_between(*f.written, now));
  }
  return int(std::clamp<long long>(wait, 0, 1000));
}

void PlcClient::disconnect(const std::string& why) {
  if (!ctx_) return;
  spdlog::warn("{}: closing the Modbus link: {}", opts_.name, why);
  modbus_close(ctx_);
  modbus_free(ctx_);
  ctx_ = nullptr;
  counters_.disconnects++;
  link_error_ = why;
  // The first reconnect is attempted at once; a failing one backs off.
  next_connect_ = Clock::now();
  // Whatever was in the mailbox is written again after reconnecting (same seq: idempotent).
  if (!queue_.empty()) queue_.front().written.reset();
}

void PlcClient::set_up(bool up, const std::string& detail, std::vector<Event>& out) {
  if (reported_up_ && *reported_up_ == up && last_detail_ == detail) return;
  reported_up_ = up;
  last_detail_ = detail;
  if (up)
    spdlog::info("{}: up: {}", opts_.name, detail);
  else
    spdlog::warn("{}: down: {}", opts_.name, detail);
  out.push_back(DeviceStatus{opts_.name, DeviceKind::Sorter, up, detail});
}

bool PlcClient::connect(std::vector<Event>& out) {
  std::string where;
  if (opts_.transport == PlcOptions::Transport::Tcp) {
    where = fmt::format("{}:{}", opts_.host, opts_.port);
    ctx_ = modbus_new_tcp_pi(opts_.host.c_str(), std::to_string(opts_.port).c_str());
  } else {
    where = fmt::format("{} {} {}{}{}", opts_.device, opts_.baud, opts_.data_bits, opts_.parity,
                        opts_.stop_bits);
    ctx_ = modbus_new_rtu(opts_.device.c_str(), opts_.baud, opts_.parity, opts_.data_bits,
                          opts_.stop_bits);
  }
  auto fail = [&](const std::string& what) {
    if (ctx_) {
      modbus_close(ctx_);
      modbus_free(ctx_);
      ctx_ = nullptr;
    }
    backoff_ms_ = backoff_ms_ == 0 ? opts_.reconnect_min_ms
                                   : std::min(backoff_ms_ * 2, opts_.reconnect_max_ms);
    next_connect_ = Clock::now() + Ms(backoff_ms_);
    set_up(false, fmt::format("link down: {}: {}", where, what), out);
    return false;
  };
  if (!ctx_) return fail(std::strerror(errno));
  modbus_set_slave(ctx_, opts_.unit_id);
  modbus_set_response_timeout(ctx_, opts_.response_timeout_ms / 1000,
                              (opts_.response_timeout_ms % 1000) * 1000);
  if (modbus_connect(ctx_) == -1) return fail(modbus_strerror(errno));
  if (opts_.transport == PlcOptions::Transport::Rtu) {
    if (opts_.rs485 && modbus_rtu_set_serial_mode(ctx_, MODBUS_RTU_RS485) == -1)
      return fail(
          fmt::format("cannot put the port in RS-485 mode ({}); for an adapter that "
                      "switches direction by itself use serial_mode = \"rs232\"",
                      modbus_strerror(errno)));
    if (opts_.rts != PlcOptions::Rts::None &&
        modbus_rtu_set_rts(
            ctx_, opts_.rts == PlcOptions::Rts::Up ? MODBUS_RTU_RTS_UP : MODBUS_RTU_RTS_DOWN) == -1)
      return fail(fmt::format("cannot drive RTS ({})", modbus_strerror(errno)));
    modbus_flush(ctx_);
  }
  counters_.connects++;
  consecutive_exceptions_ = 0;
  if (!queue_.empty()) queue_.front().written.reset();
  if (!read_status(out) && !ctx_) return fail(link_error_);  // an exception keeps the link
  backoff_ms_ = 0;
  return true;
}

// Returns true when rc is a success. On failure, a Modbus exception answer keeps the link (the
// PLC is there, it refuses); anything else (timeout, reset, garbage) closes it, so that a late
// answer can never be taken for the answer to a later request.
bool PlcClient::check(int rc, const char* what, std::vector<Event>& out) {
  counters_.requests++;
  if (rc != -1) {
    consecutive_exceptions_ = 0;
    return true;
  }
  int e = errno;
  if (is_modbus_exception(e)) {
    counters_.exceptions++;
    consecutive_exceptions_++;
    if (consecutive_exceptions_ == 1)  // once per run of exceptions, not at every poll
      spdlog::warn("{}: {}: Modbus exception: {}", opts_.name, what, modbus_strerror(e));
    if (consecutive_exceptions_ >= opts_.exception_limit)
      set_up(false,
             fmt::format("PLC answers {} with Modbus exception: {}", what, modbus_strerror(e)),
             out);
    return false;
  }
  counters_.failures++;
  disconnect(fmt::format("{}: {}", what, modbus_strerror(e)));
  return false;
}

bool PlcClient::write_heartbeat(std::vector<Event>& out) {
  std::uint16_t v = std::uint16_t(host_hb_ + 1);
  if (!check(modbus_write_register(ctx_, opts_.map.command_base + cmd::HostHeartbeat, v),
             "heartbeat write", out))
    return false;
  host_hb_ = v;
  last_heartbeat_write_ = Clock::now();
  return true;
}

bool PlcClient::write_mailbox(std::vector<Event>& out) {
  auto& p = queue_.front();
  std::uint16_t regs[cmd::MailboxSize];
  regs[cmd::SeqHi] = hi16(p.cmd.seq);
  regs[cmd::SeqLo] = lo16(p.cmd.seq);
  regs[cmd::TidHi] = hi16(p.cmd.tracking_id);
  regs[cmd::TidLo] = lo16(p.cmd.tracking_id);
  regs[cmd::Chute] = std::uint16_t(p.cmd.chute);
  counters_.mailbox_writes++;
  if (opts_.fc23) {
    std::uint16_t s[st::Size];
    int rc = modbus_write_and_read_registers(ctx_, opts_.map.command_base, cmd::MailboxSize, regs,
                                             opts_.map.status_base, st::Size, s);
    int e = errno;
    if (rc != -1 || is_modbus_exception(e)) {  // written, or refused by the PLC: a try
      p.written = Clock::now();
      p.writes++;
    }
    errno = e;
    if (!check(rc, "mailbox write+read (FC23)", out)) return false;
    last_status_ = *p.written;
    process_status(s, out);
    return ctx_ != nullptr;
  }
  int rc = modbus_write_registers(ctx_, opts_.map.command_base, cmd::MailboxSize, regs);
  int e = errno;
  if (rc != -1 || is_modbus_exception(e)) {  // written, or refused by the PLC: a try
    p.written = Clock::now();
    p.writes++;
  }
  errno = e;
  return check(rc, "mailbox write (FC16)", out);
}

bool PlcClient::read_status(std::vector<Event>& out) {
  std::uint16_t s[st::Size];
  int rc = modbus_read_registers(ctx_, opts_.map.status_base, st::Size, s);
  if (!check(rc, "status read", out)) return false;
  last_status_ = Clock::now();
  process_status(s, out);
  return ctx_ != nullptr;
}

void PlcClient::process_status(const std::uint16_t* s, std::vector<Event>& out) {
  auto now = Clock::now();
  // Sanity: a PLC that implements another map (or an answer that is not ours) is refused.
  if (s[st::MapVersion] != kMapVersion || s[st::ConfRingSize] != opts_.map.confirm_ring ||
      s[st::InductRingSize] != opts_.map.induct_ring ||
      s[st::MeasRingSize] != opts_.map.measure_ring || s[st::ChuteCount] > st::MaxChutes) {
    disconnect(
        fmt::format("status area does not match the configured map (version {}, rings {}/{}/{}, "
                    "chutes {}; expected version {}, rings {}/{}/{})",
                    s[st::MapVersion], s[st::ConfRingSize], s[st::InductRingSize],
                    s[st::MeasRingSize], s[st::ChuteCount], kMapVersion, opts_.map.confirm_ring,
                    opts_.map.induct_ring, opts_.map.measure_ring));
    return;
  }
  // PLC restart: new boot id, counters start again at 0.
  if (!have_boot_ || s[st::BootId] != boot_id_) {
    if (have_boot_) {
      spdlog::warn("{}: PLC restarted (boot id {} -> {}): following its rings from 0", opts_.name,
                   boot_id_, s[st::BootId]);
      conf_next_ = induct_next_ = meas_next_ = 0;
      if (!queue_.empty()) {
        queue_.front().written.reset();
        queue_.front().writes = 0;
      }
    } else {
      // First contact since we started: what is in the rings is history we did not wait for,
      // except the confirmations given since a previous run stopped reading: those parcels
      // are in the store waiting for them.
      conf_next_ = s[st::ConfNext];
      induct_next_ = s[st::InductNext];
      meas_next_ = s[st::MeasNext];
      if (opts_.resume && opts_.resume->plc_boot == s[st::BootId]) {
        const std::uint16_t missed = std::uint16_t(s[st::ConfNext] - opts_.resume->conf_next);
        if (missed <= opts_.map.confirm_ring) {
          conf_next_ = opts_.resume->conf_next;
          if (missed)
            spdlog::info("{}: reading the {} confirmation(s) given while sortd was away",
                         opts_.name, missed);
        } else {
          counters_.ring_overruns++;
          spdlog::error(
              "{}: {} confirmations were given while sortd was away, more than the "
              "ring keeps ({}): the parcels they were for close as lost after the "
              "confirmation timeout",
              opts_.name, missed, opts_.map.confirm_ring);
        }
      } else if (opts_.resume) {
        spdlog::warn(
            "{}: the PLC restarted while sortd was away (boot id {} -> {}): its "
            "confirmations for the parcels in flight are gone",
            opts_.name, opts_.resume->plc_boot, s[st::BootId]);
      } else {
        // No cursor stored yet (a new store, or no confirmation recorded before the last
        // stop): the parcels commanded before may have been confirmed while sortd was away, so
        // the confirmations still in the ring are read. The core takes those that match a
        // parcel in flight (sequence and tracking id) and records the others as unknown.
        const std::uint16_t back = std::min<std::uint16_t>(
            s[st::ConfNext], static_cast<std::uint16_t>(opts_.map.confirm_ring));
        conf_next_ = static_cast<std::uint16_t>(s[st::ConfNext] - back);
      }
    }
    have_boot_ = true;
    boot_id_ = s[st::BootId];
    plc_hb_ = s[st::PlcHeartbeat];
    plc_hb_changed_ = now;
    hb_lost_ = false;
  }
  // Heartbeat.
  if (s[st::PlcHeartbeat] != plc_hb_) {
    plc_hb_ = s[st::PlcHeartbeat];
    plc_hb_changed_ = now;
    hb_lost_ = false;
  } else if (ms_between(plc_hb_changed_, now) > opts_.plc_heartbeat_timeout_ms) {
    hb_lost_ = true;
  }
  fault_ = s[st::FaultCode];
  // Acknowledgement of the command in the mailbox.
  ack_seq_ = u32(s[st::AckSeqHi], s[st::AckSeqLo]);
  if (!queue_.empty() && queue_.front().writes > 0 && ack_seq_ == queue_.front().cmd.seq) {
    if (s[st::AckResult] == kAckRefused)
      spdlog::warn(
          "{}: PLC refused sort command seq {} (tracking id {}, chute {}); its "
          "confirmation says why",
          opts_.name, ack_seq_, queue_.front().cmd.tracking_id, queue_.front().cmd.chute);
    counters_.acks++;
    out.push_back(SortAcked{ack_seq_});
    queue_.pop_front();
  }
  plc_conf_next_ = s[st::ConfNext];
  plc_induct_next_ = s[st::InductNext];
  plc_meas_next_ = s[st::MeasNext];
  // Chute bits.
  int n = s[st::ChuteCount];
  for (int c = 1; c <= n; ++c) {
    int w = (c - 1) / 16, b = (c - 1) % 16;
    bool full = (s[st::ChuteFull + w] >> b) & 1;
    bool enabled = (s[st::ChuteEnabled + w] >> b) & 1;
    auto it = chutes_.find(c);
    if (it == chutes_.end() || it->second != std::make_pair(full, enabled)) {
      chutes_[c] = {full, enabled};
      out.push_back(ChuteState{c, full, enabled});
    }
  }
  // Overall state.
  if (hb_lost_)
    set_up(false, fmt::format("PLC heartbeat lost (frozen at {})", plc_hb_), out);
  else if (fault_ != 0)
    set_up(false, fmt::format("PLC fault {}: {}", fault_, describe_fault(fault_)), out);
  else if (consecutive_exceptions_ < opts_.exception_limit) {
    std::string where = opts_.transport == PlcOptions::Transport::Tcp
                            ? fmt::format("{}:{}", opts_.host, opts_.port)
                            : opts_.device;
    set_up(true, fmt::format("connected to {} unit {}", where, opts_.unit_id), out);
  }
}

bool PlcClient::follow_rings(std::vector<Event>& out) {
  struct Ring {
    const char* name;
    std::uint16_t& next;
    std::uint16_t plc_next;
    int base, size, entry;
  };
  Ring rings[] = {
      {"confirmation", conf_next_, plc_conf_next_, opts_.map.confirm_base, opts_.map.confirm_ring,
       conf::EntrySize},
      {"induction", induct_next_, plc_induct_next_, opts_.map.induct_base, opts_.map.induct_ring,
       ind::EntrySize},
      {"measurement", meas_next_, plc_meas_next_, opts_.map.measure_base, opts_.map.measure_ring,
       meas::EntrySize},
  };
  for (auto& r : rings) {
    if (r.next == r.plc_next) continue;
    int count = std::uint16_t(r.plc_next - r.next);
    if (count > r.size) {
      counters_.ring_overruns++;
      spdlog::error("{}: {} ring overrun: {} entries were overwritten before we read them",
                    opts_.name, r.name, count - r.size);
      r.next = std::uint16_t(r.plc_next - r.size);
      count = r.size;
    }
    std::uint16_t regs[MODBUS_MAX_READ_REGISTERS];
    int rc = modbus_read_registers(ctx_, r.base, r.size * r.entry, regs);
    if (!check(rc, "ring read", out)) return false;
    for (int i = 0; i < count; ++i) {
      std::uint16_t no = std::uint16_t(r.next + i);
      const std::uint16_t* e = regs + (no % r.size) * r.entry;
      if (e[0] != no) {
        counters_.ring_overruns++;
        spdlog::error("{}: {} ring entry {} was overwritten (slot holds entry {})", opts_.name,
                      r.name, no, e[0]);
        continue;
      }
      if (&r == &rings[0]) {
        std::uint32_t seq = u32(e[conf::SeqHi], e[conf::SeqLo]);
        std::uint16_t oc = e[conf::Outcome];
        if (oc < kOutcomeDiverted || oc > kOutcomeLost) {
          spdlog::error("{}: confirmation entry {}: outcome code {} is not 1..4, ignored",
                        opts_.name, no, oc);
          continue;
        }
        if (seq != 0) {
          if (std::find(recent_confirmed_.begin(), recent_confirmed_.end(), seq) !=
              recent_confirmed_.end()) {
            counters_.duplicates_dropped++;
            spdlog::warn("{}: second confirmation for seq {} dropped", opts_.name, seq);
            continue;
          }
          recent_confirmed_.push_back(seq);
          if (recent_confirmed_.size() > 4096) recent_confirmed_.pop_front();
        }
        counters_.confirmations++;
        DivertConfirmed c{seq, u32(e[conf::TidHi], e[conf::TidLo]), int(e[conf::Chute]),
                          DivertOutcome(oc)};
        c.device = opts_.name;
        c.plc_boot = boot_id_;
        c.ring_entry = no;
        out.push_back(std::move(c));
      } else if (&r == &rings[1]) {
        counters_.inductions++;
        out.push_back(ParcelInducted{u32(e[ind::TidHi], e[ind::TidLo])});
      } else {
        counters_.measurements++;
        out.push_back(ParcelMeasured{u32(e[meas::TidHi], e[meas::TidLo]),
                                     std::int32_t(u32(e[meas::WeightHi], e[meas::WeightLo])),
                                     e[meas::Length], e[meas::Width], e[meas::Height]});
      }
    }
    r.next = r.plc_next;
  }
  return true;
}

void PlcClient::expire(std::vector<Event>& out) {
  auto now = Clock::now();
  for (auto it = queue_.begin(); it != queue_.end();) {
    bool front = it == queue_.begin();
    bool retries_out = front && it->written && it->writes > opts_.ack_retries &&
                       ms_between(*it->written, now) >= opts_.ack_timeout_ms;
    bool too_old = ms_between(it->queued, now) >= opts_.command_expiry_ms;
    if (retries_out || too_old) {
      spdlog::warn("{}: sort command seq {} (tracking id {}) not acknowledged ({}), timed out",
                   opts_.name, it->cmd.seq, it->cmd.tracking_id,
                   retries_out ? fmt::format("{} writes", it->writes) : "expired in the queue");
      counters_.timeouts++;
      out.push_back(SortTimedOut{it->cmd.seq});
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<Event> PlcClient::poll() {
  std::vector<Event> out;
  auto now = Clock::now();
  if (!ctx_) {
    if (now < next_connect_ || !connect(out)) {
      expire(out);
      return out;
    }
  }
  if (ms_between(last_heartbeat_write_, now) >= opts_.heartbeat_interval_ms &&
      !write_heartbeat(out)) {
    expire(out);
    return out;
  }
  bool need_status = ms_between(last_status_, Clock::now()) >= opts_.poll_interval_ms;
  // Stop-and-wait: the front command is in the mailbox until ACK_SEQ shows its seq.
  for (int round = 0; round < 8 && ctx_ && !queue_.empty(); ++round) {
    expire(out);
    if (queue_.empty()) break;
    auto& f = queue_.front();
    std::uint32_t seq = f.cmd.seq;
    bool due = !f.written || ms_between(*f.written, Clock::now()) >= opts_.ack_timeout_ms;
    if (!due) break;
    if (f.writes > 0)
      spdlog::warn("{}: no ack for seq {} after {} ms, writing it again", opts_.name, seq,
                   opts_.ack_timeout_ms);
    if (!write_mailbox(out)) break;
    if (!opts_.fc23 && !read_status(out)) break;
    need_status = false;
    if (!queue_.empty() && queue_.front().cmd.seq == seq) break;  // not acked yet
  }
  if (ctx_ && need_status) read_status(out);
  if (ctx_) follow_rings(out);
  expire(out);
  return out;
}

}  // namespace sortd::sorter
