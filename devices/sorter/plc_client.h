// sortd sorter: the host side of the PLC handshake (docs/register-map.md), over libmodbus TCP or
// RTU. No ZeroMQ here: send_command() queues a sort command, poll() does one cycle of Modbus
// I/O and returns the events it produced. The Driver wrapper (modbus_driver.cpp) feeds it the
// core's commands and emits its events. One PlcClient, one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "events.h"
#include "model.h"
#include "register_map.h"

struct _modbus;

namespace sortd::sorter {

struct PlcOptions {
  std::string name = "sorter";  // device name in DeviceStatus events
  enum class Transport { Tcp, Rtu } transport = Transport::Tcp;
  std::string host = "127.0.0.1";
  int port = 502;
  std::string device;  // RTU serial device
  int baud = 115200;
  char parity = 'N';  // N, E, O
  int data_bits = 8, stop_bits = 1;
  // RS-485: the kernel's RS-485 mode on the serial port (TIOCSRS485, for UARTs that drive the
  // transceiver's direction themselves), and RTS toggled by libmodbus around each request (for
  // adapters whose direction follows RTS). Off: the line is left as it is, which is right for
  // USB adapters with automatic direction control.
  bool rs485 = false;
  enum class Rts { None, Up, Down } rts = Rts::None;
  int unit_id = 1;
  int poll_interval_ms = 20;            // status read period when idle
  int response_timeout_ms = 200;        // one Modbus request
  int ack_timeout_ms = 300;             // mailbox write -> ACK_SEQ; then the same seq is re-written
  int ack_retries = 3;                  // re-writes before SortTimedOut
  int command_expiry_ms = 10000;        // a queued command older than this times out (link down)
  int heartbeat_interval_ms = 250;      // HOST_HEARTBEAT write period
  int plc_heartbeat_timeout_ms = 3000;  // PLC_HEARTBEAT frozen this long -> down
  int reconnect_min_ms = 100, reconnect_max_ms = 5000;
  int exception_limit = 5;  // consecutive Modbus exception answers before reporting down
  bool fc23 = false;        // write mailbox + read status in one FC23 transaction
  RegisterMap map;
  // Where a previous run of sortd stopped reading the confirmation ring (from the store). On
  // first contact with the same PLC boot, the confirmations given since are read, not skipped.
  struct Resume {
    std::uint16_t plc_boot = 0;
    std::uint16_t conf_next = 0;
  };
  std::optional<Resume> resume;
};

// Reads [[devices]] options of a sorter (kind "sorter", driver "modbus-tcp" / "modbus-rtu").
// Returns the options, or fills `problems` with "key: what is wrong" messages.
PlcOptions plc_options_from(const std::string& name, const std::string& driver,
                            const std::map<std::string, std::string>& options,
                            std::vector<std::string>& problems);

struct PlcCounters {
  std::uint64_t connects = 0, disconnects = 0, requests = 0, failures = 0, exceptions = 0;
  std::uint64_t mailbox_writes = 0, acks = 0, timeouts = 0, confirmations = 0, inductions = 0;
  std::uint64_t measurements = 0, ring_overruns = 0, duplicates_dropped = 0;
};

class PlcClient {
 public:
  using Clock = std::chrono::steady_clock;
  explicit PlcClient(PlcOptions opts);
  ~PlcClient();
  PlcClient(const PlcClient&) = delete;
  PlcClient& operator=(const PlcClient&) = delete;

  // Queue a sort command. A seq already queued is ignored (idempotent); a seq acked earlier is
  // written again, and the PLC answers it as a repeat without acting twice.
  void send_command(const SortCommand& c);
  // One cycle: (re)connect when due, write heartbeat / mailbox, read status and rings.
  std::vector<Event> poll();
  // How long the caller may sleep (waiting for commands) before the next poll() is useful.
  int next_poll_in_ms() const;

  bool connected() const { return ctx_ != nullptr; }
  bool up() const { return reported_up_.value_or(false); }
  std::size_t pending() const { return queue_.size(); }
  const PlcCounters& counters() const { return counters_; }
  const PlcOptions& options() const { return opts_; }
  std::uint16_t fault() const { return fault_; }
  void disconnect(const std::string& why);  // closes the link; reconnects on the next poll()

 private:
  struct Pending {
    SortCommand cmd;
    Clock::time_point queued;
    std::optional<Clock::time_point> written;  // last mailbox write
    int writes = 0;
  };
  bool connect(std::vector<Event>& out);
  bool check(int rc, const char* what, std::vector<Event>& out);
  bool read_status(std::vector<Event>& out);
  bool write_mailbox(std::vector<Event>& out);
  bool write_heartbeat(std::vector<Event>& out);
  void process_status(const std::uint16_t* s, std::vector<Event>& out);
  bool follow_rings(std::vector<Event>& out);
  void set_up(bool up, const std::string& detail, std::vector<Event>& out);
  void expire(std::vector<Event>& out);

  PlcOptions opts_;
  _modbus* ctx_ = nullptr;
  PlcCounters counters_;
  std::deque<Pending> queue_;  // front is in the mailbox (stop-and-wait)
  Clock::time_point next_connect_{};
  int backoff_ms_ = 0;
  Clock::time_point last_status_{}, last_heartbeat_write_{};
  std::uint16_t host_hb_ = 0;
  std::optional<bool> reported_up_;
  std::string last_detail_;  // detail of the last DeviceStatus
  std::string link_error_;   // why the link was last closed
  int consecutive_exceptions_ = 0;

  // Status as last seen.
  std::uint16_t boot_id_ = 0;
  bool have_boot_ = false;
  std::uint16_t plc_hb_ = 0;
  Clock::time_point plc_hb_changed_{};
  bool hb_lost_ = false;
  std::uint16_t fault_ = 0;
  std::uint32_t ack_seq_ = 0;
  std::uint16_t conf_next_ = 0, induct_next_ = 0, meas_next_ = 0;  // entries we expect next
  std::uint16_t plc_conf_next_ = 0, plc_induct_next_ = 0, plc_meas_next_ = 0;
  std::map<int, std::pair<bool, bool>> chutes_;  // chute -> (full, enabled) as last reported
  std::deque<std::uint32_t> recent_confirmed_;   // seqs confirmed (final outcomes), dedup
};

}  // namespace sortd::sorter
