// sort-sim plc: a loop sorter PLC behind libmodbus (TCP server, or RTU on a serial device), with
// a line-based TCP control port for tests and the demo (docs/simulators.md). It implements the
// PLC side of docs/register-map.md. Runs in its own process (`sort-sim plc`) or embedded in a
// thread of another program (PlcSim::start()).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "sorter/register_map.h"

namespace sortd::sim {

struct PlcSimOptions {
  std::string host = "127.0.0.1";
  int port = 0;            // Modbus TCP port; 0 = any free port
  std::string rtu_device;  // when set: Modbus RTU on this serial device instead of TCP
  int baud = 115200;
  char parity = 'N';
  int unit_id = 1;
  int control_port = 0;  // 0 = any free port; -1 = no control port
  sorter::RegisterMap map;
  int chutes = 12;
  int exception_chute = 0;  // 0 = the last chute
  int capacity = 0;         // parcels a chute takes until it reports full; 0 = no limit
  int speed_mm_s = 2000;    // belt speed
  int decision_mm = 2000;   // sort deadline: position where the target chute is fixed
  int first_chute_mm = 3000;
  int chute_pitch_mm = 500;
  int loop_mm = 0;            // 0 = last chute + 2000 mm
  int max_laps = 3;           // recirculations before the fail-safe sends a parcel to exception
  bool manual_clock = false;  // the belt moves only on `advance <ms>`
  int tick_ms = 5;
  double rate_per_min = 0;  // automatic inductions
  int host_timeout_ms = 3000;
  int heartbeat_ms = 100;  // PLC heartbeat period
  // A journal of what the PLC saw and did, one line each, flushed (tests that check the host
  // against the plant, e.g. the crash harness):
  //   boot <boot id>            (start and every restart: tracking ids begin again)
  //   induct <tid>
  //   cmd <seq> <tid> <chute> <lap> accepted|refused|late|repeat
  //   confirm <seq> <tid> <chute> diverted|recirculated|rejected|lost
  std::string journal_path;
  // Embedded use (the demo): called for every inducted parcel, e.g. to hand its tracking id to
  // a simulated scanner. Runs in the simulator's thread with its lock held: keep it short.
  std::function<void(std::uint32_t tracking_id)> on_induct;
};

class PlcSim {
 public:
  explicit PlcSim(PlcSimOptions opts);
  ~PlcSim();
  PlcSim(const PlcSim&) = delete;
  PlcSim& operator=(const PlcSim&) = delete;

  // Open the ports (throws std::runtime_error on failure), then serve in a thread of our own.
  void start();
  // Open the ports and serve in the calling thread until stop() (from a signal handler: the
  // stop flag and a pipe write only).
  void run();
  void stop();

  int modbus_port() const { return modbus_port_; }
  int control_port() const { return control_port_; }
  // Execute one control command (same language as the control port); thread-safe.
  std::string control(const std::string& line);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  int modbus_port_ = 0, control_port_ = 0;
};

// `sort-sim plc` command line.
int plc_sim_main(int argc, char** argv);

}  // namespace sortd::sim
