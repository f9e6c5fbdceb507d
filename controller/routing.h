// sortd: routing. A pure function of (parcel, station configuration, today's capacity ledger,
// lane availability, time): no I/O, no globals. See docs/routing.md.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model.h"

namespace sortd {

// What routing knows about the parcel in front of the scanner.
struct ParcelFacts {
  const Order* order = nullptr;  // required
  std::int32_t weight_g = 0;     // measured if a scale reported one, else declared
  std::int32_t length_mm = 0, width_mm = 0, height_mm = 0;
};

// Runtime availability of each lane, indexed like StationConfig::lanes.
struct LaneAvailability {
  std::vector<std::uint8_t> enabled;  // operator / config
  std::vector<std::uint8_t> full;     // chute-full from the PLC, or no open bag
  bool usable(std::size_t lane_index) const {
    return lane_index < enabled.size() && enabled[lane_index] &&
           !(lane_index < full.size() && full[lane_index]);
  }
  static LaneAvailability all_open(const StationConfig& cfg);
};

struct Candidate {
  std::string courier;
  double score = 0;
  // The factors (each 0..1) that made the score, for "why lane 7?".
  double f_capacity = 0, f_region = 0, f_price = 0, f_cutoff = 0, f_preferred = 0;
  Fen price_fen = 0;
  std::int32_t billable_g = 0;
  int lane = 0;  // lane this courier would get; 0 = none usable
  bool overflow = false;
};

struct Exclusion {
  std::string courier;
  std::string rule;    // stable key: region, weight, size, cod, cod_limit, invoice, service,
                       // pickup_point, fragile, forbidden, capacity, capacity_kg, cutoff, no_lane
  std::string reason;  // words for people
};

struct Decision {
  std::vector<Candidate> ranked;    // eligible couriers, best first
  std::vector<Exclusion> excluded;  // every courier that was not eligible, with why
  std::string courier;              // chosen courier; empty for an exception
  int lane = 0;                     // lane id (always set when an exception lane exists)
  int chute = 0;
  bool overflow = false;
  ExceptionKind exception = ExceptionKind::None;
  std::string reason;  // for exceptions and overflow
};

class Router {
 public:
  explicit Router(const StationConfig& cfg);  // precomputes indexes; cfg must outlive Router

  // Rank couriers for a parcel and pick its lane.
  Decision route(const ParcelFacts& parcel, const CapacityLedger& ledger,
                 const LaneAvailability& lanes, TimeMs now) const;

  // The lane for an exception of this kind: the first usable exception lane that takes it,
  // else a catch-all exception lane. 0 when the station has none usable.
  int exception_lane(ExceptionKind kind, const LaneAvailability& lanes) const;

  // Price and billable weight of a parcel with one courier (exposed for tests and reports).
  Fen price(const Courier& c, const ParcelFacts& p, std::int32_t* billable_g = nullptr) const;

  const StationConfig& config() const { return cfg_; }

 private:
  const StationConfig& cfg_;
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace sortd
