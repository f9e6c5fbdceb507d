// JSON encoding of events, orders, device commands and decisions (controller/codec.h).
#include <nlohmann/json.hpp>

#include "codec.h"

namespace sortd {

using nlohmann::json;

namespace {

// Typed field access with errors that name the field.
template <typename T>
T get(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) throw CodecError(std::string("missing field '") + key + "'");
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw CodecError(std::string("field '") + key + "' has the wrong type (" + it->type_name() +
                     ")");
  }
}
template <typename T>
T opt(const json& j, const char* key, T dflt) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return dflt;
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw CodecError(std::string("field '") + key + "' has the wrong type (" + it->type_name() +
                     ")");
  }
}

template <typename E>
E enum_field(const json& j, const char* key, std::optional<E> (*from)(std::string_view)) {
  auto s = get<std::string>(j, key);
  auto v = from(s);
  if (!v) throw CodecError(std::string("field '") + key + "': unknown value '" + s + "'");
  return *v;
}

std::optional<DivertOutcome> divert_outcome_from(std::string_view s) {
  for (auto o : {DivertOutcome::Diverted, DivertOutcome::Recirculated, DivertOutcome::Rejected,
                 DivertOutcome::Lost})
    if (s == to_string(o)) return o;
  return std::nullopt;
}
std::optional<DeviceKind> device_kind_from(std::string_view s) {
  for (auto k : {DeviceKind::Scanner, DeviceKind::Printer, DeviceKind::Sorter})
    if (s == to_string(k)) return k;
  return std::nullopt;
}
std::optional<JobOutcome> job_outcome_from(std::string_view s) {
  for (auto o : {JobOutcome::Queued, JobOutcome::Printed, JobOutcome::Failed, JobOutcome::Held,
                 JobOutcome::Cancelled})
    if (s == to_string(o)) return o;
  return std::nullopt;
}

struct EventToJson {
  json operator()(const ScanRead& r) const {
    json codes = json::array();
    for (const auto& c : r.codes) {
      json cj = {{"text", c.text}};
      if (!c.symbology.empty()) cj["symbology"] = c.symbology;
      codes.push_back(std::move(cj));
    }
    return {{"type", "scan_read"},
            {"scanner", r.scanner},
            {"tracking_id", r.tracking_id},
            {"codes", codes},
            {"no_read", r.no_read}};
  }
  json operator()(const ParcelInducted& e) const {
    return {{"type", "parcel_inducted"}, {"tracking_id", e.tracking_id}};
  }
  json operator()(const ParcelMeasured& e) const {
    return {{"type", "parcel_measured"}, {"tracking_id", e.tracking_id},
            {"weight_g", e.weight_g},    {"length_mm", e.length_mm},
            {"width_mm", e.width_mm},    {"height_mm", e.height_mm}};
  }
  json operator()(const SortAcked& e) const { return {{"type", "sort_acked"}, {"seq", e.seq}}; }
  json operator()(const DivertConfirmed& e) const {
    json j = {{"type", "divert_confirmed"},
              {"seq", e.seq},
              {"tracking_id", e.tracking_id},
              {"chute", e.chute},
              {"outcome", to_string(e.outcome)}};
    if (e.ring_entry >= 0) {
      j["device"] = e.device;
      j["plc_boot"] = e.plc_boot;
      j["ring_entry"] = e.ring_entry;
    }
    return j;
  }
  json operator()(const SortTimedOut& e) const {
    return {{"type", "sort_timed_out"}, {"seq", e.seq}};
  }
  json operator()(const ChuteState& e) const {
    return {{"type", "chute_state"}, {"chute", e.chute}, {"full", e.full}, {"enabled", e.enabled}};
  }
  json operator()(const DeviceStatus& e) const {
    return {{"type", "device_status"},
            {"device", e.device},
            {"kind", to_string(e.kind)},
            {"up", e.up},
            {"detail", e.detail}};
  }
  json operator()(const PrintFinished& e) const {
    return {{"type", "print_finished"},
            {"job_id", e.job_id},
            {"outcome", to_string(e.outcome)},
            {"printer", e.printer},
            {"detail", e.detail}};
  }
  json operator()(const OrdersUpserted& e) const {
    json orders = json::array();
    for (const auto& o : e.orders) orders.push_back(to_json(o));
    return {{"type", "orders_upserted"}, {"orders", std::move(orders)}};
  }
  json operator()(const OrderStatusSet& e) const {
    return {{"type", "order_status_set"},
            {"order_id", e.order_id},
            {"status", to_string(e.status)},
            {"user", e.user}};
  }
  json operator()(const LaneSet& e) const {
    return {{"type", "lane_set"}, {"lane", e.lane}, {"enabled", e.enabled}, {"user", e.user}};
  }
  json operator()(const Tick&) const { return {{"type", "tick"}}; }
  // Operator commands from the bus.
  json operator()(const AlarmAck& e) const {
    return {{"type", "alarm_ack"}, {"key", e.key}, {"user", e.user}};
  }
  json operator()(const LabelReprint& e) const {
    json j = {{"type", "label_reprint"}, {"parcel_id", e.parcel_id}, {"courier", e.courier},
              {"lane", e.lane},          {"weight_g", e.weight_g},   {"user", e.user}};
    if (!e.order.id.empty()) j["order"] = to_json(e.order);
    return j;
  }
  // Bags, manifests, handover.
  json operator()(const BagClose& e) const {
    return {{"type", "bag_close"}, {"lane", e.lane}, {"user", e.user}};
  }
  json operator()(const HandoverScan& e) const {
    return {
        {"type", "handover_scan"}, {"bag_id", e.bag_id}, {"courier", e.courier}, {"user", e.user}};
  }
  json operator()(const HandoverMissort& e) const {
    return {{"type", "handover_missort"},
            {"bag_id", e.bag_id},
            {"code", e.code},
            {"parcel_id", e.parcel_id},
            {"parcel_courier", e.parcel_courier},
            {"user", e.user}};
  }
  json operator()(const ManifestClose& e) const {
    json parcels = json::array();
    for (const auto& p : e.parcels)
      parcels.push_back({{"parcel_id", p.parcel_id},
                         {"order_id", p.order_id},
                         {"tracking", p.tracking},
                         {"bag_id", p.bag_id}});
    return {{"type", "manifest_close"},
            {"manifest_id", e.manifest_id},
            {"user", e.user},
            {"forced", e.forced},
            {"parcels", std::move(parcels)}};
  }
};

}  // namespace

json to_json(const Event& e) {
  return std::visit(EventToJson{}, e);
}

Event event_from_json(const json& j) {
  if (!j.is_object()) throw CodecError("an event must be a JSON object");
  auto type = get<std::string>(j, "type");
  if (type == "scan_read") {
    ScanRead r;
    r.scanner = get<std::string>(j, "scanner");
    r.tracking_id = opt<std::uint32_t>(j, "tracking_id", 0);
    r.no_read = opt<bool>(j, "no_read", false);
    auto codes = opt<json>(j, "codes", json::array());
    if (!codes.is_array()) throw CodecError("field 'codes' must be an array");
    for (const auto& c : codes) {
      if (c.is_string()) {
        r.codes.push_back({c.get<std::string>(), ""});
      } else if (c.is_object()) {
        r.codes.push_back({get<std::string>(c, "text"), opt<std::string>(c, "symbology", "")});
      } else {
        throw CodecError("field 'codes' must hold strings or {text, symbology} objects");
      }
    }
    return r;
  }
  if (type == "parcel_inducted") return ParcelInducted{get<std::uint32_t>(j, "tracking_id")};
  if (type == "parcel_measured")
    return ParcelMeasured{get<std::uint32_t>(j, "tracking_id"), get<std::int32_t>(j, "weight_g"),
                          opt<std::int32_t>(j, "length_mm", 0), opt<std::int32_t>(j, "width_mm", 0),
                          opt<std::int32_t>(j, "height_mm", 0)};
  if (type == "sort_acked") return SortAcked{get<std::uint32_t>(j, "seq")};
  if (type == "divert_confirmed") {
    DivertConfirmed e{get<std::uint32_t>(j, "seq"), opt<std::uint32_t>(j, "tracking_id", 0),
                      get<int>(j, "chute"),
                      enum_field<DivertOutcome>(j, "outcome", divert_outcome_from)};
    e.ring_entry = opt<std::int32_t>(j, "ring_entry", -1);
    if (e.ring_entry >= 0) {
      e.device = get<std::string>(j, "device");
      e.plc_boot = get<std::uint16_t>(j, "plc_boot");
    }
    return e;
  }
  if (type == "sort_timed_out") return SortTimedOut{get<std::uint32_t>(j, "seq")};
  if (type == "chute_state")
    return ChuteState{get<int>(j, "chute"), opt<bool>(j, "full", false),
                      opt<bool>(j, "enabled", true)};
  if (type == "device_status")
    return DeviceStatus{get<std::string>(j, "device"),
                        enum_field<DeviceKind>(j, "kind", device_kind_from), get<bool>(j, "up"),
                        opt<std::string>(j, "detail", "")};
  if (type == "print_finished")
    return PrintFinished{get<std::uint64_t>(j, "job_id"),
                         enum_field<JobOutcome>(j, "outcome", job_outcome_from),
                         opt<std::string>(j, "printer", ""), opt<std::string>(j, "detail", "")};
  if (type == "orders_upserted") {
    OrdersUpserted e;
    auto orders = get<json>(j, "orders");
    if (!orders.is_array()) throw CodecError("field 'orders' must be an array");
    for (const auto& o : orders) e.orders.push_back(order_from_json(o));
    return e;
  }
  if (type == "order_status_set")
    return OrderStatusSet{get<std::string>(j, "order_id"),
                          enum_field<OrderStatus>(j, "status", order_status_from),
                          opt<std::string>(j, "user", "")};
  if (type == "lane_set")
    return LaneSet{get<int>(j, "lane"), get<bool>(j, "enabled"), opt<std::string>(j, "user", "")};
  if (type == "tick") return Tick{};
  // Operator commands from the bus.
  if (type == "alarm_ack")
    return AlarmAck{get<std::string>(j, "key"), opt<std::string>(j, "user", "")};
  if (type == "label_reprint") {
    LabelReprint e;
    e.parcel_id = get<std::uint64_t>(j, "parcel_id");
    e.courier = opt<std::string>(j, "courier", "");
    e.lane = opt<int>(j, "lane", 0);
    e.weight_g = opt<std::int32_t>(j, "weight_g", 0);
    if (j.contains("order")) e.order = order_from_json(j.at("order"));
    e.user = opt<std::string>(j, "user", "");
    return e;
  }
  // Bags, manifests, handover.
  if (type == "bag_close") return BagClose{get<int>(j, "lane"), opt<std::string>(j, "user", "")};
  if (type == "handover_scan")
    return HandoverScan{get<std::string>(j, "bag_id"), opt<std::string>(j, "courier", ""),
                        opt<std::string>(j, "user", "")};
  if (type == "handover_missort")
    return HandoverMissort{get<std::string>(j, "bag_id"), get<std::string>(j, "code"),
                           opt<std::uint64_t>(j, "parcel_id", 0),
                           opt<std::string>(j, "parcel_courier", ""),
                           opt<std::string>(j, "user", "")};
  if (type == "manifest_close") {
    ManifestClose e;
    e.manifest_id = get<std::uint64_t>(j, "manifest_id");
    e.user = opt<std::string>(j, "user", "");
    e.forced = opt<bool>(j, "forced", false);
    auto parcels = opt<json>(j, "parcels", json::array());
    if (!parcels.is_array()) throw CodecError("field 'parcels' must be an array");
    for (const auto& p : parcels) {
      if (!p.is_object()) throw CodecError("field 'parcels' must hold objects");
      e.parcels.push_back({get<std::uint64_t>(p, "parcel_id"), opt<std::string>(p, "order_id", ""),
                           opt<std::string>(p, "tracking", ""), opt<std::string>(p, "bag_id", "")});
    }
    return e;
  }
  throw CodecError("unknown event type '" + type + "'");
}

std::string encode_event(const Event& e) {
  return to_json(e).dump();
}

Event decode_event(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) throw CodecError("an event is not valid JSON");
  return event_from_json(j);
}

json to_json(const Order& o) {
  json j = {{"order_id", o.id},
            {"codes", o.codes},
            {"province", o.province},
            {"city", o.city},
            {"district", o.district},
            {"postcode", o.postcode},
            {"address", o.address},
            {"recipient", o.recipient},
            {"phone", o.phone},
            {"weight_g", o.weight_g},
            {"length_mm", o.length_mm},
            {"width_mm", o.width_mm},
            {"height_mm", o.height_mm},
            {"cod_fen", o.cod_fen},
            {"invoice", o.invoice},
            {"service", to_string(o.service)},
            {"pickup_point", o.pickup_point},
            {"fragile", o.fragile},
            {"preferred", o.preferred},
            {"forbidden", o.forbidden},
            {"status", to_string(o.status)}};
  return j;
}

Order order_from_json(const json& j) {
  if (!j.is_object()) throw CodecError("an order must be a JSON object");
  Order o;
  o.id = get<std::string>(j, "order_id");
  o.codes = opt<std::vector<std::string>>(j, "codes", {});
  o.province = opt<std::string>(j, "province", "");
  o.city = opt<std::string>(j, "city", "");
  o.district = opt<std::string>(j, "district", "");
  o.postcode = opt<std::string>(j, "postcode", "");
  o.address = opt<std::string>(j, "address", "");
  o.recipient = opt<std::string>(j, "recipient", "");
  o.phone = opt<std::string>(j, "phone", "");
  o.weight_g = opt<std::int32_t>(j, "weight_g", 0);
  o.length_mm = opt<std::int32_t>(j, "length_mm", 0);
  o.width_mm = opt<std::int32_t>(j, "width_mm", 0);
  o.height_mm = opt<std::int32_t>(j, "height_mm", 0);
  o.cod_fen = opt<Fen>(j, "cod_fen", 0);
  o.invoice = opt<bool>(j, "invoice", false);
  if (j.contains("service")) o.service = enum_field<ServiceLevel>(j, "service", service_level_from);
  o.pickup_point = opt<bool>(j, "pickup_point", false);
  o.fragile = opt<bool>(j, "fragile", false);
  o.preferred = opt<std::vector<std::string>>(j, "preferred", {});
  o.forbidden = opt<std::vector<std::string>>(j, "forbidden", {});
  if (j.contains("status")) o.status = enum_field<OrderStatus>(j, "status", order_status_from);
  return o;
}

json to_json(const SortCommand& c) {
  return {
      {"type", "sort_command"}, {"seq", c.seq}, {"tracking_id", c.tracking_id}, {"chute", c.chute}};
}
SortCommand sort_command_from_json(const json& j) {
  if (!j.is_object()) throw CodecError("a sort command must be a JSON object");
  return SortCommand{get<std::uint32_t>(j, "seq"), get<std::uint32_t>(j, "tracking_id"),
                     get<int>(j, "chute")};
}

json to_json(const PrintJob& p) {
  json j = {{"type", "print_job"},
            {"job_id", p.job_id},
            {"parcel_id", p.parcel_id},
            {"kind", p.kind},
            {"courier", p.courier},
            {"lane", p.lane},
            {"exception", to_string(p.exception)},
            {"reason", p.reason},
            {"weight_g", p.weight_g}};
  if (!p.order.id.empty()) j["order"] = to_json(p.order);
  if (!p.fields.empty()) j["fields"] = p.fields;
  return j;
}
PrintJob print_job_from_json(const json& j) {
  if (!j.is_object()) throw CodecError("a print job must be a JSON object");
  PrintJob p;
  p.job_id = get<std::uint64_t>(j, "job_id");
  p.parcel_id = opt<std::uint64_t>(j, "parcel_id", 0);
  p.kind = opt<std::string>(j, "kind", "parcel");
  p.courier = opt<std::string>(j, "courier", "");
  p.lane = opt<int>(j, "lane", 0);
  if (j.contains("exception"))
    p.exception = enum_field<ExceptionKind>(j, "exception", exception_kind_from);
  p.reason = opt<std::string>(j, "reason", "");
  p.weight_g = opt<std::int32_t>(j, "weight_g", 0);
  if (j.contains("order")) p.order = order_from_json(j.at("order"));
  if (j.contains("fields") && j.at("fields").is_object())
    for (const auto& [k, v] : j.at("fields").items())
      if (v.is_string()) p.fields[k] = v.get<std::string>();
  return p;
}

json to_json(const Decision& d) {
  json ranked = json::array();
  for (const auto& c : d.ranked)
    ranked.push_back({{"courier", c.courier},
                      {"score", c.score},
                      {"capacity", c.f_capacity},
                      {"region", c.f_region},
                      {"price", c.f_price},
                      {"cutoff", c.f_cutoff},
                      {"preferred", c.f_preferred},
                      {"price_fen", c.price_fen},
                      {"billable_g", c.billable_g},
                      {"lane", c.lane},
                      {"overflow", c.overflow}});
  json excluded = json::array();
  for (const auto& x : d.excluded)
    excluded.push_back({{"courier", x.courier}, {"rule", x.rule}, {"reason", x.reason}});
  return {{"ranked", std::move(ranked)}, {"excluded", std::move(excluded)}};
}

}  // namespace sortd
