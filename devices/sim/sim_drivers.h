// In-process simulated devices ("sim" drivers) for the embedded default station: a conveyor
// sorter that inducts a stream of demo parcels, a scanner that reads them (with no-reads,
// unknown codes, multi-reads and duplicates on purpose), and a printer. They share one
// simulated belt (SimBelt) so that the scanner reads the parcel the sorter inducted.
// The real drivers (Modbus, USB/serial/TCP scanners, TCP/USB printers) replace them by
// configuration; these stay for the demo and for tests that need no sockets.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "driver.h"

namespace sortd::dev {

// A parcel on the simulated belt, as the scanner will see it.
struct SimParcel {
  std::uint32_t tracking_id = 0;
  std::vector<std::string> codes;  // empty = no-read
  std::int64_t scan_at_ms = 0;     // steady-clock time it passes the scanner
};

// The belt between the simulated sorter (which inducts) and the simulated scanner (which
// reads). One per process, keyed by name.
class SimBelt {
 public:
  static SimBelt& get(const std::string& name);
  void put(SimParcel p);
  // Waits up to timeout_ms for the next parcel whose scan time has come.
  bool take(SimParcel& out, int timeout_ms);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<SimParcel> q_;
};

std::vector<DriverInfo> sim_drivers();

}  // namespace sortd::dev
