// sortd: the station's data model. Plain value types shared by config, routing, orders, the
// store and the station core. Units are fixed everywhere:
//   weight  grams (int32)        size   millimetres (int32)
//   money   fen, 1/100 CNY (int64) time  milliseconds since the Unix epoch, UTC (int64)
//   a time of day (cutoff) is minutes after local midnight in the station's time zone.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sortd {

using TimeMs = std::int64_t;
using Fen = std::int64_t;

enum class ServiceLevel : std::uint8_t { Standard = 0, Express = 1, SameDay = 2 };
const char* to_string(ServiceLevel s);
std::optional<ServiceLevel> service_level_from(std::string_view s);

enum class OrderStatus : std::uint8_t { Active = 0, Held = 1, Cancelled = 2 };
const char* to_string(OrderStatus s);
std::optional<OrderStatus> order_status_from(std::string_view s);

// An order from the WMS/ERP. One order ships as one parcel; `codes` are every barcode printed on
// it (tracking number, order barcode, ...), each of which identifies the parcel at the scanner.
struct Order {
  std::string id;
  std::vector<std::string> codes;
  std::string province, city, district, postcode, address, recipient, phone;
  std::int32_t weight_g = 0;  // declared
  std::int32_t length_mm = 0, width_mm = 0, height_mm = 0;
  Fen cod_fen = 0;  // 0 = prepaid
  bool invoice = false;
  ServiceLevel service = ServiceLevel::Standard;
  bool pickup_point = false;  // delivery to a community pickup point / locker
  bool fragile = false;
  std::vector<std::string> preferred, forbidden;  // courier ids
  OrderStatus status = OrderStatus::Active;
};

// ---------------------------------------------------------------------------------------------
// Couriers, lanes, policies: the station configuration (see docs/configuration.md).

// Price of one parcel to one destination zone, by billable weight: the first `first_g` grams
// cost `first_fen`, every further started step of `step_g` grams costs `step_fen`.
struct ZoneRate {
  std::string zone;
  std::int32_t first_g = 1000;
  Fen first_fen = 0;
  std::int32_t step_g = 1000;
  Fen step_fen = 0;
};

enum class Pricing : std::uint8_t { PerPiece = 0, ByWeight = 1 };

// A region where a courier is strong: match on province, city (within province) or a postcode
// prefix. The best matching entry's score (0..1) is the courier's region advantage.
struct RegionScore {
  std::string province;         // empty = any
  std::string city;             // empty = whole province
  std::string postcode_prefix;  // used when non-empty, alone
  double score = 0.0;
};

struct Courier {
  std::string id;     // short key, e.g. "sf"
  std::string name;   // display name, e.g. "顺丰速运"
  std::string color;  // HMI colour, "#rrggbb"

  Pricing pricing = Pricing::PerPiece;
  Fen piece_fen = 0;                           // PerPiece
  std::vector<ZoneRate> zones;                 // ByWeight
  std::map<std::string, std::string> zone_of;  // province -> zone name; "*" = default
  std::int32_t volumetric_divisor = 0;         // cm^3 per kg; 0 = not billed volumetrically

  std::vector<std::string> serves;    // provinces served; empty = all
  std::vector<std::string> excludes;  // provinces (or "province/city") not served
  std::vector<RegionScore> strengths;

  bool cod = false;
  Fen cod_limit_fen = 0;  // 0 = no limit when cod is true
  bool invoice = true;
  bool standard = true, express = false, same_day = false;
  bool pickup_point = false;
  bool fragile = true;
  std::int32_t max_weight_g = 0;  // 0 = no limit
  std::int32_t max_side_mm = 0;   // longest side; 0 = no limit
  std::int32_t max_girth_mm = 0;  // L+W+H; 0 = no limit

  std::int32_t daily_parcels = 0;     // 0 = unlimited
  std::int32_t daily_kg = 0;          // 0 = unlimited
  std::int32_t cutoff_min = 24 * 60;  // last pickup, minutes after local midnight
};

enum class ExceptionKind : std::uint8_t {
  None = 0,
  NoRead,
  UnknownCode,
  MultiRead,
  Duplicate,
  Cancelled,
  Held,
  NoEligibleCourier,
  WaitNextWave,  // cutoff passed and policy says hold for tomorrow's wave
  RecirculationLimit,
  Rejected,  // the PLC rejected the parcel
  Lost,      // the PLC lost track of the parcel
  Degraded,  // no sorter: manual sort
};
const char* to_string(ExceptionKind k);
std::optional<ExceptionKind> exception_kind_from(std::string_view s);
const char* describe(ExceptionKind k);  // human-readable, for operators

enum class LaneKind : std::uint8_t { Courier = 0, Overflow = 1, Exception = 2 };
const char* to_string(LaneKind k);

struct Lane {
  int id = 0;     // lane number shown to people
  int chute = 0;  // PLC chute number
  LaneKind kind = LaneKind::Courier;
  std::string courier;                // Courier / Overflow lanes
  std::vector<std::string> regions;   // Courier lanes: "province" or "province/city"; empty = rest
  int overflow = 0;                   // lane id to use when this one is full or disabled; 0 = none
  std::vector<ExceptionKind> takes;   // Exception lanes; empty = catch-all
  std::int32_t bag_max_count = 0;     // 0 = no limit
  std::int32_t bag_max_weight_g = 0;  // 0 = no limit
  bool enabled = true;
};

enum class CutoffPolicy : std::uint8_t { NextCourier = 0, Hold = 1 };

// How ranking factors are combined: score = sum(weight_i * factor_i), each factor in 0..1.
struct RankWeights {
  double capacity = 0.30;   // share of today's capacity left
  double region = 0.30;     // region advantage
  double price = 0.30;      // 1 for the cheapest eligible courier, falling with price
  double cutoff = 0.10;     // time left to cutoff (saturating at `cutoff_horizon_min`)
  double preferred = 0.50;  // bonus when the order prefers this courier
  std::int32_t cutoff_horizon_min = 240;
};

struct Policies {
  RankWeights weights;
  CutoffPolicy cutoff = CutoffPolicy::NextCourier;
  int recirculation_limit = 2;
  // A parcel with a sort command and no confirmation for this long (counted while the sorter
  // is up) is closed as lost, with an alarm: the sorter's answer for it was lost (e.g. its
  // confirmation ring was overrun while sortd was down).
  std::int32_t confirm_timeout_s = 120;
  std::int32_t utc_offset_min = 8 * 60;  // station time zone (China Standard Time)
  std::string origin_province;           // where the warehouse is (for zone pricing)
};

struct StationConfig {
  std::string source;  // file it was read from
  std::string station_id, station_name;
  // Scan window ([station] scan_delay_ms / scan_tolerance_ms): a read without a tracking id is
  // paired with the induction it follows by scan_delay_ms, give or take scan_tolerance_ms.
  std::int32_t scan_delay_ms = 0;
  std::int32_t scan_tolerance_ms = 500;
  // Bags (docs/bags.md): a read of exactly "<bag_close_prefix><lane>" (e.g. CLOSE-L05) closes
  // that lane's bag; "" turns close barcodes off. Manifest exports go to manifest_dir
  // ("" = "manifests" beside the database).
  std::string bag_close_prefix = "CLOSE-L";
  std::string manifest_dir;
  Policies policies;
  std::vector<Courier> couriers;
  std::vector<Lane> lanes;
  // Device sections are kept as raw key/values per device; each driver validates its own.
  struct Device {
    std::string name, kind,
        driver;  // kind: scanner|printer|sorter; driver: sim|tcp|usb|serial|modbus-tcp|...
    std::map<std::string, std::string> options;
    int line = 0;
    // Set by the daemon at start from the store, never read from the file: where the driver
    // resumes (a sorter: "plc_boot" and "conf_next" of its confirmation ring).
    std::map<std::string, std::int64_t> resume = {};
  };
  std::vector<Device> devices;

  const Courier* courier(std::string_view id) const;
  const Lane* lane(int id) const;
  const Lane* lane_by_chute(int chute) const;
};

// ---------------------------------------------------------------------------------------------
// Today's capacity ledger: per courier, per local day.
struct CapacityUse {
  std::int32_t parcels = 0;
  std::int64_t grams = 0;
};
struct CapacityLedger {
  std::int32_t day = 0;           // local day number (days since 1970-01-01 in station time)
  std::vector<CapacityUse> used;  // indexed like StationConfig::couriers
};

// Local day number and minute of day for a UTC time in the station's time zone.
std::int32_t local_day(TimeMs t, std::int32_t utc_offset_min);
std::int32_t local_minute(TimeMs t, std::int32_t utc_offset_min);

}  // namespace sortd
