// The station core's parcel lifecycle: every outcome, every exception type, recirculation,
// capacity reservation and release, explicit read/induction pairing, degraded mode, recovery
// from the store, and determinism.
#define BOOST_TEST_MODULE core
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "codec.h"
#include "core.h"
#include "core_replay.h"
#include "print.h"
#include "store.h"

using namespace sortd;

namespace {

// 2026-11-23 10:00 in the station's time zone (UTC+8).
constexpr TimeMs kT0 = 1795399200000;

StationConfig small_station() {
  StationConfig cfg;
  cfg.source = "test";
  cfg.station_id = "t1";
  cfg.station_name = "test station";
  cfg.scan_delay_ms = 400;
  cfg.scan_tolerance_ms = 200;
  cfg.policies.recirculation_limit = 2;
  cfg.policies.weights.capacity = 0;  // capacity only excludes here: the spill is what we test
  cfg.policies.origin_province = "浙江省";
  Courier a;
  a.id = "a";
  a.name = "Courier A";
  a.color = "#00aa00";
  a.piece_fen = 500;
  a.daily_parcels = 3;
  a.cod = true;
  a.cutoff_min = 23 * 60 + 59;
  Courier b = a;
  b.id = "b";
  b.name = "Courier B";
  b.piece_fen = 800;
  b.daily_parcels = 0;
  cfg.couriers = {a, b};
  auto lane = [](int id, int chute, LaneKind k, std::string courier, int overflow = 0) {
    Lane l;
    l.id = id;
    l.chute = chute;
    l.kind = k;
    l.courier = std::move(courier);
    l.overflow = overflow;
    return l;
  };
  cfg.lanes = {lane(1, 11, LaneKind::Courier, "a", 3), lane(2, 12, LaneKind::Courier, "b"),
               lane(3, 13, LaneKind::Overflow, "a"), lane(90, 90, LaneKind::Exception, ""),
               lane(91, 91, LaneKind::Exception, "")};
  cfg.lanes[4].takes = {ExceptionKind::NoRead, ExceptionKind::UnknownCode};
  StationConfig::Device sorter;
  sorter.name = "plc";
  sorter.kind = "sorter";
  sorter.driver = "sim";
  cfg.devices = {sorter};
  return cfg;
}

Order order(const std::string& id, const std::string& code) {
  Order o;
  o.id = id;
  o.codes = {code};
  o.province = "浙江省";
  o.city = "杭州市";
  o.district = "西湖区";
  o.address = "文三路 1 号";
  o.recipient = "张三";
  o.phone = "13800000000";
  o.weight_g = 1200;
  o.length_mm = 300;
  o.width_mm = 200;
  o.height_mm = 100;
  return o;
}

template <typename T>
std::vector<T> ops(const Effects& fx) {
  std::vector<T> v;
  for (const auto& op : fx.store)
    if (auto* p = std::get_if<T>(&op)) v.push_back(*p);
  return v;
}

struct Station {
  StationConfig cfg = small_station();
  OrderBook book;
  std::unique_ptr<Core> core;
  TimeMs now = kT0;
  std::uint32_t next_tid = 100;

  explicit Station(const RecoveredState& rec = {}) {
    for (int i = 1; i <= 20; ++i)
      book.upsert(order("O" + std::to_string(i), "PK" + std::to_string(1000 + i)));
    core = std::make_unique<Core>(cfg, book, rec);
    handle(DeviceStatus{"plc", DeviceKind::Sorter, true, ""});
  }
  Effects handle(const Event& e) { return core->handle(e, now); }
  // A parcel enters the scan zone and is read with its tracking id; returns the decision fx.
  Effects scan(std::vector<std::string> codes, std::uint32_t* tid_out = nullptr) {
    std::uint32_t tid = next_tid++;
    handle(ParcelInducted{tid});
    now += 400;
    ScanRead r;
    r.scanner = "s1";
    r.tracking_id = tid;
    for (auto& c : codes) r.codes.push_back({c, "C0"});
    r.no_read = codes.empty();
    if (tid_out) *tid_out = tid;
    return handle(r);
  }
  SortCommand only_command(const Effects& fx) {
    BOOST_REQUIRE_EQUAL(fx.sort.size(), 1u);
    return fx.sort[0];
  }
  Effects confirm(const SortCommand& c, DivertOutcome o, int chute = -1) {
    now += 1000;
    return handle(DivertConfirmed{c.seq, c.tracking_id, chute < 0 ? c.chute : chute, o});
  }
  ExceptionKind decided_exception(const Effects& fx) {
    auto d = ops<StoreDecision>(fx);
    BOOST_REQUIRE(!d.empty());
    return d.back().exception;
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(happy_path_read_decide_label_divert_confirm) {
  Station s;
  Effects fx = s.scan({"PK1001"});
  auto reads = ops<StoreRead>(fx);
  auto decisions = ops<StoreDecision>(fx);
  BOOST_REQUIRE_EQUAL(reads.size(), 1u);
  BOOST_REQUIRE_EQUAL(decisions.size(), 1u);
  BOOST_TEST(decisions[0].order_id == "O1");
  BOOST_TEST(decisions[0].courier == "a");  // cheaper, same otherwise
  BOOST_TEST(decisions[0].lane == 1);
  BOOST_TEST(decisions[0].chute == 11);
  BOOST_TEST(decisions[0].candidates_json.find("\"ranked\"") != std::string::npos);
  auto cap = ops<StoreCapacity>(fx);
  BOOST_REQUIRE_EQUAL(cap.size(), 1u);
  BOOST_TEST(cap[0].parcels == 1);
  BOOST_TEST(cap[0].grams == 1200);
  SortCommand c = s.only_command(fx);
  BOOST_TEST(c.chute == 11);
  BOOST_TEST(ops<StoreSortCommand>(fx).size() == 1u);
  // The store operations come before the command leaves: the decision is in this same batch.
  BOOST_REQUIRE_EQUAL(fx.print.size(), 1u);
  BOOST_TEST(fx.print[0].order.id == "O1");
  BOOST_TEST(fx.print[0].courier == "a");

  Effects ack = s.handle(SortAcked{c.seq});
  auto st = ops<StoreParcelState>(ack);
  BOOST_REQUIRE_EQUAL(st.size(), 1u);
  BOOST_TEST(st[0].state == ParcelState::Commanded);

  Effects done = s.confirm(c, DivertOutcome::Diverted);
  st = ops<StoreParcelState>(done);
  BOOST_REQUIRE_EQUAL(st.size(), 1u);
  BOOST_TEST(st[0].state == ParcelState::Diverted);
  BOOST_TEST(st[0].lane == 1);
  auto lanes = ops<StoreLane>(done);
  BOOST_REQUIRE_EQUAL(lanes.size(), 1u);
  BOOST_TEST(lanes[0].fill_count == 1);
  BOOST_TEST(s.core->in_flight() == 0u);
  BOOST_TEST(s.core->stats().diverted == 1u);
}

BOOST_AUTO_TEST_CASE(every_identification_exception_goes_to_its_typed_lane) {
  Station s;
  s.book.set_status("O5", OrderStatus::Cancelled);
  s.book.set_status("O6", OrderStatus::Held);
  struct Case {
    std::vector<std::string> codes;
    ExceptionKind kind;
    int lane;
  } cases[] = {
      {{}, ExceptionKind::NoRead, 91},
      {{"NOPE-1"}, ExceptionKind::UnknownCode, 91},
      {{"PK1002", "PK1003"}, ExceptionKind::MultiRead, 90},
      {{"PK1005"}, ExceptionKind::Cancelled, 90},
      {{"PK1006"}, ExceptionKind::Held, 90},
  };
  for (const auto& c : cases) {
    Effects fx = s.scan(c.codes);
    BOOST_TEST_CONTEXT("case " << to_string(c.kind)) {
      BOOST_TEST(s.decided_exception(fx) == c.kind);
      SortCommand cmd = s.only_command(fx);
      BOOST_TEST(cmd.chute == c.lane);
      BOOST_TEST(fx.print.empty());
      BOOST_TEST(ops<StoreCapacity>(fx).empty());
      Effects done = s.confirm(cmd, DivertOutcome::Diverted);
      auto st = ops<StoreParcelState>(done);
      BOOST_REQUIRE_EQUAL(st.size(), 1u);
      BOOST_TEST(st[0].state == ParcelState::Exception);
      BOOST_TEST(st[0].exception == c.kind);
    }
  }
  BOOST_TEST(s.core->stats().exceptions == 5u);
}

BOOST_AUTO_TEST_CASE(duplicate_is_caught_once_the_parcel_went_to_a_courier) {
  Station s;
  Effects fx = s.scan({"PK1001"});
  s.confirm(s.only_command(fx), DivertOutcome::Diverted);
  Effects again = s.scan({"PK1001"});
  BOOST_TEST(s.decided_exception(again) == ExceptionKind::Duplicate);
  // Also while the first one is still in flight.
  Effects first = s.scan({"PK1002"});
  Effects second = s.scan({"PK1002"});
  BOOST_TEST(s.decided_exception(first) == ExceptionKind::None);
  BOOST_TEST(s.decided_exception(second) == ExceptionKind::Duplicate);
}

BOOST_AUTO_TEST_CASE(no_eligible_courier_when_the_order_forbids_them_all) {
  Station s;
  Order o = order("F1", "PKF1");
  o.forbidden = {"a", "b"};
  s.book.upsert(o);
  Effects fx = s.scan({"PKF1"});
  BOOST_TEST(s.decided_exception(fx) == ExceptionKind::NoEligibleCourier);
  BOOST_TEST(s.only_command(fx).chute == 90);
  auto d = ops<StoreDecision>(fx)[0];
  BOOST_TEST(d.candidates_json.find("forbidden") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(capacity_spills_to_the_next_courier_and_is_released_on_exception) {
  Station s;
  std::vector<SortCommand> cmds;
  for (int i = 1; i <= 3; ++i) {
    Effects fx = s.scan({"PK" + std::to_string(1000 + i)});
    BOOST_TEST(ops<StoreDecision>(fx)[0].courier == "a");
    cmds.push_back(s.only_command(fx));
  }
  BOOST_TEST(s.core->ledger().used[0].parcels == 3);
  Effects fourth = s.scan({"PK1004"});
  BOOST_TEST(ops<StoreDecision>(fourth)[0].courier == "b");
  // One of A's parcels is lost: its capacity comes back, and A takes the next parcel again.
  Effects lost = s.confirm(cmds[0], DivertOutcome::Lost);
  auto st = ops<StoreParcelState>(lost);
  BOOST_REQUIRE_EQUAL(st.size(), 1u);
  BOOST_TEST(st[0].exception == ExceptionKind::Lost);
  auto cap = ops<StoreCapacity>(lost);
  BOOST_REQUIRE_EQUAL(cap.size(), 1u);
  BOOST_TEST(cap[0].parcels == -1);
  BOOST_TEST(cap[0].courier == "a");
  BOOST_TEST(s.core->ledger().used[0].parcels == 2);
  Effects fifth = s.scan({"PK1005"});
  BOOST_TEST(ops<StoreDecision>(fifth)[0].courier == "a");
  // Rejected releases too.
  Effects rej = s.confirm(cmds[1], DivertOutcome::Rejected);
  BOOST_TEST(ops<StoreParcelState>(rej)[0].exception == ExceptionKind::Rejected);
  BOOST_TEST(s.core->ledger().used[0].parcels == 2);
}

BOOST_AUTO_TEST_CASE(capacity_ledger_is_per_local_day) {
  Station s;
  for (int i = 1; i <= 3; ++i) s.scan({"PK" + std::to_string(1000 + i)});
  BOOST_TEST(s.core->ledger().used[0].parcels == 3);
  // 14 hours later it is past midnight in UTC+8: a new day, A has capacity again.
  s.now += 14 * 3600 * 1000LL;
  Effects fx = s.scan({"PK1004"});
  BOOST_TEST(ops<StoreDecision>(fx)[0].courier == "a");
  BOOST_TEST(s.core->ledger().used[0].parcels == 1);
  BOOST_TEST(ops<StoreCapacity>(fx)[0].day == s.core->ledger().day);
}

BOOST_AUTO_TEST_CASE(recirculated_parcel_is_redecided_to_overflow_when_its_chute_is_full) {
  Station s;
  Effects fx = s.scan({"PK1001"});
  SortCommand c = s.only_command(fx);
  BOOST_TEST(c.chute == 11);
  s.handle(ChuteState{11, true, true});
  Effects rec = s.confirm(c, DivertOutcome::Recirculated);
  auto d = ops<StoreDecision>(rec);
  BOOST_REQUIRE_EQUAL(d.size(), 1u);
  BOOST_TEST(d[0].attempt == 1);
  BOOST_TEST(d[0].courier == "a");
  BOOST_TEST(d[0].lane == 3);  // a's overflow lane
  SortCommand c2 = s.only_command(rec);
  BOOST_TEST(c2.chute == 13);
  BOOST_TEST(c2.seq != c.seq);
  BOOST_TEST(c2.tracking_id == c.tracking_id);
  BOOST_TEST(rec.print.empty());  // same courier: the label on it is still right
  // Capacity: released and reserved again, net one parcel.
  BOOST_TEST(s.core->ledger().used[0].parcels == 1);
  // A late confirmation of the first command is stale and changes nothing.
  Effects stale = s.handle(DivertConfirmed{c.seq, c.tracking_id, 11, DivertOutcome::Diverted});
  BOOST_TEST(ops<StoreParcelState>(stale).empty());
  Effects done = s.confirm(c2, DivertOutcome::Diverted);
  BOOST_TEST(ops<StoreParcelState>(done)[0].state == ParcelState::Diverted);
  BOOST_TEST(ops<StoreParcelState>(done)[0].lane == 3);
}

BOOST_AUTO_TEST_CASE(a_confirmation_with_our_sequence_but_another_tracking_id_is_ignored) {
  // What a PLC that ran with another database may still hold in its ring: the sequence is one
  // of ours, the parcel is not.
  Station s;
  Effects fx = s.scan({"PK1001"});
  SortCommand c = s.only_command(fx);
  Effects other = s.handle(DivertConfirmed{c.seq, c.tracking_id + 1000, 11, DivertOutcome::Lost});
  BOOST_TEST(ops<StoreParcelState>(other).empty());
  BOOST_TEST(s.core->ledger().used[0].parcels == 1);  // still reserved: the parcel is in flight
  Effects done = s.confirm(c, DivertOutcome::Diverted);
  BOOST_TEST(ops<StoreParcelState>(done)[0].state == ParcelState::Diverted);
}

BOOST_AUTO_TEST_CASE(recirculation_limit_sends_the_parcel_to_exception_and_releases_capacity) {
  Station s;
  Effects fx = s.scan({"PK1001"});
  SortCommand c = s.only_command(fx);
  for (int i = 1; i <= 2; ++i) {
    Effects r = s.confirm(c, DivertOutcome::Recirculated);
    BOOST_TEST(s.decided_exception(r) == ExceptionKind::None);
    c = s.only_command(r);
  }
  Effects r = s.confirm(c, DivertOutcome::Recirculated);
  BOOST_TEST(s.decided_exception(r) == ExceptionKind::RecirculationLimit);
  c = s.only_command(r);
  BOOST_TEST(c.chute == 90);
  BOOST_TEST(s.core->ledger().used[0].parcels == 0);
  Effects done = s.confirm(c, DivertOutcome::Diverted);
  auto st = ops<StoreParcelState>(done);
  BOOST_TEST(st[0].state == ParcelState::Exception);
  BOOST_TEST(st[0].exception == ExceptionKind::RecirculationLimit);
  // The order may be sorted again once the parcel is found.
  Effects again = s.scan({"PK1001"});
  BOOST_TEST(s.decided_exception(again) == ExceptionKind::None);
}

BOOST_AUTO_TEST_CASE(fail_safe_divert_to_exception_and_missort_are_recorded) {
  Station s;
  Effects fx = s.scan({"PK1001"});
  SortCommand c = s.only_command(fx);
  // The PLC sent it to the exception chute (deadline missed): an exception, capacity back.
  Effects fs = s.handle(DivertConfirmed{0, c.tracking_id, 90, DivertOutcome::Diverted});
  auto st = ops<StoreParcelState>(fs);
  BOOST_REQUIRE_EQUAL(st.size(), 1u);
  BOOST_TEST(st[0].state == ParcelState::Exception);
  BOOST_TEST(s.core->ledger().used[0].parcels == 0);

  Effects fx2 = s.scan({"PK1002"});
  SortCommand c2 = s.only_command(fx2);
  Effects wrong = s.confirm(c2, DivertOutcome::Diverted, 12);  // into B's lane
  BOOST_TEST(ops<StoreAlarm>(wrong).size() == 1u);
  BOOST_TEST(ops<StoreParcelState>(wrong)[0].lane == 2);
}

BOOST_AUTO_TEST_CASE(confirmation_for_an_unknown_sequence_is_recorded_and_ignored) {
  Station s;
  Effects fx = s.handle(DivertConfirmed{4242, 77, 11, DivertOutcome::Diverted});
  auto conf = ops<StoreConfirmation>(fx);
  BOOST_REQUIRE_EQUAL(conf.size(), 1u);
  BOOST_TEST(conf[0].parcel_id == 0u);
  BOOST_TEST(ops<StoreLane>(fx).empty());
  // A repeated confirmation after the parcel finished does not fill the lane twice.
  Effects d = s.scan({"PK1001"});
  SortCommand c = s.only_command(d);
  s.confirm(c, DivertOutcome::Diverted);
  Effects again = s.confirm(c, DivertOutcome::Diverted);
  BOOST_TEST(ops<StoreLane>(again).empty());
  BOOST_TEST(s.core->stats().diverted == 1u);
}

BOOST_AUTO_TEST_CASE(reads_pair_with_inductions_by_scan_window_and_a_missing_read_shifts_nothing) {
  // Parcels inducted 600 ms apart; the reader reports no tracking ids.
  Station t;
  t.handle(ParcelInducted{1});
  t.now += 400;
  ScanRead r1{"s1", 0, {{"PK1001", "C0"}}, false};
  Effects e1 = t.handle(r1);
  BOOST_TEST(t.only_command(e1).tracking_id == 1u);
  t.now += 200;  // T0+600
  t.handle(ParcelInducted{2});
  t.now += 600;  // T0+1200: parcel 2's window (T0+1000 ± 200) closes without a read
  t.handle(ParcelInducted{3});
  t.now += 10;
  Effects tick = t.handle(Tick{});
  BOOST_TEST(t.decided_exception(tick) == ExceptionKind::NoRead);
  BOOST_TEST(t.only_command(tick).tracking_id == 2u);
  t.now += 390;  // T0+1600: parcel 3's expected read time
  ScanRead r3{"s1", 0, {{"PK1003", "C0"}}, false};
  Effects e3 = t.handle(r3);
  BOOST_TEST(t.only_command(e3).tracking_id == 3u);  // not shifted onto parcel 2
  BOOST_TEST(ops<StoreDecision>(e3)[0].order_id == "O3");
}

BOOST_AUTO_TEST_CASE(degraded_mode_scans_and_labels_for_manual_sorting_and_recovers) {
  Station s;
  s.handle(DeviceStatus{"plc", DeviceKind::Sorter, false, "connection refused"});
  BOOST_TEST(s.core->degraded());
  Effects fx = s.scan({"PK1001"});
  BOOST_TEST(fx.sort.empty());
  BOOST_REQUIRE_EQUAL(fx.print.size(), 1u);  // the label says where to take it
  auto st = ops<StoreParcelState>(fx);
  BOOST_REQUIRE_EQUAL(st.size(), 1u);
  BOOST_TEST(st[0].exception == ExceptionKind::Degraded);
  BOOST_TEST(st[0].lane == 1);
  BOOST_TEST(s.core->ledger().used[0].parcels == 1);  // it still goes to courier A by hand
  Effects back = s.handle(DeviceStatus{"plc", DeviceKind::Sorter, true, ""});
  BOOST_TEST(!s.core->degraded());
  BOOST_TEST(ops<StoreAlarm>(back).size() == 1u);
  BOOST_TEST(!ops<StoreAlarm>(back)[0].raised);
  Effects next = s.scan({"PK1002"});
  BOOST_TEST(next.sort.size() == 1u);
}

BOOST_AUTO_TEST_CASE(plc_restart_reusing_a_tracking_id_closes_the_old_parcel) {
  Station s;
  std::uint32_t tid = 0;
  Effects fx = s.scan({"PK1001"}, &tid);
  Effects re = s.handle(ParcelInducted{tid});
  auto st = ops<StoreParcelState>(re);
  BOOST_REQUIRE_EQUAL(st.size(), 1u);
  BOOST_TEST(st[0].exception == ExceptionKind::Lost);
  BOOST_TEST(s.core->in_flight() == 0u);
}

BOOST_AUTO_TEST_CASE(lane_disabled_by_operator_sends_parcels_to_overflow) {
  Station s;
  Effects off = s.handle(LaneSet{1, false, "sup"});
  BOOST_TEST(ops<StoreAudit>(off).size() == 1u);
  Effects fx = s.scan({"PK1001"});
  auto d = ops<StoreDecision>(fx)[0];
  BOOST_TEST(d.courier == "a");
  BOOST_TEST(d.lane == 3);
}

BOOST_AUTO_TEST_CASE(cancelled_after_import_is_intercepted) {
  Station s;
  Effects set = s.handle(OrderStatusSet{"O7", OrderStatus::Cancelled, "erp"});
  BOOST_TEST(ops<StoreOrderStatus>(set).size() == 1u);
  Effects fx = s.scan({"PK1007"});
  BOOST_TEST(s.decided_exception(fx) == ExceptionKind::Cancelled);
}

namespace {
std::vector<Event> script() {
  std::vector<Event> ev;
  ev.push_back(DeviceStatus{"plc", DeviceKind::Sorter, true, ""});
  for (std::uint32_t i = 1; i <= 12; ++i) {
    ev.push_back(ParcelInducted{i});
    ev.push_back(ScanRead{"s1", i, {{"PK" + std::to_string(1000 + i), "C0"}}, false});
  }
  return ev;
}
std::vector<std::string> run(const std::vector<Event>& ev, Station& s) {
  std::vector<std::string> lines;
  for (const auto& e : ev) {
    s.now += 100;
    describe_effects(s.handle(e), lines);
    for (const auto& c : s.handle(Tick{}).sort) (void)c;
  }
  return lines;
}
}  // namespace

BOOST_AUTO_TEST_CASE(same_events_same_decisions) {
  Station a, b;
  auto la = run(script(), a);
  auto lb = run(script(), b);
  BOOST_TEST(la.size() > 12u);
  BOOST_TEST(la == lb, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(recovery_from_the_store_resumes_in_flight_parcels_without_double_counting) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("sortd-core-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string db = (dir / "s.db").string();
  SortCommand pending;
  {
    Store store(db);
    Station s;
    std::vector<Order> orders;
    s.book.for_each([&](const Order& o) { orders.push_back(o); });
    store.upsert_orders(orders);
    auto step = [&](const Event& e) {
      Effects fx = s.handle(e);
      store.apply(fx.store);
      return fx;
    };
    Effects d1 = step(ParcelInducted{500});
    s.now += 400;
    d1 = step(ScanRead{"s1", 500, {{"PK1001", "C0"}}, false});
    SortCommand c1 = s.only_command(d1);
    step(SortAcked{c1.seq});
    s.now += 1000;
    step(DivertConfirmed{c1.seq, 500, c1.chute, DivertOutcome::Diverted});
    step(ParcelInducted{501});
    s.now += 400;
    Effects d2 = step(ScanRead{"s1", 501, {{"PK1002", "C0"}}, false});
    pending = s.only_command(d2);
    step(SortAcked{pending.seq});
  }  // "crash": the core is gone, only the store remains
  Store store(db);
  RecoveredState rec = store.recover();
  BOOST_REQUIRE_EQUAL(rec.in_flight.size(), 1u);
  BOOST_TEST(rec.in_flight[0].seq == pending.seq);
  BOOST_TEST(rec.next_seq > pending.seq);
  Station s(rec);
  s.now += 2000;
  // Capacity used today: two parcels for A, counted once.
  s.handle(Tick{});
  BOOST_TEST(s.core->ledger().used[0].parcels == 2);
  BOOST_TEST(s.core->in_flight() == 1u);
  Effects done =
      s.handle(DivertConfirmed{pending.seq, 501, pending.chute, DivertOutcome::Diverted});
  auto st = ops<StoreParcelState>(done);
  BOOST_REQUIRE_EQUAL(st.size(), 1u);
  BOOST_TEST(st[0].state == ParcelState::Diverted);
  store.apply(done.store);
  // The order already sorted is a duplicate after the restart too.
  Effects dup = s.scan({"PK1001"});
  BOOST_TEST(s.decided_exception(dup) == ExceptionKind::Duplicate);
  // New sequence numbers never reuse old ones.
  BOOST_TEST(s.only_command(dup).seq > pending.seq);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(events_round_trip_through_the_codec) {
  std::vector<Event> ev = script();
  ev.push_back(DivertConfirmed{7, 8, 9, DivertOutcome::Recirculated});
  ev.push_back(PrintFinished{3, JobOutcome::Held, "zebra", "paper out"});
  ev.push_back(OrderStatusSet{"O1", OrderStatus::Held, "sup"});
  ev.push_back(ChuteState{11, true, false});
  for (const auto& e : ev) {
    std::string a = encode_event(e);
    BOOST_TEST(encode_event(decode_event(a)) == a);
  }
  BOOST_CHECK_THROW(decode_event("{\"type\":\"scan_read\"}"), CodecError);
  BOOST_CHECK_THROW(decode_event("not json"), CodecError);
  BOOST_CHECK_THROW(decode_event("{\"type\":\"warp\"}"), CodecError);
  try {
    decode_event(
        "{\"type\":\"divert_confirmed\",\"seq\":\"x\",\"chute\":1,\"outcome\":\"diverted\"}");
    BOOST_FAIL("no error");
  } catch (const CodecError& e) {
    BOOST_TEST(std::string(e.what()).find("seq") != std::string::npos);
  }
}
