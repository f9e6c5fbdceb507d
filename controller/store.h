// sortd: the durable record. A thin layer of prepared statements over SQLite in WAL mode with
// versioned migrations (docs/design.md, "Storage"). Every event's store operations are written
// in one transaction with synchronous=FULL before any of its sort commands leave.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "events.h"
#include "model.h"

struct sqlite3;

namespace sortd {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What the station core needs to resume after a restart (or a crash).
struct RecoveredState {
  std::uint64_t next_parcel_id = 1, next_read_id = 1, next_job_id = 1;
  std::uint32_t next_seq = 1;
  struct InFlight {
    std::uint64_t parcel_id = 0;
    std::string order_id;
    std::uint32_t tracking_id = 0;
    std::uint32_t seq = 0;  // last sort command sent for it
    std::string courier;
    int lane = 0, chute = 0, attempt = 0;
    std::int32_t weight_g = 0;
    std::int32_t day = 0;  // local day its capacity was reserved on
    ParcelState state = ParcelState::Decided;
    ExceptionKind exception = ExceptionKind::None;  // of its last decision
    TimeMs updated = 0;                             // its last decision or state change
  };
  std::vector<InFlight> in_flight;      // parcels Decided or Commanded, not yet final
  std::vector<StoreCapacity> capacity;  // totals per (day, courier)
  std::vector<StoreLane> lanes;
  // order id -> parcel id, for duplicate detection: orders whose parcel went to a courier (in
  // flight, diverted, or sorted by hand); not those whose parcel ended in an exception.
  std::vector<std::pair<std::string, std::uint64_t>> order_parcels;
  std::vector<StoreAlarm> alarms;  // raised and not cleared
  // Bags and manifests (docs/bags.md): open bags, closed bags of open manifests, open manifests.
  struct Bag {
    std::string bag_id;
    int lane = 0;
    std::string courier;
    std::int32_t day = 0;
    int seq = 0;
    bool closed = false;
    TimeMs opened = 0, closed_time = 0;
    std::int32_t count = 0;
    std::int64_t grams = 0;
    std::string reason;
    std::uint64_t manifest_id = 0;
    bool picked = false;
  };
  std::vector<Bag> bags;
  std::map<int, std::pair<std::int32_t, int>> bag_seq;  // lane -> (day, last seq that day)
  struct Manifest {
    std::uint64_t manifest_id = 0;
    std::string courier;
    std::int32_t day = 0, cutoff_min = 0;
    TimeMs opened = 0;
  };
  std::vector<Manifest> manifests;
  std::uint64_t next_manifest_id = 1;
  // Per sorter PLC: where its confirmation ring was last read (the driver resumes there).
  std::vector<StoreSorterCursor> sorter_cursors;
};

class Store {
 public:
  // Opens (creating if needed) and migrates to the current schema. Throws StoreError.
  explicit Store(const std::string& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  static int current_schema_version();
  int schema_version() const;
  // The SQL of one migration step (1..current_schema_version()), for tests and docs.
  static std::string migration_sql(int version);

  // One transaction, durable on return (synchronous=FULL). Throws StoreError; on error
  // nothing of `ops` is written.
  void apply(const std::vector<StoreOp>& ops);

  // Orders: bulk upsert in one transaction (fast path for 1,000,000 rows), and reading back.
  void upsert_orders(const std::vector<Order>& orders);
  void set_order_status(const std::string& order_id, OrderStatus s);
  void for_each_order(const std::function<void(Order&&)>& fn) const;
  std::size_t order_count() const;

  RecoveredState recover() const;

  // Run a WAL checkpoint (PASSIVE). The daemon calls this from its idle path, never inside the
  // commit of a parcel step (the automatic checkpoint is turned off).
  void checkpoint();

  sqlite3* handle() const;  // for queries / reports / tests

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sortd
