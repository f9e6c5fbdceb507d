// sortd: the station core. One thread, a deterministic state machine: it takes events and the
// time, and returns effects (store this, print that, send this sort command, publish these
// updates). It does no I/O. See docs/design.md.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "events.h"
#include "model.h"
#include "orders.h"
#include "routing.h"
#include "store.h"

namespace sortd {

// Pairing of reads without a tracking id with PLC inductions (StationConfig scan_delay_ms and
// scan_tolerance_ms): a read at time t belongs to the induction whose expected scan time
// (induction + scan_delay_ms) is nearest to t, within scan_tolerance_ms. An induction with no
// read by then is a no-read.
struct CoreOptions {
  std::int32_t stats_interval_ms = 5000;
  std::size_t recent_parcels = 20;  // kept for the snapshot / station screen
};

// Counters since start (or since recovery), for statistics and the snapshot.
struct CoreStats {
  std::uint64_t reads = 0, no_reads = 0, decided = 0, diverted = 0, recirculated = 0;
  std::uint64_t exceptions = 0, overflowed = 0, labels = 0, labels_failed = 0;
  std::map<std::string, std::uint64_t> exceptions_by_reason;
  std::map<std::string, std::uint64_t> by_courier;
  std::map<std::int64_t, std::uint64_t> per_hour;  // local hour start (ms) -> parcels decided
};

class Core {
 public:
  Core(const StationConfig& cfg, OrderBook& orders, const RecoveredState& recovered,
       CoreOptions options = {});

  Effects handle(const Event& event, TimeMs now);

  // After a new configuration is activated: take over what `old` knew at run time that the
  // store does not hold (device links, chute-full bits, parcels inducted but not read yet,
  // measurements, statistics, the recent parcels).
  void carry_over(const Core& old);

  // The whole state as the clone pattern's snapshot body (lanes, couriers, devices, alarms,
  // statistics, recent parcels).
  nlohmann::json snapshot(TimeMs now) const;

  bool degraded() const { return !sorter_up_; }
  const CoreStats& stats() const { return stats_; }
  const CapacityLedger& ledger() const { return ledger_; }
  const LaneAvailability& lanes() const { return avail_; }
  std::size_t in_flight() const { return parcels_.size(); }
  // The open bag of every lane, and the open manifests (for the bus; the snapshot's lanes
  // carry their bag id and fill, which `lane` updates keep current).
  nlohmann::json bags_json() const;
  nlohmann::json manifests_json() const;
  // Why lane `lane_id`'s bag cannot be closed now ("" when it can): for the bus to refuse.
  std::string why_not_close_bag(int lane_id) const { return bag_close_refusal(lane_id); }
  const Router& router() const { return router_; }

 private:
  struct Parcel {
    std::uint64_t id = 0;
    std::string order_id;
    std::uint32_t tracking_id = 0;
    std::uint32_t seq = 0;
    std::string courier;  // reserved courier; empty for exceptions
    int lane = 0, chute = 0, attempt = 0;
    std::int32_t weight_g = 0;
    std::int32_t day = 0;
    ExceptionKind exception = ExceptionKind::None;
    ParcelState state = ParcelState::Decided;
    std::string labelled;     // courier of the last label printed for it
    TimeMs commanded_at = 0;  // when its last sort command was sent
  };
  struct Measure {
    std::int32_t weight_g = 0, length_mm = 0, width_mm = 0, height_mm = 0;
  };

  void on(const ScanRead& e, TimeMs now, Effects& fx);
  void on(const ParcelInducted& e, TimeMs now, Effects& fx);
  void on(const ParcelMeasured& e, TimeMs now, Effects& fx);
  void on(const SortAcked& e, TimeMs now, Effects& fx);
  void on(const DivertConfirmed& e, TimeMs now, Effects& fx);
  void on(const SortTimedOut& e, TimeMs now, Effects& fx);
  void on(const ChuteState& e, TimeMs now, Effects& fx);
  void on(const DeviceStatus& e, TimeMs now, Effects& fx);
  void on(const PrintFinished& e, TimeMs now, Effects& fx);
  void on(const OrdersUpserted& e, TimeMs now, Effects& fx);
  void on(const OrderStatusSet& e, TimeMs now, Effects& fx);
  void on(const LaneSet& e, TimeMs now, Effects& fx);
  void on(const Tick& e, TimeMs now, Effects& fx);
  // --- Operator commands from the bus (controller/core_commands.cpp) ---
  void on(const AlarmAck& e, TimeMs now, Effects& fx);
  void on(const LabelReprint& e, TimeMs now, Effects& fx);
  // --- end of operator commands ---
  // --- Bags, manifests, handover (controller/core_bags.cpp, docs/bags.md) ---
  void on(const BagClose& e, TimeMs now, Effects& fx);
  void on(const HandoverScan& e, TimeMs now, Effects& fx);
  void on(const HandoverMissort& e, TimeMs now, Effects& fx);
  void on(const ManifestClose& e, TimeMs now, Effects& fx);
  struct Bag {
    std::string id;
    int lane = 0;
    std::string courier;
    std::int32_t day = 0;
    int seq = 0;
    TimeMs opened = 0, closed_time = 0;
    bool closed = false;
    std::int32_t count = 0;
    std::int64_t grams = 0;
    std::string reason, closed_by;
    std::uint64_t manifest_id = 0, label_job = 0;
    bool picked = false;
  };
  struct Manifest {
    std::uint64_t id = 0;
    std::string courier;
    std::int32_t day = 0, cutoff_min = 0;
    TimeMs opened = 0;
  };
  // Does lane i hold bags (a lane with a courier: courier and overflow lanes)?
  bool bag_lane(std::size_t i) const;
  // Opens the bags of lanes that have none (at the first event, and after a configuration
  // change), closes bags whose lane changed courier.
  void settle_bags(TimeMs now, Effects& fx);
  void open_bag(std::size_t i, TimeMs now, Effects& fx);
  // Closes lane i's open bag: stores it, prints its label, adds it to its courier's manifest;
  // opens the next one if `reopen`. Does not publish the lane.
  void close_bag(std::size_t i, const std::string& reason, const std::string& user, bool reopen,
                 TimeMs now, Effects& fx);
  // A parcel confirmed into lane i joins the lane's bag; closes it at its limits.
  void bag_parcel(std::size_t i, std::uint64_t parcel_id, TimeMs now, Effects& fx);
  // Why lane `lane_id`'s bag cannot be closed by hand now; "" when it can.
  std::string bag_close_refusal(int lane_id) const;
  // A read of a lane's close barcode: handled as a command. True when `r` was one.
  bool close_code(const ScanRead& r, TimeMs now, Effects& fx);
  std::uint64_t manifest_for(const std::string& courier, TimeMs now, Effects& fx);
  void handover_issue(std::uint64_t manifest_id, const char* kind, const std::string& bag_id,
                      std::uint64_t parcel_id, const std::string& courier,
                      const std::string& detail, const std::string& user, TimeMs now, Effects& fx);
  void update_avail(std::size_t i);
  nlohmann::json bag_json(const Bag& b) const;
  nlohmann::json manifest_json(const Manifest& m) const;
  // --- end of bags ---

  // Identify the parcel of a read: the order, or the exception that stops it.
  ExceptionKind identify(const ScanRead& r, std::optional<Order>& order) const;
  // Decide (or re-decide) a parcel and emit its decision, sort command and label.
  void decide(Parcel& p, const std::optional<Order>& order, ExceptionKind exception,
              std::string reason, TimeMs now, Effects& fx, const ScanRead* read);
  // A parcel label: a print job and its "queued" record. Returns the job id.
  std::uint64_t queue_label(std::uint64_t parcel_id, const std::string& courier, int lane,
                            const Order& order, std::int32_t weight_g, TimeMs now, Effects& fx);
  void finish(Parcel& p, ParcelState state, ExceptionKind exception, int lane, TimeMs now,
              Effects& fx, const char* outcome);
  void reserve(Parcel& p, const std::string& courier, TimeMs now, Effects& fx);
  void release(Parcel& p, Effects& fx);
  void roll_day(TimeMs now);
  // Parcels whose sort command got no confirmation within confirm_timeout_s: lost.
  void expire_unconfirmed(TimeMs now, Effects& fx);
  void raise_alarm(const std::string& key, bool raised, const std::string& severity,
                   const std::string& text, TimeMs now, Effects& fx);
  void publish_lane(std::size_t lane_index, Effects& fx) const;
  void publish_courier(std::size_t courier_index, TimeMs now, Effects& fx) const;
  nlohmann::json lane_json(std::size_t lane_index) const;
  nlohmann::json courier_json(std::size_t courier_index, TimeMs now) const;
  nlohmann::json stats_json() const;
  std::uint32_t next_seq();
  std::size_t lane_index(int lane_id) const;
  int courier_index(const std::string& id) const;

  const StationConfig& cfg_;
  OrderBook& orders_;
  CoreOptions opt_;
  Router router_;

  CapacityLedger ledger_;
  LaneAvailability avail_;
  std::vector<std::uint8_t> enabled_by_operator_;  // per lane index
  std::vector<std::uint8_t> chute_full_;           // per lane index
  std::vector<std::int32_t> lane_fill_;            // parcels in the lane (current bag)
  std::vector<std::int64_t> lane_grams_;
  std::unordered_map<int, std::size_t> lane_by_chute_, lane_by_id_;

  std::map<std::uint64_t, Parcel> parcels_;  // in flight, by parcel id
  std::unordered_map<std::uint32_t, std::uint64_t> by_seq_;
  std::unordered_map<std::uint32_t, std::uint64_t> by_tracking_;
  std::unordered_map<std::string, std::uint64_t> order_parcel_;  // order -> its parcel
  std::map<std::uint32_t, TimeMs> inducted_;                     // tracking id -> induction time
  std::unordered_map<std::uint32_t, Measure> measured_;

  std::uint64_t next_parcel_id_ = 1, next_read_id_ = 1, next_job_id_ = 1;
  std::uint32_t next_seq_ = 1;
  bool sorter_up_ = false;
  TimeMs sorter_up_since_ = 0;  // the sorter's link up since (for the confirmation timeout)
  bool has_sorter_ = false;
  std::vector<StoreCapacity> recovered_capacity_;  // per (day, courier) at start
  std::map<std::string, nlohmann::json> devices_;
  std::map<std::string, nlohmann::json> alarms_;
  std::deque<nlohmann::json> recent_;
  // Bags and manifests.
  std::vector<std::string> open_bag_;                  // per lane index; "" = none
  std::vector<std::pair<std::int32_t, int>> bag_seq_;  // per lane index: (day, last seq)
  std::map<std::string, Bag> bags_;                    // open, and closed of open manifests
  std::map<std::uint64_t, Manifest> manifests_;        // open
  std::uint64_t next_manifest_id_ = 1;
  bool bags_pending_ = true;
  std::vector<std::string> handover_scanners_;  // scanners with role = "handover"
  CoreStats stats_;
  TimeMs last_stats_ = 0;
};

}  // namespace sortd
