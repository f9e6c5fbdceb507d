#include "model.h"

#include <array>

namespace sortd {

namespace {
template <typename E, std::size_t N>
std::optional<E> from_names(const std::array<const char*, N>& names, std::string_view s) {
  for (std::size_t i = 0; i < N; ++i)
    if (s == names[i]) return static_cast<E>(i);
  return std::nullopt;
}
constexpr std::array<const char*, 3> kService{"standard", "express", "same_day"};
constexpr std::array<const char*, 3> kStatus{"active", "held", "cancelled"};
constexpr std::array<const char*, 13> kException{"none",           "no_read",
                                                 "unknown_code",   "multi_read",
                                                 "duplicate",      "cancelled",
                                                 "held",           "no_eligible_courier",
                                                 "wait_next_wave", "recirculation_limit",
                                                 "rejected",       "lost",
                                                 "degraded"};
constexpr std::array<const char*, 13> kExceptionText{
    "sorted",
    "no barcode could be read",
    "the barcode matches no order",
    "two different parcels in one read",
    "this parcel has already been sorted",
    "the order was cancelled",
    "the order is on hold",
    "no courier can take this parcel",
    "every courier's cutoff has passed: held for tomorrow's wave",
    "recirculated too many times",
    "the sorter rejected the parcel",
    "the sorter lost track of the parcel",
    "the sorter is away: sort by hand"};
constexpr std::array<const char*, 3> kLaneKind{"courier", "overflow", "exception"};
}  // namespace

const char* to_string(ServiceLevel s) {
  return kService.at(static_cast<std::size_t>(s));
}
std::optional<ServiceLevel> service_level_from(std::string_view s) {
  return from_names<ServiceLevel>(kService, s);
}
const char* to_string(OrderStatus s) {
  return kStatus.at(static_cast<std::size_t>(s));
}
std::optional<OrderStatus> order_status_from(std::string_view s) {
  return from_names<OrderStatus>(kStatus, s);
}
const char* to_string(ExceptionKind k) {
  return kException.at(static_cast<std::size_t>(k));
}
std::optional<ExceptionKind> exception_kind_from(std::string_view s) {
  return from_names<ExceptionKind>(kException, s);
}
const char* describe(ExceptionKind k) {
  return kExceptionText.at(static_cast<std::size_t>(k));
}
const char* to_string(LaneKind k) {
  return kLaneKind.at(static_cast<std::size_t>(k));
}

const Courier* StationConfig::courier(std::string_view id) const {
  for (const auto& c : couriers)
    if (c.id == id) return &c;
  return nullptr;
}
const Lane* StationConfig::lane(int id) const {
  for (const auto& l : lanes)
    if (l.id == id) return &l;
  return nullptr;
}
const Lane* StationConfig::lane_by_chute(int chute) const {
  for (const auto& l : lanes)
    if (l.chute == chute) return &l;
  return nullptr;
}

namespace {
constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kDayMin = 24 * 60;
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
}  // namespace

std::int32_t local_day(TimeMs t, std::int32_t utc_offset_min) {
  std::int64_t local_min = floor_div(t, kMinuteMs) + utc_offset_min;
  return static_cast<std::int32_t>(floor_div(local_min, kDayMin));
}
std::int32_t local_minute(TimeMs t, std::int32_t utc_offset_min) {
  std::int64_t local_min = floor_div(t, kMinuteMs) + utc_offset_min;
  return static_cast<std::int32_t>(local_min - floor_div(local_min, kDayMin) * kDayMin);
}

}  // namespace sortd
