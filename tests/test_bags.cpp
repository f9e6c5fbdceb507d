// Bags, manifests and handover in the station core (docs/bags.md): bag close by each trigger
// (count, weight, chute-full, by hand, close barcode), overflow while a lane has no open bag,
// a parcel confirmed after a close lands in the new bag, handover reconciliation with a missing
// and an extra bag, manifest close with its shipped events, and a restart from the store.
#define BOOST_TEST_MODULE bags
#include <boost/test/unit_test.hpp>

#include <sqlite3.h>

#include <functional>
#include <optional>

#include "core.h"
#include "store.h"
#include "temp_dir.h"
#include "test_sql.h"

using namespace sortd;
using nlohmann::json;

namespace {

// 2026-11-23 10:00 in the station's time zone (UTC+8).
constexpr TimeMs kT0 = 1795399200000;

StationConfig bag_station() {
  StationConfig cfg;
  cfg.source = "test";
  cfg.station_id = "t1";
  cfg.station_name = "test station";
  cfg.policies.origin_province = "浙江";
  Courier a;
  a.id = "a";
  a.name = "Courier A";
  a.piece_fen = 500;
  a.cutoff_min = 17 * 60;
  Courier b = a;
  b.id = "b";
  b.name = "Courier B";
  b.piece_fen = 800;
  cfg.couriers = {a, b};
  auto lane = [](int id, LaneKind k, std::string courier, int overflow = 0) {
    Lane l;
    l.id = id;
    l.chute = id + 10;
    l.kind = k;
    l.courier = std::move(courier);
    l.overflow = overflow;
    return l;
  };
  cfg.lanes = {lane(1, LaneKind::Courier, "a", 3), lane(2, LaneKind::Courier, "b"),
               lane(3, LaneKind::Overflow, "a"), lane(90, LaneKind::Exception, "")};
  cfg.lanes[0].bag_max_count = 3;
  StationConfig::Device sorter;
  sorter.name = "plc";
  sorter.kind = "sorter";
  sorter.driver = "sim";
  cfg.devices = {sorter};
  return cfg;
}

template <typename T>
std::vector<T> ops(const Effects& fx) {
  std::vector<T> v;
  for (const auto& op : fx.store)
    if (auto* p = std::get_if<T>(&op)) v.push_back(*p);
  return v;
}

std::vector<json> published(const Effects& fx, const std::string& topic) {
  std::vector<json> v;
  for (const auto& p : fx.publish)
    if (p.topic == topic) v.push_back(json::parse(p.json));
  return v;
}

struct Station {
  StationConfig cfg;
  OrderBook book;
  std::unique_ptr<Core> core;
  Store* store = nullptr;  // when set, every batch of store operations is written
  TimeMs now = kT0;
  std::uint32_t next_tid = 100;
  int next_order = 1;

  explicit Station(std::function<void(StationConfig&)> tweak = {}, Store* st = nullptr,
                   TimeMs start = kT0)
      : cfg(bag_station()), store(st), now(start) {
    if (tweak) tweak(cfg);
    RecoveredState rec = store ? store->recover() : RecoveredState{};
    core = std::make_unique<Core>(cfg, book, rec);
    handle(DeviceStatus{"plc", DeviceKind::Sorter, true, ""});
  }
  Effects handle(const Event& e) {
    Effects fx = core->handle(e, now);
    if (store) store->apply(fx.store);
    return fx;
  }
  // A new order for courier `courier` (the other one is forbidden), weighing `grams`.
  std::string add_order(const std::string& courier, std::int32_t grams = 1200) {
    Order o;
    o.id = "O" + std::to_string(next_order);
    o.codes = {"PK" + std::to_string(1000 + next_order)};
    ++next_order;
    o.province = "浙江";
    o.city = "杭州";
    o.weight_g = grams;
    o.forbidden = {courier == "a" ? "b" : "a"};
    book.upsert(o);
    if (store) store->upsert_orders({o});
    return o.codes[0];
  }
  // Inducts and reads a parcel; returns its one sort command.
  SortCommand scan(const std::string& code) {
    const std::uint32_t tid = next_tid++;
    handle(ParcelInducted{tid});
    now += 400;
    ScanRead r;
    r.scanner = "s1";
    r.tracking_id = tid;
    r.codes = {{code, ""}};
    Effects fx = handle(r);
    BOOST_REQUIRE_EQUAL(fx.sort.size(), 1u);
    return fx.sort[0];
  }
  Effects confirm(const SortCommand& c) {
    now += 1000;
    return handle(DivertConfirmed{c.seq, c.tracking_id, c.chute, DivertOutcome::Diverted});
  }
  // One parcel of `courier` scanned and confirmed into its lane.
  Effects sort_one(const std::string& courier, std::int32_t grams = 1200) {
    return confirm(scan(add_order(courier, grams)));
  }
  Effects close_code(const std::string& code) {
    now += 100;
    ScanRead r;
    r.scanner = "hand-1";
    r.codes = {{code, ""}};
    return handle(r);
  }
  json lane(int id) const {
    const json snap = core->snapshot(now);
    for (const auto& l : snap["lanes"])
      if (l["lane"] == id) return l;
    return {};
  }
  std::string bag_of(int lane_id) const {
    json b = lane(lane_id)["bag"];
    return b.is_string() ? b.get<std::string>() : "";
  }
};

std::optional<StoreBag> closed_bag(const std::vector<StoreBag>& bags) {
  for (const auto& b : bags)
    if (b.closed) return b;
  return std::nullopt;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_courier_lane_opens_a_bag_with_a_readable_id) {
  Station s;
  BOOST_TEST(s.bag_of(1) == "B20261123-01-001");
  BOOST_TEST(s.bag_of(2) == "B20261123-02-001");
  BOOST_TEST(s.bag_of(3) == "B20261123-03-001");  // an overflow lane with a courier
  BOOST_TEST(s.lane(90)["bag"].is_null());        // exception lanes hold no bags
  BOOST_TEST(s.core->bags_json().size() == 3u);
  BOOST_TEST(s.core->manifests_json().empty());
}

BOOST_AUTO_TEST_CASE(count_limit_closes_prints_the_label_adds_to_the_manifest_and_opens_the_next) {
  Station s;
  s.sort_one("a");
  Effects two = s.sort_one("a");
  BOOST_TEST(!closed_bag(ops<StoreBag>(two)));
  BOOST_TEST(s.lane(1)["fill"] == 2);
  Effects three = s.sort_one("a");
  auto bags = ops<StoreBag>(three);
  const auto b = closed_bag(bags);
  BOOST_REQUIRE(b);
  BOOST_TEST(b->bag_id == "B20261123-01-001");
  BOOST_TEST(b->reason == "count");
  BOOST_TEST(b->count == 3);
  BOOST_TEST(b->grams == 3600);
  BOOST_TEST(b->courier == "a");
  BOOST_TEST(b->manifest_id == 1u);
  // The parcel that filled it is in it.
  auto bp = ops<StoreBagParcel>(three);
  BOOST_REQUIRE_EQUAL(bp.size(), 1u);
  BOOST_TEST(bp[0].bag_id == "B20261123-01-001");
  // Its label, through the normal print path.
  BOOST_REQUIRE_EQUAL(three.print.size(), 1u);
  const PrintJob& job = three.print[0];
  BOOST_TEST(job.kind == "bag");
  BOOST_TEST(job.courier == "a");
  BOOST_TEST(job.lane == 1);
  BOOST_TEST(job.fields.at("bag_id") == "B20261123-01-001");
  BOOST_TEST(job.fields.at("count") == "3");
  BOOST_TEST(job.fields.at("weight_kg") == "3.60");
  BOOST_TEST(job.fields.at("closed_at").rfind("2026-11-23 10:", 0) == 0);
  BOOST_TEST(b->label_job == job.job_id);
  auto jobs = ops<StoreLabelJob>(three);
  BOOST_REQUIRE_EQUAL(jobs.size(), 1u);
  BOOST_TEST(jobs[0].kind == "bag");
  // Courier a's manifest for today's wave (cutoff 17:00).
  auto man = ops<StoreManifest>(three);
  BOOST_REQUIRE_EQUAL(man.size(), 1u);
  BOOST_TEST(man[0].courier == "a");
  BOOST_TEST(man[0].day == local_day(kT0, 480));
  BOOST_TEST(man[0].cutoff_min == 17 * 60);
  BOOST_TEST(!man[0].closed);
  // The next bag is open and empty.
  BOOST_TEST(s.bag_of(1) == "B20261123-01-002");
  BOOST_TEST(s.lane(1)["fill"] == 0);
  BOOST_TEST(s.lane(1)["state"] == "open");
  auto pub = published(three, "bag");
  BOOST_REQUIRE_EQUAL(pub.size(), 2u);
  BOOST_TEST(pub[0]["event"] == "closed");
  BOOST_TEST(pub[0]["count"] == 3);
  BOOST_TEST(pub[1]["event"] == "opened");
  // A second bag of the same courier and wave joins the same manifest.
  s.sort_one("a");
  s.sort_one("a");
  Effects again = s.sort_one("a");
  BOOST_TEST(closed_bag(ops<StoreBag>(again))->manifest_id == 1u);
  BOOST_TEST(ops<StoreManifest>(again).empty());
  json m = s.core->manifests_json();
  BOOST_REQUIRE_EQUAL(m.size(), 1u);
  BOOST_TEST(m[0]["bags"] == 2);
  BOOST_TEST(m[0]["parcels"] == 6);
}

BOOST_AUTO_TEST_CASE(weight_limit_closes_the_bag) {
  Station s([](StationConfig& c) {
    c.lanes[0].bag_max_count = 0;
    c.lanes[0].bag_max_weight_g = 5000;
  });
  BOOST_TEST(!closed_bag(ops<StoreBag>(s.sort_one("a", 2000))));
  BOOST_TEST(!closed_bag(ops<StoreBag>(s.sort_one("a", 2000))));
  Effects third = s.sort_one("a", 1500);  // 5.5 kg >= 5 kg
  const auto b = closed_bag(ops<StoreBag>(third));
  BOOST_REQUIRE(b);
  BOOST_TEST(b->reason == "weight");
  BOOST_TEST(b->grams == 5500);
  BOOST_TEST(b->count == 3);
  BOOST_TEST(third.print.at(0).fields.at("weight_kg") == "5.50");
}

BOOST_AUTO_TEST_CASE(chute_full_closes_the_bag_and_the_lane_overflows_until_the_swap) {
  Station s;
  s.sort_one("a");
  s.now += 100;
  Effects full = s.handle(ChuteState{11, true, true});
  const auto b = closed_bag(ops<StoreBag>(full));
  BOOST_REQUIRE(b);
  BOOST_TEST(b->reason == "chute_full");
  BOOST_TEST(b->count == 1);
  BOOST_TEST(full.print.size() == 1u);
  BOOST_TEST(s.bag_of(1).empty());  // no bag until the picker swaps it
  BOOST_TEST(s.lane(1)["state"] == "full");
  // While lane 1 has no open bag its parcels go to its overflow lane 3.
  SortCommand c = s.scan(s.add_order("a"));
  BOOST_TEST(c.chute == 13);
  // The bit clears: the new bag opens and lane 1 takes parcels again.
  s.now += 100;
  Effects swapped = s.handle(ChuteState{11, false, true});
  auto opened = ops<StoreBag>(swapped);
  BOOST_REQUIRE_EQUAL(opened.size(), 1u);
  BOOST_TEST(!opened[0].closed);
  BOOST_TEST(opened[0].bag_id == "B20261123-01-002");
  BOOST_TEST(s.lane(1)["state"] == "open");
  BOOST_TEST(s.scan(s.add_order("a")).chute == 11);
  // An empty bag is not closed by the sensor.
  s.now += 100;
  Effects empty = s.handle(ChuteState{11, true, true});
  BOOST_TEST(ops<StoreBag>(empty).empty());
  BOOST_TEST(s.bag_of(1) == "B20261123-01-002");
}

BOOST_AUTO_TEST_CASE(a_parcel_landing_while_the_lane_waits_for_its_swap_opens_the_next_bag) {
  Station s;
  SortCommand late = s.scan(s.add_order("a"));  // commanded before the chute filled
  s.sort_one("a");
  s.handle(ChuteState{11, true, true});
  BOOST_TEST(s.bag_of(1).empty());
  Effects fx = s.confirm(late);
  auto bp = ops<StoreBagParcel>(fx);
  BOOST_REQUIRE_EQUAL(bp.size(), 1u);
  BOOST_TEST(bp[0].bag_id == "B20261123-01-002");
  BOOST_TEST(s.lane(1)["state"] == "full");  // the sensor still says full
}

BOOST_AUTO_TEST_CASE(a_parcel_confirmed_after_a_close_lands_in_the_new_bag) {
  Station s;
  s.sort_one("a");
  SortCommand inflight = s.scan(s.add_order("a"));
  Effects closed = s.handle(BagClose{1, "oscar"});
  const auto b = closed_bag(ops<StoreBag>(closed));
  BOOST_REQUIRE(b);
  BOOST_TEST(b->count == 1);
  BOOST_TEST(b->reason == "manual");
  BOOST_TEST(b->closed_by == "oscar");
  BOOST_TEST(ops<StoreAudit>(closed).size() == 1u);
  Effects fx = s.confirm(inflight);
  auto bp = ops<StoreBagParcel>(fx);
  BOOST_REQUIRE_EQUAL(bp.size(), 1u);
  BOOST_TEST(bp[0].bag_id == "B20261123-01-002");
  BOOST_TEST(s.lane(1)["fill"] == 1);
}

BOOST_AUTO_TEST_CASE(closing_by_hand_is_refused_clearly_when_it_cannot_be_done) {
  Station s;
  BOOST_TEST(s.core->why_not_close_bag(1) ==
             "lane 1's bag B20261123-01-001 is empty: nothing to close");
  BOOST_TEST(s.core->why_not_close_bag(90).find("holds no bags") != std::string::npos);
  BOOST_TEST(s.core->why_not_close_bag(77) == "no lane 77");
  Effects fx = s.handle(BagClose{1, "oscar"});
  BOOST_TEST(ops<StoreBag>(fx).empty());
  auto pub = published(fx, "bag");
  BOOST_REQUIRE_EQUAL(pub.size(), 1u);
  BOOST_TEST(pub[0]["event"] == "refused");
  BOOST_TEST(s.bag_of(1) == "B20261123-01-001");
}

BOOST_AUTO_TEST_CASE(the_lane_close_barcode_closes_the_bag_as_a_command_not_a_parcel) {
  Station s;
  s.sort_one("a");
  s.sort_one("a");
  const auto reads = s.core->stats().reads;
  const auto decided = s.core->stats().decided;
  Effects fx = s.close_code("CLOSE-L01");
  const auto b = closed_bag(ops<StoreBag>(fx));
  BOOST_REQUIRE(b);
  BOOST_TEST(b->reason == "scan");
  BOOST_TEST(b->closed_by == "scanner:hand-1");
  BOOST_TEST(b->count == 2);
  BOOST_TEST(ops<StoreRead>(fx).empty());
  BOOST_TEST(ops<StoreDecision>(fx).empty());
  BOOST_TEST(s.core->stats().reads == reads);
  BOOST_TEST(s.core->stats().decided == decided);
  BOOST_TEST(s.bag_of(1) == "B20261123-01-002");
  // Bad close codes are refused with a reason, and are not parcels either.
  for (const std::string code : {"CLOSE-L99", "CLOSE-Lx1", "CLOSE-L01", "CLOSE-L90"}) {
    Effects bad = s.close_code(code);
    BOOST_TEST_CONTEXT(code) {
      BOOST_TEST(ops<StoreBag>(bad).empty());
      BOOST_TEST(ops<StoreDecision>(bad).empty());
      auto pub = published(bad, "bag");
      BOOST_REQUIRE_EQUAL(pub.size(), 1u);
      BOOST_TEST(pub[0]["event"] == "refused");
      BOOST_TEST(!pub[0]["reason"].get<std::string>().empty());
    }
  }
  // A read of a different code with the prefix inside is a parcel as usual.
  s.close_code("XCLOSE-L01");
  BOOST_TEST(s.core->stats().reads == reads + 1);
  // Without a prefix the feature is off.
  Station off([](StationConfig& c) { c.bag_close_prefix.clear(); });
  off.sort_one("a");
  BOOST_TEST(ops<StoreBag>(off.close_code("CLOSE-L01")).empty());
}

BOOST_AUTO_TEST_CASE(handover_reconciles_a_missing_and_an_extra_bag_and_the_close_ships) {
  Station s;
  for (int i = 0; i < 3; ++i) s.sort_one("a");  // bag 1 of lane 1 closes (count)
  for (int i = 0; i < 3; ++i) s.sort_one("a");  // bag 2 of lane 1 closes
  s.sort_one("b");
  s.handle(BagClose{2, "oscar"});  // courier b's bag
  s.sort_one("a");                 // lane 1's third bag stays open
  json manifests = s.core->manifests_json();
  std::uint64_t ma = 0;
  for (const auto& m : manifests)
    if (m["courier"] == "a") ma = m["manifest_id"];
  BOOST_REQUIRE(ma);

  // The picker of courier a takes bag 1, scans it twice, then an unknown bag, b's bag and the
  // open bag. Bag 2 is left behind.
  Effects ok = s.handle(HandoverScan{"B20261123-01-001", "a", "picker"});
  BOOST_TEST(ops<StoreBagPicked>(ok).size() == 1u);
  BOOST_TEST(published(ok, "handover").at(0)["event"] == "picked");
  Effects twice = s.handle(HandoverScan{"B20261123-01-001", "a", "picker"});
  BOOST_TEST(ops<StoreBagPicked>(twice).empty());
  BOOST_TEST(ops<StoreHandoverIssue>(twice).empty());
  struct Extra {
    std::string bag, what;
  } extras[] = {{"B20261123-09-999", "on no open manifest"},
                {"B20261123-02-001", "belongs to b, not a"},
                {"B20261123-01-003", "still open on lane 1"}};
  for (const auto& x : extras) {
    Effects fx = s.handle(HandoverScan{x.bag, "a", "picker"});
    auto issues = ops<StoreHandoverIssue>(fx);
    BOOST_TEST_CONTEXT(x.bag) {
      BOOST_REQUIRE_EQUAL(issues.size(), 1u);
      BOOST_TEST(issues[0].kind == "not_on_manifest");
      BOOST_TEST(issues[0].bag_id == x.bag);
      BOOST_TEST(issues[0].courier == "a");
      BOOST_TEST(issues[0].manifest_id == ma);
      BOOST_TEST(issues[0].detail.find(x.what) != std::string::npos, issues[0].detail);
      BOOST_TEST(ops<StoreBagPicked>(fx).empty());
    }
  }
  // A parcel of b found in a's bag.
  Effects mis = s.handle(HandoverMissort{"B20261123-01-001", "PK1007", 7, "b", "picker"});
  auto mi = ops<StoreHandoverIssue>(mis);
  BOOST_REQUIRE_EQUAL(mi.size(), 1u);
  BOOST_TEST(mi[0].kind == "missort");
  BOOST_TEST(mi[0].parcel_id == 7u);
  BOOST_TEST(mi[0].manifest_id == ma);
  BOOST_TEST(mi[0].courier == "a");

  manifests = s.core->manifests_json();
  for (const auto& m : manifests)
    if (m["manifest_id"] == ma) {
      BOOST_TEST(m["bags"] == 2);
      BOOST_TEST(m["picked"] == 1);
      BOOST_TEST(m["parcels"] == 6);
    }

  ManifestClose close{ma, "sara", true, {}};
  for (int i = 1; i <= 6; ++i)
    close.parcels.push_back({std::uint64_t(i), "O" + std::to_string(i),
                             "PK" + std::to_string(1000 + i),
                             i <= 3 ? "B20261123-01-001" : "B20261123-01-002"});
  Effects closed = s.handle(close);
  auto issues = ops<StoreHandoverIssue>(closed);
  BOOST_REQUIRE_EQUAL(issues.size(), 1u);
  BOOST_TEST(issues[0].kind == "not_taken");
  BOOST_TEST(issues[0].bag_id == "B20261123-01-002");
  auto man = ops<StoreManifest>(closed);
  BOOST_REQUIRE_EQUAL(man.size(), 1u);
  BOOST_TEST(man[0].closed);
  BOOST_TEST(man[0].forced);
  BOOST_TEST(man[0].closed_by == "sara");
  auto shipped = published(closed, "parcel.shipped");
  BOOST_REQUIRE_EQUAL(shipped.size(), 6u);
  BOOST_TEST(shipped[0]["order_id"] == "O1");
  BOOST_TEST(shipped[0]["tracking_number"] == "PK1001");
  BOOST_TEST(shipped[0]["courier"] == "a");
  BOOST_TEST(shipped[0]["time"] == s.now);
  auto mp = published(closed, "manifest");
  BOOST_REQUIRE_EQUAL(mp.size(), 1u);
  BOOST_TEST(mp[0]["not_taken"] == 1);
  BOOST_TEST(mp[0]["picked"] == 1);
  // Closed: gone from the live view; its bags are no longer on an open manifest.
  const json after = s.core->manifests_json();
  for (const auto& m : after) BOOST_TEST(m["manifest_id"] != ma);
  Effects late = s.handle(HandoverScan{"B20261123-01-001", "a", "picker"});
  BOOST_TEST(ops<StoreHandoverIssue>(late).size() == 1u);
  // The next bag of courier a opens a new manifest.
  s.sort_one("a");
  Effects next = s.sort_one("a");
  auto nm = ops<StoreManifest>(next);
  BOOST_REQUIRE_EQUAL(nm.size(), 1u);
  BOOST_TEST(nm[0].manifest_id > ma);
}

BOOST_AUTO_TEST_CASE(a_scanner_with_the_handover_role_scans_bag_labels) {
  Station s([](StationConfig& c) {
    StationConfig::Device ho;
    ho.name = "handover-1";
    ho.kind = "scanner";
    ho.driver = "tcp";
    ho.options = {{"role", "handover"}};
    c.devices.push_back(ho);
  });
  for (int i = 0; i < 3; ++i) s.sort_one("a");  // B20261123-01-001 closes
  const auto reads = s.core->stats().reads;
  ScanRead r;
  r.scanner = "handover-1";
  r.codes = {{"B20261123-01-001", ""}};
  Effects fx = s.handle(r);
  auto picked = ops<StoreBagPicked>(fx);
  BOOST_REQUIRE_EQUAL(picked.size(), 1u);
  BOOST_TEST(picked[0].user == "scanner:handover-1");
  BOOST_TEST(ops<StoreDecision>(fx).empty());
  r.codes = {{"B20261123-01-002", ""}};  // the open bag
  auto issues = ops<StoreHandoverIssue>(s.handle(r));
  BOOST_REQUIRE_EQUAL(issues.size(), 1u);
  BOOST_TEST(issues[0].kind == "not_on_manifest");
  BOOST_TEST(s.core->stats().reads == reads);  // not parcels
}

BOOST_AUTO_TEST_CASE(a_bag_closed_after_the_cutoff_goes_to_the_next_wave) {
  // Sorted at 16:59; closed at 17:30, past courier a's 17:00 cutoff.
  Station s({}, nullptr, kT0 + 7 * 3'600'000 - 60'000);
  s.sort_one("a");
  s.now += 30 * 60'000;
  Effects fx = s.handle(BagClose{1, "oscar"});
  auto man = ops<StoreManifest>(fx);
  BOOST_REQUIRE_EQUAL(man.size(), 1u);
  BOOST_TEST(man[0].day == local_day(kT0, 480) + 1);
}

BOOST_AUTO_TEST_CASE(a_restart_carries_open_bags_and_manifests_on) {
  test::TempDir dir;
  std::string open_bag;
  std::int64_t fill = 0;
  TimeMs t = kT0;
  {
    Store store(dir.db());
    Station s({}, &store);
    for (int i = 0; i < 4; ++i) s.sort_one("a");  // one bag closed, one open with 1 parcel
    s.handle(HandoverScan{"B20261123-01-001", "a", "picker"});
    open_bag = s.bag_of(1);
    fill = s.lane(1)["fill"];
    t = s.now;
  }
  BOOST_TEST(open_bag == "B20261123-01-002");
  BOOST_TEST(fill == 1);
  Store store(dir.db());
  BOOST_TEST(store.schema_version() == Store::current_schema_version());
  Station s({}, &store, t + 60'000);
  s.next_order = 50;  // new orders: the first run's are sorted already
  BOOST_TEST(s.bag_of(1) == open_bag);
  BOOST_TEST(s.lane(1)["fill"] == 1);
  BOOST_TEST(s.bag_of(2) == "B20261123-02-001");
  json m = s.core->manifests_json();
  BOOST_REQUIRE_EQUAL(m.size(), 1u);
  BOOST_TEST(m[0]["manifest_id"] == 1);
  BOOST_TEST(m[0]["bags"] == 1);
  BOOST_TEST(m[0]["picked"] == 1);
  // The open bag fills on from where it was, and the next id is new.
  s.sort_one("a");
  Effects fx = s.sort_one("a");
  const auto b = closed_bag(ops<StoreBag>(fx));
  BOOST_REQUIRE(b);
  BOOST_TEST(b->bag_id == open_bag);
  BOOST_TEST(b->count == 3);
  BOOST_TEST(b->manifest_id == 1u);
  BOOST_TEST(s.bag_of(1) == "B20261123-01-003");
  // The store holds every parcel in exactly one bag.
  sqlite3* db = store.handle();
  auto count = [&](const char* sql) { return sortd::test::scalar(db, sql); };
  BOOST_TEST(count("SELECT count(*) FROM bag_parcels") == 6);
  BOOST_TEST(count("SELECT count(*) FROM bag_parcels WHERE bag_id = 'B20261123-01-002'") == 3);
  BOOST_TEST(count("SELECT count(*) FROM bags WHERE state = 'closed'") == 2);
  BOOST_TEST(count("SELECT count(*) FROM bags WHERE picked_ms IS NOT NULL") == 1);
  BOOST_TEST(count("SELECT count(*) FROM manifests WHERE state = 'open'") == 1);
}

BOOST_AUTO_TEST_CASE(a_lane_given_to_another_courier_closes_its_bag) {
  test::TempDir dir;
  TimeMs t = kT0;
  {
    Store store(dir.db());
    Station s({}, &store);
    s.sort_one("a");
    t = s.now;
  }
  Store store(dir.db());
  Station s([](StationConfig& c) { c.lanes[0].courier = "b"; }, &store, t + 1000);
  BOOST_TEST(s.bag_of(1) == "B20261123-01-002");
  json m = s.core->manifests_json();
  BOOST_REQUIRE_EQUAL(m.size(), 1u);
  BOOST_TEST(m[0]["courier"] == "a");  // the old bag went to its own courier's manifest
  BOOST_TEST(m[0]["parcels"] == 1);
}
