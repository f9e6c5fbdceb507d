// Bags, manifests and handover through a real daemon (demo station, simulated devices) and its
// bus: bag.close, handover.scan / handover.missort with their flags, manifest.close with the
// CSV and JSON exports checked field by field against the store, the parcel.shipped events on
// the PUB stream, roles, sortctl, and a restart that keeps the manifests (docs/bags.md).
#define BOOST_TEST_MODULE bags_bus
#include <sys/wait.h>

#include <sqlite3.h>
#include <boost/test/unit_test.hpp>

#include <map>
#include <set>

#include "test_bus_fixture.h"

using namespace bus_test;

namespace {

// Splits one CSV line (quotes as written by the export).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// Polls the `bags` request (open bags and open manifests) until pred holds.
template <typename Pred>
json wait_bags(Client& c, Pred pred, double seconds = 60) {
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  while (std::chrono::steady_clock::now() < until) {
    json r = c.ok({{"cmd", "bags"}});
    if (pred(r)) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  BOOST_FAIL("the bags did not reach the expected state");
  return {};
}

struct Fixture {
  fs::path dir = make_temp_dir("bags");
  std::string config = demo_config(dir, "rate = 20\nchute_capacity = 6");
  sortd::BusOptions bo;
  std::unique_ptr<Station> st;
  Fixture() {
    bo.users_file = write_users(dir);
    st = std::make_unique<Station>(dir, config, bo);
  }
  ~Fixture() {
    st.reset();
    fs::remove_all(dir);
  }
  Client client(const std::string& user = "") {
    Client c(st->router);
    for (const auto& u : test_users())
      if (u.name == user) c.login(u.name, u.password);
    return c;
  }
  // Rows of a read-only query on the station's database.
  std::vector<std::vector<std::string>> sql(const std::string& q) {
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open_v2((dir / "sortd.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
                  SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* s = nullptr;
    BOOST_REQUIRE_MESSAGE(sqlite3_prepare_v2(db, q.c_str(), -1, &s, nullptr) == SQLITE_OK,
                          sqlite3_errmsg(db));
    std::vector<std::vector<std::string>> rows;
    while (sqlite3_step(s) == SQLITE_ROW) {
      std::vector<std::string> r;
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        auto* t = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
        r.push_back(t ? t : "");
      }
      rows.push_back(std::move(r));
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return rows;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(bags_bus, Fixture)

BOOST_AUTO_TEST_CASE(close_a_bag_hand_it_over_and_close_the_manifest_with_exports_and_events) {
  zmq::context_t ctx;
  zmq::socket_t sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, "parcel.shipped");
  sub.set(zmq::sockopt::subscribe, "manifest");
  sub.connect(st->pub);

  Client anon = client(), oscar = client("oscar"), sara = client("sara");
  // A courier lane whose bag holds two parcels or more (the lanes carry their bag).
  json snap = wait_state(oscar, [](const json& s) {
    for (const auto& l : s["lanes"])
      if (l["bag"].is_string() && l["fill"].get<int>() >= 2) return true;
    return false;
  });
  int lane = 0;
  std::string courier;
  for (const auto& l : snap["state"]["lanes"])
    if (l["bag"].is_string() && l["fill"].get<int>() >= 2) {
      lane = l["lane"];
      courier = l["courier"];
      break;
    }
  BOOST_TEST_MESSAGE("lane " << lane << " courier " << courier);

  BOOST_CHECK_EQUAL(anon.error({{"cmd", "bag.close"}, {"lane", lane}}), "unauthenticated");
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "bag.close"}}), "missing_field");
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "bag.close"}, {"lane", "x"}}), "wrong_type");
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "bag.close"}, {"lane", 404}}), "not_found");
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "bag.close"}, {"lane", 25}}), "conflict");  // exception
  json closed = oscar.ok({{"cmd", "bag.close"}, {"lane", lane}});
  const std::string bag = closed["bag_id"];
  const std::uint64_t manifest = closed["manifest_id"];
  BOOST_TEST(closed["count"].get<int>() >= 2);
  BOOST_TEST(bag.rfind("B", 0) == 0);
  BOOST_TEST(manifest > 0u);

  // Its label went through the normal print path (the simulated printer) and printed.
  std::string outcome;
  for (int i = 0; i < 100 && outcome != "printed"; ++i) {
    auto rows =
        sql("SELECT l.outcome, l.kind FROM bags b JOIN label_jobs l ON l.id = b.label_job "
            "WHERE b.id = '" +
            bag + "'");
    if (!rows.empty()) {
      outcome = rows[0][0];
      BOOST_TEST(rows[0][1] == "bag");
    }
    if (outcome != "printed") std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  BOOST_TEST(outcome == "printed");

  // Handover: the bag, the bag again, an unknown bag, and a missort.
  BOOST_CHECK_EQUAL(anon.error({{"cmd", "handover.scan"}, {"bag_id", bag}}), "unauthenticated");
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "handover.scan"}}), "missing_field");
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "handover.scan"}, {"bag_id", bag}, {"courier", "nope"}}),
                    "not_found");
  json ok = oscar.ok({{"cmd", "handover.scan"}, {"bag_id", bag}, {"courier", courier}});
  BOOST_TEST(ok["ok"] == true);
  BOOST_TEST(ok["manifest_id"] == manifest);
  BOOST_TEST(oscar.ok({{"cmd", "handover.scan"}, {"bag_id", bag}})["again"] == true);
  json extra =
      oscar.ok({{"cmd", "handover.scan"}, {"bag_id", "B-NOT-A-BAG"}, {"courier", courier}});
  BOOST_TEST(extra["ok"] == false);
  BOOST_TEST(extra["issue"] == "not_on_manifest");
  BOOST_TEST(extra["manifest_id"] == manifest);
  json mis = oscar.ok({{"cmd", "handover.missort"}, {"bag_id", bag}, {"code", "NO-SUCH-CODE"}});
  BOOST_TEST(mis["issue"] == "missort");

  json view = oscar.ok({{"cmd", "manifest"}, {"manifest_id", manifest}})["manifest"];
  BOOST_TEST(view["courier"] == courier);
  BOOST_TEST(view["state"] == "open");
  bool seen = false;
  for (const auto& b : view["bags"])
    if (b["bag_id"] == bag) seen = b["picked_up"] == true && b["picked_by"] == "oscar";
  BOOST_TEST(seen);
  BOOST_TEST(view["picked_up"]["bags"].get<int>() >= 1);
  std::set<std::string> kinds;
  for (const auto& i : view["issues"]) kinds.insert(i["kind"]);
  BOOST_TEST(kinds == (std::set<std::string>{"missort", "not_on_manifest"}));
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "manifest"}, {"manifest_id", 99999}}), "not_found");
  json listed = oscar.ok({{"cmd", "manifests"}, {"state", "open"}, {"courier", courier}});
  BOOST_TEST(listed["manifests"].size() >= 1u);
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "manifests"}, {"state", "half"}}), "bad_value");

  // Closing needs a supervisor; then it exports and ships.
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "manifest.close"}, {"manifest_id", manifest}}),
                    "forbidden");
  json r = sara.ok({{"cmd", "manifest.close"}, {"manifest_id", manifest}, {"force", true}});
  BOOST_CHECK_EQUAL(sara.error({{"cmd", "manifest.close"}, {"manifest_id", manifest}}), "conflict");
  const std::size_t n = r["parcels"];
  BOOST_TEST(n >= 2u);
  const std::string csv_path = r["files"]["csv"], json_path = r["files"]["json"];
  BOOST_TEST(fs::path(csv_path).parent_path() == dir / "manifests");
  BOOST_TEST(fs::exists(r["files"]["sheet"].get<std::string>()));
  BOOST_TEST(read_text(r["files"]["sheet"]).find(bag) != std::string::npos);

  // The JSON export.
  json exp = json::parse(read_text(json_path));
  BOOST_TEST(exp["manifest_id"] == manifest);
  BOOST_TEST(exp["courier"] == courier);
  BOOST_TEST(exp["state"] == "closed");
  BOOST_TEST(exp["closed_by"] == "sara");
  BOOST_TEST(exp["forced"] == true);
  BOOST_REQUIRE_EQUAL(exp["parcels"].size(), n);

  // The CSV export: the same rows, field by field.
  std::istringstream csv(read_text(csv_path));
  std::string line;
  std::getline(csv, line);
  const std::vector<std::string> cols = csv_fields(line);
  const std::vector<std::string> want = {
      "manifest_id", "courier",         "wave",     "cutoff",      "bag_id",      "parcel_id",
      "order_id",    "tracking_number", "weight_g", "diverted_at", "diverted_ms", "picked_up"};
  BOOST_TEST(cols == want, boost::test_tools::per_element());
  std::vector<std::vector<std::string>> rows;
  while (std::getline(csv, line))
    if (!line.empty()) rows.push_back(csv_fields(line));
  BOOST_REQUIRE_EQUAL(rows.size(), n);

  // Each row against the JSON export and the store.
  std::map<std::string, std::vector<std::string>> store_rows;  // parcel id -> fields
  for (auto& s : sql("SELECT bp.parcel_id, bp.bag_id, p.order_id, p.weight_g, bp.time_ms, "
                     "(SELECT code FROM order_codes WHERE order_id = p.order_id AND pos = 0), "
                     "b.picked_ms IS NOT NULL, p.courier, p.state FROM bag_parcels bp JOIN bags b "
                     "ON b.id = bp.bag_id JOIN parcels p ON p.id = bp.parcel_id WHERE "
                     "b.manifest_id = " +
                     std::to_string(manifest)))
    store_rows[s[0]] = s;
  BOOST_REQUIRE_EQUAL(store_rows.size(), n);
  std::set<std::uint64_t> csv_parcels;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& c = rows[i];
    const json& j = exp["parcels"][i];
    BOOST_TEST_CONTEXT("row " << i) {
      BOOST_REQUIRE_EQUAL(c.size(), want.size());
      for (std::size_t k = 0; k < want.size(); ++k) {
        const json& v = j[want[k]];
        const std::string as_text = v.is_string()    ? v.get<std::string>()
                                    : v.is_boolean() ? (v.get<bool>() ? "1" : "0")
                                                     : v.dump();
        BOOST_TEST(c[k] == as_text, want[k]);
      }
      BOOST_TEST(c[0] == std::to_string(manifest));
      BOOST_TEST(c[1] == courier);
      BOOST_TEST(c[3].size() == 5u);  // HH:MM
      const auto& s = store_rows.at(c[5]);
      BOOST_TEST(c[4] == s[1]);   // bag
      BOOST_TEST(c[6] == s[2]);   // order
      BOOST_TEST(c[8] == s[3]);   // weight
      BOOST_TEST(c[10] == s[4]);  // diverted
      BOOST_TEST(c[7] == s[5]);   // tracking number: the order's first code
      BOOST_TEST(c[11] == s[6]);  // picked up
      BOOST_TEST(s[7] == courier);
      BOOST_TEST(s[8] == "diverted");
      BOOST_TEST(c[11] == (c[4] == bag ? "1" : "0"));
      BOOST_TEST(c[9].size() == 25u);  // 2026-11-23T10:00:00+08:00
      csv_parcels.insert(std::stoull(c[5]));
    }
  }

  // One parcel.shipped per parcel on the bus, and the manifest's close.
  std::set<std::uint64_t> shipped;
  bool manifest_closed = false;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((shipped.size() < n || !manifest_closed) && std::chrono::steady_clock::now() < until) {
    zmq::pollitem_t it{sub.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&it, 1, std::chrono::milliseconds(200));
    if (!(it.revents & ZMQ_POLLIN)) continue;
    zmq::message_t t, b;
    BOOST_REQUIRE(sub.recv(t));
    BOOST_REQUIRE(sub.recv(b));
    json body = json::parse(b.to_string_view());
    if (body.value("manifest_id", std::uint64_t{0}) != manifest) continue;
    if (t.to_string() == "manifest") {
      if (body["event"] == "closed") {
        manifest_closed = true;
        BOOST_TEST(body["parcels"] == n);
      }
      continue;
    }
    BOOST_TEST(body["courier"] == courier);
    const auto& s = store_rows.at(std::to_string(body["parcel_id"].get<std::uint64_t>()));
    BOOST_TEST(body["order_id"] == s[2]);
    BOOST_TEST(body["tracking_number"] == s[5]);
    BOOST_TEST(body["time"].is_number_integer());
    BOOST_TEST(body.contains("seq"));
    shipped.insert(body["parcel_id"].get<std::uint64_t>());
  }
  BOOST_TEST(manifest_closed);
  BOOST_TEST(shipped == csv_parcels);

  // After the close: not-taken bags flagged, state closed, audit rows.
  json after = oscar.ok({{"cmd", "manifest"}, {"manifest_id", manifest}})["manifest"];
  BOOST_TEST(after["state"] == "closed");
  std::size_t not_taken = 0;
  for (const auto& i : after["issues"]) not_taken += i["kind"] == "not_taken";
  BOOST_TEST(not_taken == after["bags"].size() - after["picked_up"]["bags"].get<std::size_t>());
  BOOST_TEST(sql("SELECT 1 FROM audit WHERE user = 'oscar' AND action = 'bag.close'").size() == 1u);
  BOOST_TEST(sql("SELECT 1 FROM audit WHERE user = 'oscar' AND action = 'handover.scan'").size() ==
             2u);
  BOOST_TEST(sql("SELECT 1 FROM audit WHERE user = 'sara' AND action = 'manifest.close'").size() ==
             1u);
  BOOST_TEST(
      sql("SELECT 1 FROM handover_issues WHERE manifest_id = " + std::to_string(manifest)).size() ==
      2u + not_taken);
}

BOOST_AUTO_TEST_CASE(a_manifest_with_open_bags_needs_force_and_sortctl_drives_it_all) {
  Client oscar = client("oscar");
  // Wait for a bag closed by the chute-full sensor: its courier has an open manifest.
  json snap = wait_bags(oscar, [](const json& s) { return !s["manifests"].empty(); });
  const json m = snap["manifests"][0];
  const std::uint64_t id = m["manifest_id"];
  const std::string courier = m["courier"];
  Client sara = client("sara");
  // Make sure a bag of the courier holds parcels, then closing refuses without force.
  wait_bags(oscar, [&](const json& s) {
    for (const auto& b : s["bags"])
      if (b["courier"] == courier && b["count"].get<int>() > 0) return true;
    return false;
  });
  st->daemon->stop_devices();  // freeze the belt: the bags stay as they are
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  bool open_bags = false;
  const json now = oscar.ok({{"cmd", "bags"}});
  for (const auto& b : now["bags"])
    open_bags |= b["courier"] == courier && b["count"].get<int>() > 0;
  if (open_bags) {
    json r = sara.call({{"cmd", "manifest.close"}, {"manifest_id", id}});
    BOOST_TEST(r["ok"] == false);
    BOOST_TEST(r["error"]["code"] == "conflict");
    BOOST_TEST(r["error"]["message"].get<std::string>().find("still open") != std::string::npos);
  }

  auto run = [&](const std::string& args, const std::string& input = "") {
    return run_sortctl(*st, dir, args, input);
  };
  BOOST_CHECK_EQUAL(run("manifest --help").first, 0);
  BOOST_CHECK_EQUAL(run("handover scan --help").first, 0);
  BOOST_CHECK_EQUAL(run("manifest list").first, 0);
  auto [lrc, ltext] = run("--json manifest list --state open");
  BOOST_CHECK_EQUAL(lrc, 0);
  BOOST_TEST(json::parse(ltext)["manifests"].size() >= 1u);
  BOOST_CHECK_EQUAL(run("bag list").first, 0);
  BOOST_CHECK_EQUAL(run("handover scan B1").first, 4);  // not logged in
  BOOST_CHECK_EQUAL(run("login oscar --password-stdin", "oscar-pw").first, 0);
  auto [src, stext] = run("handover scan B-NOPE --courier " + courier);
  BOOST_CHECK_EQUAL(src, 0);
  BOOST_TEST(stext.find("FLAGGED not_on_manifest") != std::string::npos);
  BOOST_CHECK_EQUAL(run("manifest show " + std::to_string(id) + " --parcels").first, 0);
  BOOST_CHECK_EQUAL(run("manifest close " + std::to_string(id)).first, 4);  // operator
  BOOST_CHECK_EQUAL(run("login sara --password-stdin", "sara-pw").first, 0);
  if (open_bags) BOOST_CHECK_EQUAL(run("manifest close " + std::to_string(id)).first, 1);
  auto [crc, ctext] = run("--json manifest close " + std::to_string(id) + " --force");
  BOOST_CHECK_EQUAL(crc, 0);
  json closed = json::parse(ctext);
  BOOST_TEST(fs::exists(closed["files"]["csv"].get<std::string>()));
  BOOST_CHECK_EQUAL(run("manifest close 99999").first, 1);
  BOOST_CHECK_EQUAL(run("manifest close").first, 2);

  // A restart keeps the manifests and the open bags.
  json bags_before = oscar.ok({{"cmd", "bags"}})["bags"];
  json open_before = oscar.ok({{"cmd", "manifests"}, {"state", "open"}})["manifests"];
  st->shutdown();
  st = std::make_unique<Station>(dir, config, bo);
  st->daemon->stop_devices();
  Client again = client("oscar");
  json bags_after = again.ok({{"cmd", "bags"}})["bags"];
  std::map<int, std::string> before, after;
  for (const auto& b : bags_before) before[b["lane"]] = b["bag_id"];
  for (const auto& b : bags_after) after[b["lane"]] = b["bag_id"];
  // (A lane that waited for its bag swap gets a new bag: the chute-full bit is not kept.)
  for (const auto& [lane, id_before] : before)
    BOOST_TEST(after[lane] == id_before, "lane " << lane);
  std::set<std::uint64_t> ob, oa;
  for (const auto& x : open_before) ob.insert(x["manifest_id"].get<std::uint64_t>());
  const json open_after = again.ok({{"cmd", "manifests"}, {"state", "open"}})["manifests"];
  for (const auto& x : open_after) oa.insert(x["manifest_id"].get<std::uint64_t>());
  // Every manifest open before is open after (a bag closed since may have opened another).
  for (auto m : ob) BOOST_TEST(oa.count(m) == 1u, "manifest " << m);
  BOOST_TEST(again.ok({{"cmd", "manifest"}, {"manifest_id", id}})["manifest"]["state"] == "closed");
}

BOOST_AUTO_TEST_SUITE_END()
