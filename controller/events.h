// sortd: what goes into the station core (events) and what comes out of it (effects).
// The core is a pure state machine: Core::handle(event, now) -> Effects. The daemon executes the
// effects in a fixed order: the store operations first, in one durable transaction, and only
// then the sort commands, print jobs and publications. See docs/design.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "model.h"

namespace sortd {

// ---------------------------------------------------------------------------------------------
// Events

struct Code {
  std::string text;
  std::string symbology;  // AIM identifier without the ']' ("C1", "Q1", "d2"), or empty
  bool operator==(const Code&) const = default;
};

// One read of one parcel by one scanner: one or more codes, or a no-read.
struct ScanRead {
  std::string scanner;
  std::uint32_t tracking_id = 0;  // PLC tracking id of the parcel in the scan zone; 0 = none
  std::vector<Code> codes;
  bool no_read = false;
};

// The PLC reports a parcel entering the scan zone with the tracking id it will follow the parcel
// by. A read is paired with its induction explicitly: by the tracking id the reader echoes, or
// else by the scan window of the induction (see StationConfig scan window); a missing read never
// shifts the reads of the parcels behind it.
struct ParcelInducted {
  std::uint32_t tracking_id = 0;
};

// Weight / size of a parcel from a scale or DWS, by PLC tracking id.
struct ParcelMeasured {
  std::uint32_t tracking_id = 0;
  std::int32_t weight_g = 0;
  std::int32_t length_mm = 0, width_mm = 0, height_mm = 0;
};

enum class DivertOutcome : std::uint8_t { Diverted = 1, Recirculated = 2, Rejected = 3, Lost = 4 };
const char* to_string(DivertOutcome o);

struct SortAcked {
  std::uint32_t seq = 0;
};

struct DivertConfirmed {
  std::uint32_t seq = 0;
  std::uint32_t tracking_id = 0;
  int chute = 0;
  DivertOutcome outcome = DivertOutcome::Diverted;
  // Where it was read in the PLC's confirmation ring (docs/register-map.md). The store keeps
  // the position with the confirmation, so that a restarted sortd reads the confirmations it
  // missed while it was down. ring_entry -1: not from a ring (simulated sorters, tests).
  std::string device = {};
  std::uint16_t plc_boot = 0;
  std::int32_t ring_entry = -1;
};

// A sort command that got no acknowledgement in time (from the sorter driver).
struct SortTimedOut {
  std::uint32_t seq = 0;
};

struct ChuteState {
  int chute = 0;
  bool full = false;
  bool enabled = true;
};

enum class DeviceKind : std::uint8_t { Scanner, Printer, Sorter };
const char* to_string(DeviceKind k);

struct DeviceStatus {
  std::string device;  // configured name
  DeviceKind kind = DeviceKind::Scanner;
  bool up = true;
  std::string detail;  // e.g. "paper out", "connection refused"
};

enum class JobOutcome : std::uint8_t { Queued = 0, Printed, Failed, Held, Cancelled };
const char* to_string(JobOutcome o);

struct PrintFinished {
  std::uint64_t job_id = 0;
  JobOutcome outcome = JobOutcome::Printed;
  std::string printer;
  std::string detail;
};

// Orders imported, cancelled or held come in through the core so that it sees them in order
// with the reads. (Bulk import writes the store itself and then sends the orders here.)
struct OrdersUpserted {
  std::vector<Order> orders;
};
struct OrderStatusSet {
  std::string order_id;
  OrderStatus status = OrderStatus::Active;
  std::string user;
};

struct LaneSet {
  int lane = 0;
  bool enabled = true;
  std::string user;
};

struct Tick {};

// --- Operator commands from the bus (controller/core_commands.cpp, docs/protocol.md) ---------
// An operator acknowledges a raised alarm: it stays raised until its cause clears.
struct AlarmAck {
  std::string key;
  std::string user;
};
// Print a parcel's label again. The bus rebuilds it from the store (the last decision and the
// order); the core gives it a job id, records and prints it.
struct LabelReprint {
  std::uint64_t parcel_id = 0;
  std::string courier;
  int lane = 0;
  std::int32_t weight_g = 0;
  Order order;
  std::string user;
};

// --- Bags, manifests, handover (controller/core_bags.cpp, docs/bags.md) ---------------------
// A person closes the open bag of a lane (bus bag.close; the close barcode scan is a ScanRead).
struct BagClose {
  int lane = 0;
  std::string user;
};
// The courier's picker scans a bag label at handover. `courier`, when given, is whose handover
// this is: a bag of another courier is flagged.
struct HandoverScan {
  std::string bag_id;
  std::string courier;
  std::string user;
};
// A picker reports a parcel found in a bag of the wrong courier. The bus resolves the code to
// the parcel and its courier from the store.
struct HandoverMissort {
  std::string bag_id;
  std::string code;
  std::uint64_t parcel_id = 0;  // 0 when the code matches no parcel
  std::string parcel_courier;
  std::string user;
};
// A supervisor closes a manifest. The bus gathers its parcels from the store (and has written
// the export files); the core records the close and publishes one parcel.shipped per parcel.
struct ShippedParcel {
  std::uint64_t parcel_id = 0;
  std::string order_id, tracking, bag_id;
  bool operator==(const ShippedParcel&) const = default;
};
struct ManifestClose {
  std::uint64_t manifest_id = 0;
  std::string user;
  bool forced = false;
  std::vector<ShippedParcel> parcels;
};

using Event = std::variant<ScanRead, ParcelInducted, ParcelMeasured, SortAcked, DivertConfirmed,
                           SortTimedOut, ChuteState, DeviceStatus, PrintFinished, OrdersUpserted,
                           OrderStatusSet, LaneSet, Tick, AlarmAck, LabelReprint, BagClose,
                           HandoverScan, HandoverMissort, ManifestClose>;

// ---------------------------------------------------------------------------------------------
// Effects

// A parcel's state in the store.
enum class ParcelState : std::uint8_t {
  Decided = 1,    // decision stored, sort command about to leave
  Commanded = 2,  // PLC acknowledged the command
  Diverted = 3,   // final: in its lane
  Exception = 4,  // final: in an exception lane (or manual sort)
};
const char* to_string(ParcelState s);

// Store operations. The store writes all operations of one event in one transaction.
struct StoreRead {
  std::uint64_t read_id = 0;
  std::uint64_t parcel_id = 0;
  TimeMs time = 0;
  ScanRead read;
};
struct StoreDecision {
  std::uint64_t parcel_id = 0;
  std::string order_id;  // empty when not identified
  std::uint32_t tracking_id = 0;
  int attempt = 0;  // 0 = first decision, n = after n recirculations
  TimeMs time = 0;
  std::string courier;
  int lane = 0, chute = 0;
  ExceptionKind exception = ExceptionKind::None;
  std::string reason;
  std::string candidates_json;  // ranked candidates and exclusions (see to_json(Decision))
  std::int32_t weight_g = 0;
  std::int32_t day = 0;  // local day the courier's capacity was reserved on (RecoveredState)
};
struct StoreSortCommand {
  std::uint32_t seq = 0;
  std::uint64_t parcel_id = 0;
  std::uint32_t tracking_id = 0;
  int chute = 0;
  TimeMs time = 0;
};
struct StoreSortAck {
  std::uint32_t seq = 0;
  TimeMs time = 0;
};
struct StoreConfirmation {
  std::uint32_t seq = 0;
  std::uint64_t parcel_id = 0;  // 0 when the seq matched no parcel
  std::uint32_t tracking_id = 0;
  int chute = 0;
  DivertOutcome outcome = DivertOutcome::Diverted;
  TimeMs time = 0;
};
struct StoreParcelState {
  std::uint64_t parcel_id = 0;
  ParcelState state = ParcelState::Decided;
  ExceptionKind exception = ExceptionKind::None;
  int lane = 0;
  TimeMs time = 0;
};
// Signed change to a courier's capacity use on a local day.
struct StoreCapacity {
  std::int32_t day = 0;
  std::string courier;
  std::int32_t parcels = 0;
  std::int64_t grams = 0;
};
struct StoreLane {
  int lane = 0;
  bool enabled = true;
  std::int32_t fill_count = 0;
  std::int64_t fill_grams = 0;
};
struct StoreLabelJob {
  std::uint64_t job_id = 0;
  std::uint64_t parcel_id = 0;
  std::string kind;  // parcel | bag | lane
  std::string printer;
  JobOutcome outcome = JobOutcome::Queued;
  std::string detail;
  TimeMs time = 0;
};
struct StoreOrderStatus {
  std::string order_id;
  OrderStatus status = OrderStatus::Active;
};
struct StoreAlarm {
  std::string key;  // stable id, e.g. "printer:zebra1:paper_out"
  bool raised = true;
  std::string severity;  // info | warning | error
  std::string text;
  TimeMs time = 0;
};
// The next confirmation ring entry to read from a sorter PLC, for the boot it belongs to.
struct StoreSorterCursor {
  std::string device;
  std::uint16_t plc_boot = 0;
  std::uint16_t conf_next = 0;
  TimeMs time = 0;
};
struct StoreAudit {
  std::string user, action, detail;
  TimeMs time = 0;
};

// A bag (upserted whole when it opens and when it closes; its running count is the lane's fill).
struct StoreBag {
  std::string bag_id;  // e.g. B20261123-05-003: local date, lane, sequence of the day
  int lane = 0;
  std::string courier;
  std::int32_t day = 0;  // local day it opened on
  int seq = 0;
  bool closed = false;
  TimeMs opened = 0, closed_time = 0;
  std::int32_t count = 0;
  std::int64_t grams = 0;
  std::string reason;  // count | weight | chute_full | manual | scan
  std::string closed_by;
  std::uint64_t manifest_id = 0;
  std::uint64_t label_job = 0;
};
// A parcel confirmed into a lane joins the lane's open bag.
struct StoreBagParcel {
  std::uint64_t parcel_id = 0;
  std::string bag_id;
  TimeMs time = 0;
};
struct StoreManifest {
  std::uint64_t manifest_id = 0;
  std::string courier;
  std::int32_t day = 0;  // the wave: local day and the courier's cutoff
  std::int32_t cutoff_min = 0;
  bool closed = false;
  TimeMs opened = 0, closed_time = 0;
  std::string closed_by;
  bool forced = false;
};
struct StoreBagPicked {
  std::string bag_id;
  TimeMs time = 0;
  std::string user;
};
// handover_issues: kind not_taken | not_on_manifest | missort.
struct StoreHandoverIssue {
  std::uint64_t manifest_id = 0;  // 0 = none
  std::string kind;
  std::string bag_id;
  std::uint64_t parcel_id = 0;  // 0 = none
  std::string courier;
  TimeMs time = 0;
  std::string detail;
};

using StoreOp =
    std::variant<StoreRead, StoreDecision, StoreSortCommand, StoreSortAck, StoreConfirmation,
                 StoreParcelState, StoreCapacity, StoreLane, StoreLabelJob, StoreOrderStatus,
                 StoreAlarm, StoreAudit, StoreBag, StoreBagParcel, StoreManifest, StoreBagPicked,
                 StoreHandoverIssue, StoreSorterCursor>;

struct SortCommand {
  std::uint32_t seq = 0;
  std::uint32_t tracking_id = 0;
  int chute = 0;
};

// A label to print. Carries what the template needs so that printing needs no lookups.
struct PrintJob {
  std::uint64_t job_id = 0;
  std::uint64_t parcel_id = 0;
  std::string kind = "parcel";  // parcel | bag | lane
  std::string courier;          // courier id
  int lane = 0;
  ExceptionKind exception = ExceptionKind::None;
  std::string reason;
  Order order;  // empty id for exception labels without an order
  std::int32_t weight_g = 0;
  std::map<std::string, std::string> fields;  // extra template fields (bag: bag_id, count, ...)
};

struct Publish {
  std::string topic;  // e.g. "parcel.decided", "lane", "alarm"
  std::string json;   // body without the bus sequence number; the bus adds seq and time
};

struct Effects {
  std::vector<StoreOp> store;
  std::vector<SortCommand> sort;
  std::vector<PrintJob> print;
  std::vector<Publish> publish;
  std::vector<std::string> log;  // one line per parcel outcome etc., for the journal

  bool empty() const {
    return store.empty() && sort.empty() && print.empty() && publish.empty() && log.empty();
  }
  // Appends another event's effects after these (group commit: several events, one
  // transaction, then all their commands).
  void append(Effects&& more);
};

}  // namespace sortd
