// The station core: identify -> decide -> label -> divert -> confirm, as a pure state machine.
#include "core.h"

#include <algorithm>
#include <cstdlib>

#include "codec.h"

namespace sortd {

using nlohmann::json;

namespace {
constexpr TimeMs kHourMs = 3'600'000;

std::string hhmm(std::int32_t minutes) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", (minutes / 60) % 100, minutes % 60);
  return buf;
}
}  // namespace

Core::Core(const StationConfig& cfg, OrderBook& orders, const RecoveredState& rec,
           CoreOptions options)
    : cfg_(cfg), orders_(orders), opt_(options), router_(cfg) {
  avail_ = LaneAvailability::all_open(cfg);
  const std::size_t n = cfg.lanes.size();
  enabled_by_operator_.assign(n, 1);
  chute_full_.assign(n, 0);
  lane_fill_.assign(n, 0);
  lane_grams_.assign(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    lane_by_chute_[cfg.lanes[i].chute] = i;
    lane_by_id_[cfg.lanes[i].id] = i;
    enabled_by_operator_[i] = cfg.lanes[i].enabled ? 1 : 0;
  }
  ledger_.used.assign(cfg.couriers.size(), {});

  next_parcel_id_ = rec.next_parcel_id;
  next_read_id_ = rec.next_read_id;
  next_job_id_ = rec.next_job_id;
  next_seq_ = rec.next_seq == 0 ? 1 : rec.next_seq;
  for (const auto& f : rec.in_flight) {
    Parcel p;
    p.id = f.parcel_id;
    p.order_id = f.order_id;
    p.tracking_id = f.tracking_id;
    p.seq = f.seq;
    p.courier = f.courier;
    p.lane = f.lane;
    p.chute = f.chute;
    p.attempt = f.attempt;
    p.weight_g = f.weight_g;
    p.day = f.day;
    p.state = f.state;
    p.exception = f.exception;
    p.labelled = f.courier;
    p.commanded_at = f.updated;
    if (!p.order_id.empty() && p.exception == ExceptionKind::None) order_parcel_[p.order_id] = p.id;
    if (p.seq) by_seq_[p.seq] = p.id;
    if (p.tracking_id) by_tracking_[p.tracking_id] = p.id;
    parcels_.emplace(p.id, std::move(p));
  }
  for (const auto& l : rec.lanes) {
    auto it = lane_by_id_.find(l.lane);
    if (it == lane_by_id_.end()) continue;
    enabled_by_operator_[it->second] = l.enabled ? 1 : 0;
    lane_fill_[it->second] = l.fill_count;
    lane_grams_[it->second] = l.fill_grams;
  }
  for (std::size_t i = 0; i < n; ++i) avail_.enabled[i] = enabled_by_operator_[i];
  // Bags and manifests carry on from the store; lanes without an open bag get one at the first
  // event (settle_bags).
  open_bag_.assign(n, {});
  bag_seq_.assign(n, {0, 0});
  for (const auto& [lane, seq] : rec.bag_seq)
    if (auto it = lane_by_id_.find(lane); it != lane_by_id_.end()) bag_seq_[it->second] = seq;
  for (const auto& rb : rec.bags) {
    Bag b;
    b.id = rb.bag_id;
    b.lane = rb.lane;
    b.courier = rb.courier;
    b.day = rb.day;
    b.seq = rb.seq;
    b.opened = rb.opened;
    b.closed_time = rb.closed_time;
    b.closed = rb.closed;
    b.count = rb.count;
    b.grams = rb.grams;
    b.reason = rb.reason;
    b.manifest_id = rb.manifest_id;
    b.picked = rb.picked;
    if (!b.closed) {
      auto it = lane_by_id_.find(b.lane);
      if (it == lane_by_id_.end() || !open_bag_[it->second].empty()) continue;
      open_bag_[it->second] = b.id;
    }
    bags_.emplace(b.id, std::move(b));
  }
  for (const auto& m : rec.manifests)
    manifests_[m.manifest_id] = Manifest{m.manifest_id, m.courier, m.day, m.cutoff_min, m.opened};
  next_manifest_id_ = rec.next_manifest_id == 0 ? 1 : rec.next_manifest_id;
  for (std::size_t i = 0; i < n; ++i) update_avail(i);
  for (const auto& [order, parcel] : rec.order_parcels) order_parcel_[order] = parcel;
  for (const auto& a : rec.alarms)
    alarms_[a.key] = {
        {"key", a.key}, {"severity", a.severity}, {"text", a.text}, {"since", a.time}};
  recovered_capacity_ = rec.capacity;
  sorter_up_ = false;  // until the sorter driver reports its link up
  has_sorter_ = std::any_of(cfg.devices.begin(), cfg.devices.end(),
                            [](const auto& d) { return d.kind == "sorter"; });
  for (const auto& d : cfg.devices) {
    auto role = d.options.find("role");
    if (d.kind == "scanner" && role != d.options.end() && role->second == "handover")
      handover_scanners_.push_back(d.name);
  }
}

void Core::carry_over(const Core& old) {
  devices_ = old.devices_;
  alarms_ = old.alarms_;
  sorter_up_ = old.sorter_up_;
  sorter_up_since_ = old.sorter_up_since_;
  inducted_ = old.inducted_;
  measured_ = old.measured_;
  stats_ = old.stats_;
  recent_ = old.recent_;
  last_stats_ = old.last_stats_;
  for (std::size_t i = 0; i < old.cfg_.lanes.size(); ++i) {
    if (!old.chute_full_[i]) continue;
    auto it = lane_by_chute_.find(old.cfg_.lanes[i].chute);
    if (it == lane_by_chute_.end()) continue;
    chute_full_[it->second] = 1;
    update_avail(it->second);
  }
}

std::size_t Core::lane_index(int lane_id) const {
  auto it = lane_by_id_.find(lane_id);
  return it == lane_by_id_.end() ? cfg_.lanes.size() : it->second;
}

int Core::courier_index(const std::string& id) const {
  for (std::size_t i = 0; i < cfg_.couriers.size(); ++i)
    if (cfg_.couriers[i].id == id) return static_cast<int>(i);
  return -1;
}

std::uint32_t Core::next_seq() {
  std::uint32_t s = next_seq_++;
  if (next_seq_ == 0 || next_seq_ > 0x7fffffffu) next_seq_ = 1;  // keep seq positive, never 0
  return s;
}

void Core::roll_day(TimeMs now) {
  const std::int32_t day = local_day(now, cfg_.policies.utc_offset_min);
  if (day == ledger_.day) return;
  ledger_.day = day;
  ledger_.used.assign(cfg_.couriers.size(), {});
  for (const auto& row : recovered_capacity_) {
    if (row.day != day) continue;
    int ci = courier_index(row.courier);
    if (ci < 0) continue;
    ledger_.used[ci].parcels += row.parcels;
    ledger_.used[ci].grams += row.grams;
  }
}

Effects Core::handle(const Event& event, TimeMs now) {
  Effects fx;
  roll_day(now);
  if (bags_pending_) settle_bags(now, fx);
  std::visit([&](const auto& e) { on(e, now, fx); }, event);
  return fx;
}

// ---------------------------------------------------------------------------------------------
// Reads

ExceptionKind Core::identify(const ScanRead& r, std::optional<Order>& order) const {
  if (r.no_read || r.codes.empty()) return ExceptionKind::NoRead;
  std::optional<std::string> found;
  for (const auto& c : r.codes) {
    auto id = orders_.id_by_code(c.text);
    if (!id) continue;
    if (found && *found != *id) return ExceptionKind::MultiRead;
    found = std::move(id);
  }
  if (!found) return ExceptionKind::UnknownCode;
  order = orders_.find(*found);
  if (!order) return ExceptionKind::UnknownCode;
  if (order->status == OrderStatus::Cancelled) return ExceptionKind::Cancelled;
  if (order->status == OrderStatus::Held) return ExceptionKind::Held;
  if (order_parcel_.count(order->id)) return ExceptionKind::Duplicate;
  return ExceptionKind::None;
}

void Core::on(const ScanRead& r, TimeMs now, Effects& fx) {
  if (close_code(r, now, fx)) return;  // a lane's close barcode: a command, not a parcel
  ++stats_.reads;
  if (r.no_read || r.codes.empty()) ++stats_.no_reads;
  ScanRead read = r;

  // Pair the read with the parcel the PLC is tracking.
  if (read.tracking_id == 0 && !inducted_.empty()) {
    const TimeMs expect_offset = cfg_.scan_delay_ms;
    std::uint32_t best = 0;
    TimeMs best_err = cfg_.scan_tolerance_ms + 1;
    for (const auto& [tid, t] : inducted_) {
      TimeMs err = std::llabs(now - (t + expect_offset));
      if (err < best_err) best = tid, best_err = err;
    }
    if (best) {
      read.tracking_id = best;
      inducted_.erase(best);
    }
  } else if (read.tracking_id) {
    inducted_.erase(read.tracking_id);
  }

  // A second read of a parcel that already has its decision (e.g. a tunnel with two readers).
  if (read.tracking_id) {
    auto it = by_tracking_.find(read.tracking_id);
    if (it != by_tracking_.end()) {
      fx.store.push_back(StoreRead{next_read_id_++, it->second, now, read});
      return;
    }
  }

  Parcel p;
  p.id = next_parcel_id_++;
  p.tracking_id = read.tracking_id;
  p.day = ledger_.day;
  fx.store.push_back(StoreRead{next_read_id_++, p.id, now, read});

  std::optional<Order> order;
  ExceptionKind exc = identify(read, order);
  if (order) p.order_id = order->id;
  auto m = read.tracking_id ? measured_.find(read.tracking_id) : measured_.end();
  if (order) p.weight_g = order->weight_g;
  if (m != measured_.end()) {
    p.weight_g = m->second.weight_g;
    if (order) {
      order->weight_g = m->second.weight_g;
      if (m->second.length_mm) {
        order->length_mm = m->second.length_mm;
        order->width_mm = m->second.width_mm;
        order->height_mm = m->second.height_mm;
      }
    }
    measured_.erase(m);
  }
  auto [it, _] = parcels_.emplace(p.id, std::move(p));
  decide(it->second, order, exc, {}, now, fx, &read);
}

void Core::on(const ParcelInducted& e, TimeMs now, Effects& fx) {
  if (e.tracking_id == 0) return;
  // The PLC reuses a tracking id that we still hold in flight: it restarted and forgot the old
  // parcel. Close the old one as lost so that it can never be diverted twice.
  auto old = by_tracking_.find(e.tracking_id);
  if (old != by_tracking_.end()) {
    auto pit = parcels_.find(old->second);
    if (pit != parcels_.end()) {
      Parcel& p = pit->second;
      p.exception = ExceptionKind::Lost;
      finish(p, ParcelState::Exception, ExceptionKind::Lost, p.lane, now, fx, "lost");
    }
  }
  inducted_[e.tracking_id] = now;
}

void Core::on(const ParcelMeasured& e, TimeMs, Effects&) {
  if (e.tracking_id == 0 || e.weight_g < 0) return;
  if (by_tracking_.count(e.tracking_id)) return;  // decided already: the declared data stood
  measured_[e.tracking_id] = Measure{e.weight_g, e.length_mm, e.width_mm, e.height_mm};
}

// ---------------------------------------------------------------------------------------------
// Decisions

void Core::reserve(Parcel& p, const std::string& courier, TimeMs, Effects& fx) {
  int ci = courier_index(courier);
  if (ci < 0) return;
  p.courier = courier;
  p.day = ledger_.day;
  ledger_.used[ci].parcels += 1;
  ledger_.used[ci].grams += p.weight_g;
  fx.store.push_back(StoreCapacity{p.day, courier, 1, p.weight_g});
}

void Core::release(Parcel& p, Effects& fx) {
  if (p.courier.empty()) return;
  int ci = courier_index(p.courier);
  if (ci >= 0 && p.day == ledger_.day) {
    ledger_.used[ci].parcels -= 1;
    ledger_.used[ci].grams -= p.weight_g;
  }
  fx.store.push_back(StoreCapacity{p.day, p.courier, -1, -static_cast<std::int64_t>(p.weight_g)});
  p.courier.clear();
}

void Core::decide(Parcel& p, const std::optional<Order>& order, ExceptionKind exception,
                  std::string reason, TimeMs now, Effects& fx, const ScanRead* read) {
  Decision d;
  if (exception == ExceptionKind::None && order) {
    ParcelFacts facts{&*order, p.weight_g, order->length_mm, order->width_mm, order->height_mm};
    d = router_.route(facts, ledger_, avail_, now);
    exception = d.exception;
    if (exception != ExceptionKind::None) reason = d.reason;
  } else {
    d.exception = exception;
    d.lane = router_.exception_lane(exception, avail_);
    if (const Lane* l = cfg_.lane(d.lane)) d.chute = l->chute;
  }
  if (reason.empty()) reason = exception == ExceptionKind::None ? d.reason : describe(exception);
  if (exception == ExceptionKind::None) {
    reserve(p, d.courier, now, fx);
    order_parcel_[p.order_id] = p.id;
    if (d.overflow) ++stats_.overflowed;
  }
  p.lane = d.lane;
  p.chute = d.chute;
  p.exception = exception;
  ++stats_.decided;

  StoreDecision sd;
  sd.parcel_id = p.id;
  sd.order_id = p.order_id;
  sd.tracking_id = p.tracking_id;
  sd.attempt = p.attempt;
  sd.time = now;
  sd.courier = p.courier;
  sd.lane = p.lane;
  sd.chute = p.chute;
  sd.exception = exception;
  sd.reason = reason;
  sd.candidates_json = to_json(d).dump();
  sd.weight_g = p.weight_g;
  sd.day = p.day;
  fx.store.push_back(std::move(sd));

  json body = {{"parcel_id", p.id},
               {"order_id", p.order_id},
               {"tracking_id", p.tracking_id},
               {"courier", p.courier},
               {"lane", p.lane},
               {"chute", p.chute},
               {"exception", to_string(exception)},
               {"reason", reason},
               {"overflow", d.overflow},
               {"attempt", p.attempt},
               {"weight_g", p.weight_g}};
  if (const Courier* c = cfg_.courier(p.courier)) {
    body["courier_name"] = c->name;
    body["color"] = c->color;
  }
  if (read) {
    json codes = json::array();
    for (const auto& c : read->codes) codes.push_back(c.text);
    body["codes"] = std::move(codes);
  }
  if (order) {
    body["province"] = order->province;
    body["city"] = order->city;
  }

  // The label: for a parcel going to a courier, and again if a re-decision changed its courier.
  if (exception == ExceptionKind::None && order && p.courier != p.labelled) {
    p.labelled = p.courier;
    queue_label(p.id, p.courier, p.lane, *order, p.weight_g, now, fx);
  }

  const bool can_divert = has_sorter_ && sorter_up_ && p.tracking_id != 0 && p.lane != 0;
  if (p.attempt == 0) {
    const std::int64_t hour = (now + cfg_.policies.utc_offset_min * 60'000LL) / kHourMs * kHourMs;
    ++stats_.per_hour[hour];
  }
  if (can_divert) {
    if (p.seq) by_seq_.erase(p.seq);
    p.seq = next_seq();
    by_seq_[p.seq] = p.id;
    if (p.tracking_id) by_tracking_[p.tracking_id] = p.id;
    p.state = ParcelState::Decided;
    p.commanded_at = now;
    fx.store.push_back(StoreSortCommand{p.seq, p.id, p.tracking_id, p.chute, now});
    fx.store.push_back(StoreParcelState{p.id, ParcelState::Decided, exception, p.lane, now});
    fx.sort.push_back(SortCommand{p.seq, p.tracking_id, p.chute});
    fx.publish.push_back(
        {exception == ExceptionKind::None ? "parcel.decided" : "parcel.exception", body.dump()});
    return;
  }
  // No sorter to carry it (none configured, link down, or a read not tied to a tracked
  // parcel): the label tells people where to take it by hand.
  fx.publish.push_back(
      {exception == ExceptionKind::None ? "parcel.decided" : "parcel.exception", body.dump()});
  if (exception == ExceptionKind::None) {
    finish(p, ParcelState::Exception, ExceptionKind::Degraded, p.lane, now, fx, "manual");
  } else {
    finish(p, ParcelState::Exception, exception, p.lane, now, fx, "manual");
  }
}

std::uint64_t Core::queue_label(std::uint64_t parcel_id, const std::string& courier, int lane,
                                const Order& order, std::int32_t weight_g, TimeMs now,
                                Effects& fx) {
  PrintJob job;
  job.job_id = next_job_id_++;
  job.parcel_id = parcel_id;
  job.kind = "parcel";
  job.courier = courier;
  job.lane = lane;
  job.order = order;
  job.weight_g = weight_g;
  fx.store.push_back(
      StoreLabelJob{job.job_id, parcel_id, "parcel", "", JobOutcome::Queued, "", now});
  const std::uint64_t id = job.job_id;
  fx.print.push_back(std::move(job));
  ++stats_.labels;
  return id;
}

void Core::finish(Parcel& p, ParcelState state, ExceptionKind exception, int lane, TimeMs now,
                  Effects& fx, const char* outcome) {
  // An exception gives the courier's capacity back, except a manual sort, which still goes to
  // the chosen courier by hand.
  if (exception != ExceptionKind::None && exception != ExceptionKind::Degraded) {
    release(p, fx);
    if (!p.order_id.empty()) {
      auto it = order_parcel_.find(p.order_id);
      if (it != order_parcel_.end() && it->second == p.id) order_parcel_.erase(it);
    }
  }
  fx.store.push_back(StoreParcelState{p.id, state, exception, lane, now});
  if (state == ParcelState::Diverted) {
    ++stats_.diverted;
    if (!p.courier.empty()) ++stats_.by_courier[p.courier];
  } else {
    ++stats_.exceptions;
    ++stats_.exceptions_by_reason[to_string(exception)];
  }
  json body = {{"parcel_id", p.id},
               {"order_id", p.order_id},
               {"tracking_id", p.tracking_id},
               {"courier", p.courier},
               {"lane", lane},
               {"state", to_string(state)},
               {"exception", to_string(exception)},
               {"reason", exception == ExceptionKind::None ? "" : describe(exception)},
               {"outcome", outcome},
               {"attempt", p.attempt},
               {"time", now}};
  if (const Courier* c = cfg_.courier(p.courier)) {
    body["courier_name"] = c->name;
    body["color"] = c->color;
  }
  fx.log.push_back("parcel " + std::to_string(p.id) +
                   (p.order_id.empty() ? "" : " order " + p.order_id) + ": " + outcome + " lane " +
                   std::to_string(lane) + (p.courier.empty() ? "" : " courier " + p.courier) +
                   (exception == ExceptionKind::None ? ""
                                                     : std::string(" (") + to_string(exception) +
                                                           ": " + describe(exception) + ")"));
  recent_.push_front(body);
  while (recent_.size() > opt_.recent_parcels) recent_.pop_back();
  fx.publish.push_back(
      {state == ParcelState::Diverted ? "parcel.diverted" : "parcel.exception", body.dump()});
  if (p.seq) by_seq_.erase(p.seq);
  if (p.tracking_id) {
    auto it = by_tracking_.find(p.tracking_id);
    if (it != by_tracking_.end() && it->second == p.id) by_tracking_.erase(it);
  }
  parcels_.erase(p.id);  // p is dangling from here on
}

// ---------------------------------------------------------------------------------------------
// The sorter

void Core::on(const SortAcked& e, TimeMs now, Effects& fx) {
  fx.store.push_back(StoreSortAck{e.seq, now});
  auto it = by_seq_.find(e.seq);
  if (it == by_seq_.end()) return;
  Parcel& p = parcels_.at(it->second);
  if (p.state == ParcelState::Decided) {
    p.state = ParcelState::Commanded;
    fx.store.push_back(StoreParcelState{p.id, ParcelState::Commanded, p.exception, p.lane, now});
  }
}

void Core::on(const SortTimedOut& e, TimeMs now, Effects& fx) {
  auto it = by_seq_.find(e.seq);
  std::string text = "the sorter did not acknowledge sort command " + std::to_string(e.seq);
  if (it != by_seq_.end()) text += " (parcel " + std::to_string(it->second) + ")";
  raise_alarm("sorter:ack_timeout", true, "warning", text, now, fx);
}

void Core::on(const DivertConfirmed& e, TimeMs now, Effects& fx) {
  // The ring position is stored with the confirmation, in the same transaction: a restarted
  // sortd reads on from the first confirmation it has not recorded.
  if (e.ring_entry >= 0)
    fx.store.push_back(
        StoreSorterCursor{e.device, e.plc_boot, static_cast<std::uint16_t>(e.ring_entry + 1), now});
  std::uint64_t pid = 0;
  if (auto it = by_seq_.find(e.seq); e.seq && it != by_seq_.end()) {
    pid = it->second;
  } else if (auto jt = by_tracking_.find(e.tracking_id);
             e.tracking_id && jt != by_tracking_.end()) {
    pid = jt->second;
  }
  fx.store.push_back(StoreConfirmation{e.seq, pid, e.tracking_id, e.chute, e.outcome, now});
  if (!pid) {
    fx.log.push_back("confirmation for unknown sequence " + std::to_string(e.seq) +
                     " / tracking id " + std::to_string(e.tracking_id) + " recorded, ignored");
    return;
  }
  Parcel& p = parcels_.at(pid);
  if (e.tracking_id && p.tracking_id && e.tracking_id != p.tracking_id) {
    // Its sequence is one of ours, its parcel is not: a confirmation from before this store
    // (a PLC that ran with another database), read from the ring's history at first contact.
    fx.log.push_back("confirmation " + std::to_string(e.seq) + " is for tracking id " +
                     std::to_string(e.tracking_id) + ", not parcel " + std::to_string(p.id) +
                     "'s " + std::to_string(p.tracking_id) + ": ignored");
    return;
  }
  if (e.seq && e.seq != p.seq) {
    fx.log.push_back("stale confirmation " + std::to_string(e.seq) + " for parcel " +
                     std::to_string(p.id) + " ignored");
    return;
  }
  switch (e.outcome) {
    case DivertOutcome::Diverted: {
      auto li = lane_by_chute_.find(e.chute);
      const std::size_t lane_i = li == lane_by_chute_.end() ? cfg_.lanes.size() : li->second;
      const int actual_lane = lane_i < cfg_.lanes.size() ? cfg_.lanes[lane_i].id : 0;
      if (lane_i < cfg_.lanes.size()) {
        lane_fill_[lane_i] += 1;
        lane_grams_[lane_i] += p.weight_g;
        const Lane& l = cfg_.lanes[lane_i];
        fx.store.push_back(StoreLane{l.id, enabled_by_operator_[lane_i] != 0, lane_fill_[lane_i],
                                     lane_grams_[lane_i]});
        if (bag_lane(lane_i)) bag_parcel(lane_i, p.id, now, fx);
        publish_lane(lane_i, fx);
      }
      if (e.chute == p.chute) {
        if (p.exception == ExceptionKind::None)
          finish(p, ParcelState::Diverted, ExceptionKind::None, actual_lane, now, fx, "diverted");
        else
          finish(p, ParcelState::Exception, p.exception, actual_lane, now, fx, "diverted");
        return;
      }
      // Not where we sent it.
      const bool into_exception =
          lane_i < cfg_.lanes.size() && cfg_.lanes[lane_i].kind == LaneKind::Exception;
      if (into_exception) {
        ExceptionKind k =
            p.exception != ExceptionKind::None ? p.exception : ExceptionKind::Rejected;
        finish(p, ParcelState::Exception, k, actual_lane, now, fx, "diverted to exception");
      } else {
        raise_alarm("sorter:missort:" + std::to_string(p.id), true, "error",
                    "parcel " + std::to_string(p.id) + " went to chute " + std::to_string(e.chute) +
                        " instead of " + std::to_string(p.chute),
                    now, fx);
        finish(p, ParcelState::Diverted, p.exception, actual_lane, now, fx, "missorted");
      }
      return;
    }
    case DivertOutcome::Recirculated: {
      ++stats_.recirculated;
      p.attempt += 1;
      fx.publish.push_back({"parcel.recirculated", json{{"parcel_id", p.id},
                                                        {"order_id", p.order_id},
                                                        {"attempt", p.attempt},
                                                        {"lane", p.lane}}
                                                       .dump()});
      if (p.attempt > cfg_.policies.recirculation_limit) {
        release(p, fx);
        decide(p, std::nullopt, ExceptionKind::RecirculationLimit, {}, now, fx, nullptr);
        return;
      }
      if (p.exception != ExceptionKind::None || p.order_id.empty()) {
        decide(p, std::nullopt, p.exception, {}, now, fx, nullptr);
        return;
      }
      auto order = orders_.find(p.order_id);
      release(p, fx);
      order_parcel_.erase(p.order_id);
      ExceptionKind k = ExceptionKind::None;
      if (!order)
        k = ExceptionKind::UnknownCode;
      else if (order->status == OrderStatus::Cancelled)
        k = ExceptionKind::Cancelled;
      else if (order->status == OrderStatus::Held)
        k = ExceptionKind::Held;
      if (order) order->weight_g = p.weight_g;
      decide(p, order, k, {}, now, fx, nullptr);
      return;
    }
    case DivertOutcome::Rejected:
      finish(p, ParcelState::Exception, ExceptionKind::Rejected, p.lane, now, fx, "rejected");
      return;
    case DivertOutcome::Lost:
      finish(p, ParcelState::Exception, ExceptionKind::Lost, p.lane, now, fx, "lost");
      return;
  }
}

void Core::expire_unconfirmed(TimeMs now, Effects& fx) {
  // Only while the sorter is up, and counted from when it came up: a parcel waits for its
  // confirmation through a link outage (the ring keeps it for us).
  if (!has_sorter_ || !sorter_up_) return;
  const TimeMs limit = TimeMs(cfg_.policies.confirm_timeout_s) * 1000;
  if (now - sorter_up_since_ <= limit) return;
  std::vector<std::uint64_t> expired;
  for (const auto& [id, p] : parcels_)
    if (p.seq && now - std::max(p.commanded_at, sorter_up_since_) > limit) expired.push_back(id);
  if (expired.empty()) return;
  for (std::uint64_t id : expired) {
    Parcel& p = parcels_.at(id);
    fx.log.push_back("parcel " + std::to_string(id) + " (tracking id " +
                     std::to_string(p.tracking_id) + "): no confirmation from the sorter in " +
                     std::to_string(cfg_.policies.confirm_timeout_s) + " s, closed as lost");
    finish(p, ParcelState::Exception, ExceptionKind::Lost, p.lane, now, fx, "lost");
  }
  raise_alarm("sorter:unconfirmed", true, "warning",
              std::to_string(expired.size()) +
                  " parcel(s) got no confirmation from the sorter and were closed as lost: find "
                  "them at their chutes or the exception chute and check them by hand",
              now, fx);
}

void Core::on(const ChuteState& e, TimeMs now, Effects& fx) {
  auto it = lane_by_chute_.find(e.chute);
  if (it == lane_by_chute_.end()) return;
  const std::size_t i = it->second;
  const bool full = e.full, enabled = e.enabled && enabled_by_operator_[i];
  if ((chute_full_[i] != 0) == full && (avail_.enabled[i] != 0) == enabled) return;
  const bool rising = full && !chute_full_[i], falling = !full && chute_full_[i];
  chute_full_[i] = full;
  avail_.enabled[i] = enabled;
  // The chute-full sensor closes the bag; the next one opens when the bit clears (the picker
  // swapped it). An empty bag stays open.
  if (rising && bag_lane(i) && !open_bag_[i].empty() && lane_fill_[i] > 0)
    close_bag(i, "chute_full", "", false, now, fx);
  if (falling && bag_lane(i) && open_bag_[i].empty()) open_bag(i, now, fx);
  update_avail(i);
  publish_lane(i, fx);
}

// ---------------------------------------------------------------------------------------------
// Devices, printing, operators

void Core::raise_alarm(const std::string& key, bool raised, const std::string& severity,
                       const std::string& text, TimeMs now, Effects& fx) {
  auto it = alarms_.find(key);
  if (raised == (it != alarms_.end())) return;  // no change
  if (raised)
    alarms_[key] = {{"key", key}, {"severity", severity}, {"text", text}, {"since", now}};
  else
    alarms_.erase(it);
  fx.store.push_back(StoreAlarm{key, raised, severity, text, now});
  fx.publish.push_back(
      {"alarm",
       json{{"key", key}, {"raised", raised}, {"severity", severity}, {"text", text}, {"time", now}}
           .dump()});
}

void Core::on(const DeviceStatus& e, TimeMs now, Effects& fx) {
  json d = {{"device", e.device},
            {"kind", to_string(e.kind)},
            {"up", e.up},
            {"detail", e.detail},
            {"since", now}};
  auto it = devices_.find(e.device);
  const bool changed =
      it == devices_.end() || it->second["up"] != e.up || it->second["detail"] != e.detail;
  if (!changed) return;
  devices_[e.device] = d;
  fx.publish.push_back({"device", d.dump()});
  const std::string key = std::string(to_string(e.kind)) + ":" + e.device;
  raise_alarm(key, !e.up, e.kind == DeviceKind::Sorter ? "error" : "warning",
              e.device + ": " + (e.detail.empty() ? "down" : e.detail), now, fx);
  if (e.kind == DeviceKind::Sorter && sorter_up_ != e.up) {
    sorter_up_ = e.up;
    sorter_up_since_ = now;
    fx.publish.push_back({"station", json{{"degraded", !sorter_up_}, {"time", now}}.dump()});
    fx.log.push_back(sorter_up_ ? "sorter back: sorting resumes"
                                : "sorter away: degraded mode, scan and label for manual sort");
  }
}

void Core::on(const PrintFinished& e, TimeMs now, Effects& fx) {
  fx.store.push_back(StoreLabelJob{e.job_id, 0, "", e.printer, e.outcome, e.detail, now});
  if (e.outcome == JobOutcome::Failed) ++stats_.labels_failed;
  fx.publish.push_back({"label", json{{"job_id", e.job_id},
                                      {"outcome", to_string(e.outcome)},
                                      {"printer", e.printer},
                                      {"detail", e.detail}}
                                     .dump()});
}

void Core::on(const OrdersUpserted& e, TimeMs, Effects& fx) {
  for (const auto& o : e.orders) orders_.upsert(o);
  fx.publish.push_back({"orders", json{{"upserted", e.orders.size()}}.dump()});
}

void Core::on(const OrderStatusSet& e, TimeMs now, Effects& fx) {
  if (!orders_.set_status(e.order_id, e.status)) return;
  fx.store.push_back(StoreOrderStatus{e.order_id, e.status});
  fx.store.push_back(
      StoreAudit{e.user, "order_status", e.order_id + " -> " + to_string(e.status), now});
  fx.publish.push_back(
      {"order", json{{"order_id", e.order_id}, {"status", to_string(e.status)}}.dump()});
}

void Core::on(const LaneSet& e, TimeMs now, Effects& fx) {
  const std::size_t i = lane_index(e.lane);
  if (i >= cfg_.lanes.size()) return;
  enabled_by_operator_[i] = e.enabled;
  avail_.enabled[i] = e.enabled;
  fx.store.push_back(StoreLane{e.lane, e.enabled, lane_fill_[i], lane_grams_[i]});
  fx.store.push_back(StoreAudit{e.user, e.enabled ? "lane_enable" : "lane_disable",
                                "lane " + std::to_string(e.lane), now});
  publish_lane(i, fx);
}

void Core::on(const Tick&, TimeMs now, Effects& fx) {
  // Inductions whose scan window closed without a read are no-reads: send them to the no-read
  // lane explicitly rather than let the reads of the parcels behind them shift.
  const TimeMs late = cfg_.scan_delay_ms + cfg_.scan_tolerance_ms;
  for (auto it = inducted_.begin(); it != inducted_.end();) {
    if (now - it->second <= late) {
      ++it;
      continue;
    }
    Parcel p;
    p.id = next_parcel_id_++;
    p.tracking_id = it->first;
    p.day = ledger_.day;
    it = inducted_.erase(it);
    ++stats_.no_reads;
    auto [pit, _] = parcels_.emplace(p.id, std::move(p));
    decide(pit->second, std::nullopt, ExceptionKind::NoRead, "no read in the scan window", now, fx,
           nullptr);
  }
  expire_unconfirmed(now, fx);
  if (now - last_stats_ >= opt_.stats_interval_ms) {
    last_stats_ = now;
    fx.publish.push_back({"stats", stats_json().dump()});
    for (std::size_t i = 0; i < cfg_.couriers.size(); ++i) publish_courier(i, now, fx);
  }
}

// ---------------------------------------------------------------------------------------------
// Views

json Core::lane_json(std::size_t i) const {
  const Lane& l = cfg_.lanes[i];
  const char* state = !avail_.enabled[i]                    ? "disabled"
                      : chute_full_[i]                      ? "full"
                      : l.kind == LaneKind::Exception       ? "exception"
                      : bag_lane(i) && open_bag_[i].empty() ? "no_bag"
                                                            : "open";
  json j = {{"lane", l.id},
            {"chute", l.chute},
            {"kind", to_string(l.kind)},
            {"courier", l.courier},
            {"state", state},
            {"enabled", avail_.enabled[i] != 0},
            {"full", chute_full_[i] != 0},
            {"fill", lane_fill_[i]},
            {"fill_g", lane_grams_[i]},
            {"bag_max_count", l.bag_max_count},
            {"bag_max_g", l.bag_max_weight_g},
            {"bag", i < open_bag_.size() && !open_bag_[i].empty() ? json(open_bag_[i]) : json()},
            {"regions", l.regions}};
  return j;
}

void Core::publish_lane(std::size_t i, Effects& fx) const {
  fx.publish.push_back({"lane", lane_json(i).dump()});
}

json Core::courier_json(std::size_t i, TimeMs now) const {
  const Courier& c = cfg_.couriers[i];
  const CapacityUse u = i < ledger_.used.size() ? ledger_.used[i] : CapacityUse{};
  const std::int32_t minute = local_minute(now, cfg_.policies.utc_offset_min);
  json j = {{"courier", c.id},
            {"name", c.name},
            {"color", c.color},
            {"used", u.parcels},
            {"used_g", u.grams},
            {"daily_parcels", c.daily_parcels},
            {"daily_kg", c.daily_kg},
            {"left", c.daily_parcels ? std::max(0, c.daily_parcels - u.parcels) : -1},
            {"cutoff", hhmm(c.cutoff_min)},
            {"minutes_to_cutoff", c.cutoff_min - minute}};
  return j;
}

void Core::publish_courier(std::size_t i, TimeMs now, Effects& fx) const {
  fx.publish.push_back({"courier", courier_json(i, now).dump()});
}

json Core::stats_json() const {
  json per_hour = json::array();
  for (const auto& [h, n] : stats_.per_hour) per_hour.push_back({{"hour", h}, {"parcels", n}});
  return {{"reads", stats_.reads},
          {"no_reads", stats_.no_reads},
          {"read_rate", stats_.reads ? 1.0 - double(stats_.no_reads) / double(stats_.reads) : 1.0},
          {"decided", stats_.decided},
          {"diverted", stats_.diverted},
          {"recirculated", stats_.recirculated},
          {"exceptions", stats_.exceptions},
          {"exceptions_by_reason", stats_.exceptions_by_reason},
          {"by_courier", stats_.by_courier},
          {"overflowed", stats_.overflowed},
          {"labels", stats_.labels},
          {"labels_failed", stats_.labels_failed},
          {"in_flight", parcels_.size()},
          {"per_hour", per_hour}};
}

json Core::snapshot(TimeMs now) const {
  json lanes = json::array(), couriers = json::array(), devices = json::array(),
       alarms = json::array(), recent = json::array();
  for (std::size_t i = 0; i < cfg_.lanes.size(); ++i) lanes.push_back(lane_json(i));
  for (std::size_t i = 0; i < cfg_.couriers.size(); ++i) couriers.push_back(courier_json(i, now));
  for (const auto& [_, d] : devices_) devices.push_back(d);
  for (const auto& [_, a] : alarms_) alarms.push_back(a);
  for (const auto& p : recent_) recent.push_back(p);
  return {{"station",
           {{"id", cfg_.station_id},
            {"name", cfg_.station_name},
            {"degraded", !sorter_up_},
            {"day", ledger_.day}}},
          {"lanes", lanes},
          {"couriers", couriers},
          {"devices", devices},
          {"alarms", alarms},
          {"stats", stats_json()},
          {"recent", recent}};
}

}  // namespace sortd
