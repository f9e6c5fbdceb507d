// The ZeroMQ bus against a real daemon (demo station, simulated devices) over TCP on loopback:
// every request with good and bad input, roles, the audit log, the PUB stream's sequence
// numbers and heartbeat, CURVE with an allowed and a refused client key, and sortctl.
#define BOOST_TEST_MODULE bus
#include <sys/wait.h>

#include <sodium.h>
#include <sqlite3.h>
#include <boost/test/unit_test.hpp>

#include "codec.h"
#include "test_bus_fixture.h"

using namespace bus_test;

namespace {

struct Fixture {
  fs::path dir = make_temp_dir("bus");
  std::string record = (dir / "run.events").string();
  std::unique_ptr<Station> st;
  Fixture() {
    sortd::BusOptions bo;
    bo.users_file = write_users(dir);
    st = std::make_unique<Station>(dir, demo_config(dir, "rate = 20"), bo, record);
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
  std::int64_t sql_count(const std::string& sql) {
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open_v2((dir / "sortd.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
                  SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    BOOST_REQUIRE_MESSAGE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK,
                          sqlite3_errmsg(db));
    BOOST_REQUIRE(sqlite3_step(s) == SQLITE_ROW);
    std::int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
  }
  // A parcel with no courier label: its last decision was an exception (no read, no order...).
  // A parcel decided for a courier that went wrong later (lost, missorted) has one.
  std::int64_t courierless_parcel(Client& c) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      json snap = c.ok({{"cmd", "snapshot"}});
      for (const auto& x : snap["state"]["recent"]) {
        if (x["state"] != "exception") continue;
        json t = c.ok({{"cmd", "parcel"}, {"parcel_id", x["parcel_id"]}})["parcels"][0];
        if (!t["decisions"].empty() && t["decisions"].back()["courier"] == "")
          return t["parcel_id"].get<std::int64_t>();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    BOOST_FAIL("no parcel went to an exception without a courier within 60 s");
    return 0;
  }
  // A parcel that went to a courier and was diverted (from the snapshot's recent parcels).
  json diverted_parcel(Client& c) {
    json snap = wait_state(c, [](const json& s) {
      for (const auto& p : s["recent"])
        if (p["state"] == "diverted" && !p["order_id"].get<std::string>().empty()) return true;
      return false;
    });
    for (const auto& p : snap["state"]["recent"])
      if (p["state"] == "diverted" && !p["order_id"].get<std::string>().empty()) return p;
    return {};
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(bus, Fixture)

BOOST_AUTO_TEST_CASE(garbage_gets_a_clear_error_and_the_daemon_keeps_serving) {
  Client c = client();
  auto code = [&](const std::string& frame) {
    auto r = c.raw({frame});
    BOOST_REQUIRE_MESSAGE(r, "no reply to " << frame);
    json j = json::parse(*r);
    BOOST_CHECK(j["ok"] == false);
    BOOST_CHECK(!j["error"]["message"].get<std::string>().empty());
    return j["error"]["code"].get<std::string>();
  };
  BOOST_CHECK_EQUAL(code("{\"cmd\": \"lanes\""), "bad_json");
  BOOST_CHECK_EQUAL(code(""), "bad_json");
  BOOST_CHECK_EQUAL(code(std::string("\xff\xfe\x00", 3)), "bad_json");
  BOOST_CHECK_EQUAL(code("[1,2]"), "bad_request");
  BOOST_CHECK_EQUAL(code("{\"id\":5}"), "bad_request");
  BOOST_CHECK_EQUAL(code("{\"cmd\":42}"), "bad_request");
  BOOST_CHECK_EQUAL(code("{\"cmd\":\"fly\"}"), "unknown_command");
  BOOST_CHECK_EQUAL(c.error({{"cmd", "parcel"}}), "missing_field");
  BOOST_CHECK_EQUAL(c.error({{"cmd", "parcel"}, {"parcel_id", "seven"}}), "wrong_type");
  BOOST_CHECK_EQUAL(c.error({{"cmd", "parcel"}, {"parcel_id", -3}}), "bad_value");
  BOOST_CHECK_EQUAL(c.error({{"cmd", "orders"}, {"status", "lost"}}), "bad_value");
  BOOST_CHECK_EQUAL(c.error({{"cmd", "orders"}, {"limit", 1.5}}), "wrong_type");
  // Two frames after the envelope.
  auto two = c.raw({"{\"cmd\":\"hello\"}", "extra"});
  BOOST_REQUIRE(two);
  BOOST_CHECK_EQUAL(json::parse(*two)["error"]["code"], "bad_request");
  // The request id is echoed, whatever its type.
  json r = c.call({{"id", {{"x", 1}}}, {"cmd", "fly"}});
  BOOST_CHECK_EQUAL(r["id"], (json{{"x", 1}}));
  BOOST_CHECK_EQUAL(c.call({{"id", "abc"}, {"cmd", "hello"}})["id"], "abc");
  // A REQ-style envelope (empty delimiter) gets the same envelope back.
  auto req_style = c.raw({"", "{\"cmd\":\"hello\",\"id\":9}"});
  BOOST_REQUIRE(req_style);
  BOOST_CHECK_EQUAL(json::parse(*req_style)["id"], 9);
  // Still serving.
  json hello = c.ok({{"cmd", "hello"}});
  BOOST_CHECK_EQUAL(hello["station"], "hz-xiaoshan-01");
  BOOST_CHECK_EQUAL(hello["instance"].get<std::string>().size(), 16u);
}

BOOST_AUTO_TEST_CASE(login_roles_and_sessions) {
  Client anon = client();
  BOOST_CHECK_EQUAL(anon.error({{"cmd", "login"}, {"user", "oscar"}, {"password", "nope"}}),
                    "login_failed");
  BOOST_CHECK_EQUAL(anon.error({{"cmd", "login"}, {"user", "nobody"}, {"password", "x"}}),
                    "login_failed");
  BOOST_CHECK_EQUAL(anon.error({{"cmd", "login"}, {"user", "oscar"}}), "missing_field");
  BOOST_CHECK_EQUAL(anon.error({{"cmd", "login"}, {"user", 3}, {"password", "x"}}), "wrong_type");
  // Viewing is open; commands are not.
  BOOST_CHECK(anon.ok({{"cmd", "lanes"}})["lanes"].size() == 30);
  BOOST_CHECK_EQUAL(anon.error({{"cmd", "lane.disable"}, {"lane", 3}}), "unauthenticated");
  BOOST_CHECK_EQUAL(anon.error({{"cmd", "lane.disable"}, {"lane", 3}, {"token", "abc"}}),
                    "unauthenticated");
  Client vera = client("vera");
  BOOST_CHECK_EQUAL(vera.ok({{"cmd", "whoami"}})["role"], "viewer");
  BOOST_CHECK_EQUAL(vera.error({{"cmd", "lane.disable"}, {"lane", 3}}), "forbidden");
  Client oscar = client("oscar");
  json who = oscar.ok({{"cmd", "whoami"}});
  BOOST_CHECK_EQUAL(who["user"], "oscar");
  BOOST_CHECK_EQUAL(who["role"], "operator");
  BOOST_CHECK(who["expires"].get<std::int64_t>() > sortd::Daemon::now_ms());
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "lane.reassign"}, {"lane", 3}, {"courier", "zto"}}),
                    "forbidden");
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "audit"}}), "forbidden");
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "users.reload"}}), "forbidden");
  Client sara = client("sara");
  BOOST_CHECK_EQUAL(sara.error({{"cmd", "users.reload"}}), "forbidden");
  Client adam = client("adam");
  BOOST_CHECK_EQUAL(adam.ok({{"cmd", "users.reload"}})["users"], 4);
  BOOST_CHECK(oscar.ok({{"cmd", "whoami"}})["user"] == "oscar");  // unchanged users keep sessions
  // Logout ends the session.
  oscar.ok({{"cmd", "logout"}});
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "lane.disable"}, {"lane", 3}}), "unauthenticated");
  // Too many failures for one name: refused for a while, even with the right password.
  for (int i = 0; i < sortd::Sessions::kMaxFailures; ++i)
    BOOST_CHECK_EQUAL(anon.error({{"cmd", "login"}, {"user", "vera"}, {"password", "bad"}}),
                      "login_failed");
  BOOST_CHECK_EQUAL(anon.error({{"cmd", "login"}, {"user", "vera"}, {"password", "vera-pw"}}),
                    "rate_limited");
}

BOOST_AUTO_TEST_CASE(lanes_enable_disable_and_the_stream) {
  zmq::context_t ctx;
  zmq::socket_t sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::rcvtimeo, 30000);
  sub.set(zmq::sockopt::subscribe, "lane");
  sub.set(zmq::sockopt::subscribe, "hb");
  sub.connect(st->pub);
  Client oscar = client("oscar");
  // Wait for a heartbeat so the subscription is in place.
  std::string instance;
  while (instance.empty()) {
    zmq::message_t t, b;
    BOOST_REQUIRE(sub.recv(t));
    BOOST_REQUIRE(sub.recv(b));
    json body = json::parse(b.to_string_view());
    if (t.to_string() == "hb") instance = body["instance"];
  }
  BOOST_CHECK_EQUAL(instance, oscar.ok({{"cmd", "hello"}})["instance"]);
  BOOST_CHECK_EQUAL(oscar.ok({{"cmd", "lane.disable"}, {"lane", 7}})["enabled"], false);
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "lane.disable"}, {"lane", 99}}), "not_found");
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "lane.disable"}, {"lane", "7"}}), "wrong_type");
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "lane.enable"}}), "missing_field");
  json lanes = oscar.ok({{"cmd", "lanes"}})["lanes"];
  for (const auto& l : lanes)
    if (l["lane"] == 7) BOOST_CHECK_EQUAL(l["state"], "disabled");
  // The update on the stream: the whole lane, a seq and a time.
  while (true) {
    zmq::message_t t, b;
    BOOST_REQUIRE(sub.recv(t));
    BOOST_REQUIRE(sub.recv(b));
    json body = json::parse(b.to_string_view());
    BOOST_CHECK(body["seq"].is_number_unsigned());
    if (t.to_string() != "lane" || body["lane"] != 7) continue;
    BOOST_CHECK_EQUAL(body["enabled"], false);
    BOOST_CHECK(body["time"].is_number_integer());
    break;
  }
  oscar.ok({{"cmd", "lane.enable"}, {"lane", 7}});
  BOOST_CHECK(sql_count("SELECT count(*) FROM audit WHERE user = 'oscar' AND action = "
                        "'lane_disable' AND detail = 'lane 7'") == 1);
  BOOST_CHECK(sql_count("SELECT count(*) FROM audit WHERE user = 'oscar' AND action = "
                        "'lane_enable'") == 1);
}

BOOST_AUTO_TEST_CASE(sequence_numbers_increase_by_one_and_heartbeats_carry_the_last) {
  zmq::context_t ctx;
  zmq::socket_t sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::rcvtimeo, 30000);
  sub.set(zmq::sockopt::subscribe, "");
  sub.connect(st->pub);
  std::uint64_t last = 0;
  int updates = 0, heartbeats = 0;
  while (updates < 100 || heartbeats < 2) {
    zmq::message_t t, b;
    BOOST_REQUIRE(sub.recv(t));
    BOOST_REQUIRE(t.more());
    BOOST_REQUIRE(sub.recv(b));
    BOOST_REQUIRE(!b.more());
    json body = json::parse(b.to_string_view());
    const std::uint64_t seq = body["seq"];
    if (t.to_string() == "hb") {
      if (last) BOOST_CHECK_EQUAL(seq, last);
      BOOST_CHECK_EQUAL(body["instance"].get<std::string>().size(), 16u);
      ++heartbeats;
      continue;
    }
    if (last) BOOST_REQUIRE_EQUAL(seq, last + 1);
    BOOST_CHECK(body["time"].is_number_integer());
    last = seq;
    ++updates;
  }
}

BOOST_AUTO_TEST_CASE(orders_cancel_hold_release_and_import) {
  Client oscar = client("oscar");
  json first = oscar.ok({{"cmd", "orders"}, {"limit", 2}});
  BOOST_CHECK_EQUAL(first["total"], 20000);
  BOOST_REQUIRE_EQUAL(first["orders"].size(), 2u);
  const std::string id = first["orders"][0]["order_id"];
  BOOST_CHECK_EQUAL(oscar.ok({{"cmd", "order.cancel"}, {"order_id", id}})["status"], "cancelled");
  BOOST_CHECK_EQUAL(oscar.ok({{"cmd", "order"}, {"order_id", id}})["order"]["status"], "cancelled");
  oscar.ok({{"cmd", "order.hold"}, {"order_id", id}});
  BOOST_CHECK_EQUAL(oscar.ok({{"cmd", "order"}, {"order_id", id}})["order"]["status"], "held");
  oscar.ok({{"cmd", "order.release"}, {"order_id", id}});
  BOOST_CHECK_EQUAL(oscar.ok({{"cmd", "order"}, {"order_id", id}})["order"]["status"], "active");
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "order.cancel"}, {"order_id", "NO-SUCH"}}), "not_found");
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "order.cancel"}, {"order_id", ""}}), "bad_value");
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "order.hold"}}), "missing_field");
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "order"}, {"order_id", "NO-SUCH"}}), "not_found");
  BOOST_CHECK(
      sql_count("SELECT count(*) FROM orders WHERE id = '" + id + "' AND status = 'active'") == 1);
  BOOST_CHECK(sql_count("SELECT count(*) FROM audit WHERE user = 'oscar' AND action = "
                        "'order_status'") == 3);

  json good = {{"order_id", "BUS-1"}, {"codes", {"BUSCODE1"}}, {"province", "浙江"},
               {"city", "杭州市"},    {"district", "西湖区"},  {"address", "文三路 1 号"},
               {"weight_g", 800},     {"recipient", "王五"},   {"phone", "13800000000"},
               {"postcode", "310000"}};
  json bad = good;
  bad["order_id"] = "BUS-2";
  bad["codes"] = {"BUSCODE2"};
  bad["weight_g"] = -5;
  json wrong = {{"order_id", 12}};
  // All or nothing: refused, nothing written.
  json r = oscar.call(
      {{"cmd", "orders.import"}, {"orders", {good, bad, wrong}}, {"all_or_nothing", true}});
  BOOST_CHECK(r["ok"] == false);
  BOOST_CHECK_EQUAL(r["error"]["code"], "refused");
  BOOST_REQUIRE_EQUAL(r["refused"].size(), 2u);
  BOOST_CHECK_EQUAL(r["refused"][0]["index"], 1);
  BOOST_CHECK_EQUAL(r["refused"][1]["index"], 2);
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "order"}, {"order_id", "BUS-1"}}), "not_found");
  // Partial: the good one goes in, the bad ones are reported by index and field.
  json ok = oscar.ok({{"cmd", "orders.import"}, {"orders", {good, bad, wrong}}});
  BOOST_CHECK_EQUAL(ok["imported"], 1);
  BOOST_REQUIRE_EQUAL(ok["refused"].size(), 2u);
  BOOST_CHECK_EQUAL(ok["refused"][0]["field"], "weight_g");
  BOOST_CHECK_EQUAL(oscar.ok({{"cmd", "order"}, {"order_id", "BUS-1"}})["order"]["codes"][0],
                    "BUSCODE1");
  BOOST_CHECK(sql_count("SELECT count(*) FROM orders WHERE id = 'BUS-1'") == 1);
  BOOST_CHECK(sql_count("SELECT count(*) FROM order_codes WHERE code = 'BUSCODE1'") == 1);
  BOOST_CHECK_EQUAL(oscar.ok({{"cmd", "orders"}, {"limit", 0}})["total"], 20001);
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "orders.import"}}), "missing_field");
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "orders.import"}, {"orders", "x"}}), "wrong_type");
  BOOST_CHECK_EQUAL(
      oscar.error({{"cmd", "orders.import"}, {"orders", json::array()}, {"all_or_nothing", 1}}),
      "wrong_type");
  BOOST_CHECK(sql_count("SELECT count(*) FROM audit WHERE user = 'oscar' AND action = "
                        "'orders.import'") == 1);
  // A scan of the imported order's code now identifies it: the parcel trace by order.
  st->inject(sortd::ScanRead{"scanner-1", 0, {{"BUSCODE1", ""}}, false});
  json trace;
  for (int i = 0; i < 100; ++i) {
    trace = oscar.ok({{"cmd", "parcel"}, {"order_id", "BUS-1"}});
    if (!trace["parcels"].empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  BOOST_REQUIRE_EQUAL(trace["parcels"].size(), 1u);
  BOOST_CHECK_EQUAL(trace["order"]["order_id"], "BUS-1");
  BOOST_CHECK_EQUAL(trace["parcels"][0]["reads"][0]["codes"][0]["text"], "BUSCODE1");
}

BOOST_AUTO_TEST_CASE(parcel_trace_by_id_order_and_code_and_reprint) {
  Client oscar = client("oscar");
  json p = diverted_parcel(oscar);
  const std::int64_t pid = p["parcel_id"];
  const std::string order_id = p["order_id"];
  json by_id = oscar.ok({{"cmd", "parcel"}, {"parcel_id", pid}});
  BOOST_REQUIRE_EQUAL(by_id["parcels"].size(), 1u);
  const json& t = by_id["parcels"][0];
  BOOST_CHECK_EQUAL(t["state"], "diverted");
  BOOST_CHECK_EQUAL(t["order_id"], order_id);
  BOOST_REQUIRE(!t["reads"].empty());
  BOOST_REQUIRE(!t["decisions"].empty());
  BOOST_CHECK(!t["decisions"][0]["candidates"]["ranked"].empty());
  BOOST_CHECK_EQUAL(t["decisions"][0]["candidates"]["ranked"][0]["courier"], t["courier"]);
  BOOST_REQUIRE(!t["sort_commands"].empty());
  BOOST_CHECK(!t["sort_commands"][0]["acked"].is_null());
  BOOST_REQUIRE(!t["confirmations"].empty());
  BOOST_CHECK_EQUAL(t["confirmations"].back()["outcome"], "diverted");
  BOOST_REQUIRE(!t["labels"].empty());
  json by_order = oscar.ok({{"cmd", "parcel"}, {"order_id", order_id}});
  BOOST_CHECK_EQUAL(by_order["order"]["order_id"], order_id);
  bool found = false;
  for (const auto& x : by_order["parcels"]) found |= x["parcel_id"] == pid;
  BOOST_CHECK(found);
  const std::string code = t["reads"][0]["codes"][0]["text"];
  json by_code = oscar.ok({{"cmd", "parcel"}, {"code", code}});
  found = false;
  for (const auto& x : by_code["parcels"]) found |= x["parcel_id"] == pid;
  BOOST_CHECK(found);
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "parcel"}, {"code", "NOPE-NOT-A-CODE"}}), "not_found");
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "parcel"}, {"parcel_id", 99999999}}), "not_found");
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "parcel"}, {"parcel_id", 1}, {"code", "x"}}), "bad_value");

  // Reprint: a new job for the same parcel, courier and lane.
  const std::size_t labels_before = t["labels"].size();
  json job = oscar.ok({{"cmd", "reprint"}, {"parcel_id", pid}});
  BOOST_CHECK_EQUAL(job["parcel_id"], pid);
  BOOST_CHECK_EQUAL(job["courier"], t["courier"]);
  json again = oscar.ok({{"cmd", "parcel"}, {"parcel_id", pid}})["parcels"][0];
  BOOST_REQUIRE_EQUAL(again["labels"].size(), labels_before + 1);
  BOOST_CHECK_EQUAL(again["labels"].back()["job_id"], job["job_id"]);
  json by_code_job = oscar.ok({{"cmd", "reprint"}, {"code", code}});
  BOOST_CHECK(by_code_job["job_id"].get<std::int64_t>() > job["job_id"].get<std::int64_t>());
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "reprint"}}), "missing_field");
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "reprint"}, {"parcel_id", 99999999}}), "not_found");
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "reprint"}, {"code", "NOPE"}}), "not_found");
  BOOST_CHECK_EQUAL(client("vera").error({{"cmd", "reprint"}, {"parcel_id", pid}}), "forbidden");
  BOOST_CHECK(sql_count("SELECT count(*) FROM audit WHERE user = 'oscar' AND action = 'reprint'") ==
              2);
  // An exception parcel has no courier label.
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "reprint"}, {"parcel_id", courierless_parcel(oscar)}}),
                    "bad_value");
}

// A PNG's size from its IHDR chunk (after the 8-byte signature: length, "IHDR", width, height).
std::pair<std::uint32_t, std::uint32_t> png_size(const std::string& png) {
  BOOST_REQUIRE(png.size() > 24);
  BOOST_REQUIRE_EQUAL(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  BOOST_REQUIRE_EQUAL(png.substr(12, 4), "IHDR");
  auto be32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(png[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

std::string unbase64(const std::string& b64) {
  std::string out(b64.size(), '\0');
  std::size_t len = 0;
  BOOST_REQUIRE(sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                                  b64.data(), b64.size(), nullptr, &len, nullptr,
                                  sodium_base64_VARIANT_ORIGINAL) == 0);
  out.resize(len);
  return out;
}

// The label preview: the parcel's label filled from its decision and order, for its printer,
// drawn by the bus worker as a PNG (one pixel a dot) and as the printer's ZPL. A viewer may ask.
BOOST_AUTO_TEST_CASE(label_preview_of_a_parcel) {
  Client viewer = client();
  json p = diverted_parcel(viewer);
  const std::int64_t pid = p["parcel_id"];
  json t = viewer.ok({{"cmd", "parcel"}, {"parcel_id", pid}})["parcels"][0];
  json order = viewer.ok({{"cmd", "order"}, {"order_id", t["order_id"]}})["order"];
  const std::string tracking = order["codes"][0];

  json l = viewer.ok({{"cmd", "label"}, {"parcel_id", pid}});
  BOOST_CHECK_EQUAL(l["parcel_id"], pid);
  BOOST_CHECK_EQUAL(l["courier"], t["courier"]);
  BOOST_CHECK_EQUAL(l["lane"], t["lane"]);
  BOOST_CHECK_EQUAL(l["printer"], "printer-1");  // the demo station's printer printed it
  BOOST_CHECK_EQUAL(l["job_id"], t["labels"].back()["job_id"]);
  BOOST_CHECK_EQUAL(l["language"], "zpl");
  BOOST_CHECK(l["template"].get<std::string>().rfind("parcel", 0) == 0);
  const std::string zpl = l["source"];
  BOOST_CHECK(zpl.rfind("^XA", 0) == 0);
  BOOST_CHECK(zpl.find(tracking) != std::string::npos);
  const auto [w, h] = png_size(unbase64(l["png"]));
  BOOST_CHECK_EQUAL(w, 799u);  // 100 x 150 mm at 203 dpi
  BOOST_CHECK_EQUAL(h, 1199u);
  // By one of its codes: the same label.
  json by_code = viewer.ok({{"cmd", "label"}, {"code", tracking}});
  BOOST_CHECK_EQUAL(by_code["parcel_id"], pid);
  BOOST_CHECK_EQUAL(by_code["source"], zpl);
  // On another printer of the station by name; and refusals, each with its code.
  BOOST_CHECK_EQUAL(
      viewer.ok({{"cmd", "label"}, {"parcel_id", pid}, {"printer", "printer-1"}})["printer"],
      "printer-1");
  BOOST_CHECK_EQUAL(viewer.error({{"cmd", "label"}, {"parcel_id", pid}, {"printer", "nope"}}),
                    "not_found");
  BOOST_CHECK_EQUAL(viewer.error({{"cmd", "label"}}), "missing_field");
  BOOST_CHECK_EQUAL(viewer.error({{"cmd", "label"}, {"parcel_id", pid}, {"code", tracking}}),
                    "bad_value");
  BOOST_CHECK_EQUAL(viewer.error({{"cmd", "label"}, {"parcel_id", "7"}}), "wrong_type");
  BOOST_CHECK_EQUAL(viewer.error({{"cmd", "label"}, {"parcel_id", 99999999}}), "not_found");
  BOOST_CHECK_EQUAL(viewer.error({{"cmd", "label"}, {"code", "NOPE"}}), "not_found");
  BOOST_CHECK_EQUAL(viewer.error({{"cmd", "label"}, {"parcel_id", courierless_parcel(viewer)}}),
                    "bad_value");

  // sortctl writes the PNG, byte for byte the reply's.
  const fs::path png = dir / "label.png";
  auto [rc, out] = run_sortctl(*st, dir, "label " + std::to_string(pid) + " -o " + png.string());
  BOOST_CHECK_EQUAL(rc, 0);
  BOOST_CHECK(out.find("written to") != std::string::npos);
  BOOST_CHECK(read_text(png.string()) == unbase64(l["png"]));
  auto [src_rc, src] = run_sortctl(*st, dir, "label --source --code " + tracking);
  BOOST_CHECK_EQUAL(src_rc, 0);
  BOOST_CHECK(src.find(zpl) != std::string::npos);
}

// Another printer of the station (TSPL, 76x130 mm at 300 dpi, its own template folder): the
// label as that printer gets it. A label that cannot be made is refused with what is wrong: a
// template that needs a field the parcel lacks (conflict, with the problems), a folder without
// a parcel template (config_error). The folder is read for each request: an edit shows at once.
BOOST_AUTO_TEST_CASE(label_preview_for_another_printer_and_its_refusals) {
  const fs::path d = make_temp_dir("bus-label");
  const fs::path templates = d / "templates";
  fs::create_directories(templates);
  const std::string parcel = read_text(SORTD_SOURCE_DIR "/label-templates/templates/parcel.json");
  std::ofstream(templates / "parcel.json") << parcel;
  // printer-2 is never reached (port 1 refuses): its labels can be drawn all the same.
  std::ofstream(d / "station.toml")
      << read_text(demo_config(d, "rate = 20"))
      << "\n[[devices]]\nname = \"printer-2\"\nkind = \"printer\"\ndriver = \"tcp\"\n"
         "host = \"127.0.0.1\"\nport = \"1\"\nlanguage = \"tspl\"\nsize = \"76x130\"\n"
         "dpi = \"300\"\ntemplates = \""
      << templates.string() << "\"\n";
  {
    Station s(d, (d / "station.toml").string());
    Client c(s.router);
    json snap = wait_state(c, [](const json& st) {
      for (const auto& p : st["recent"])
        if (p["state"] == "diverted") return true;
      return false;
    });
    json pid;
    for (const auto& p : snap["state"]["recent"])
      if (p["state"] == "diverted") pid = p["parcel_id"];
    const json req = {{"cmd", "label"}, {"parcel_id", pid}, {"printer", "printer-2"}};
    json l = c.ok(req);
    BOOST_CHECK_EQUAL(l["printer"], "printer-2");
    BOOST_CHECK_EQUAL(l["language"], "tspl");
    BOOST_CHECK_EQUAL(l["source"].get<std::string>().substr(0, 17), "SIZE 76 mm,130 mm");
    const auto [w, h] = png_size(unbase64(l["png"]));
    BOOST_CHECK_EQUAL(w, 898u);  // 76 x 130 mm at 300 dpi
    BOOST_CHECK_EQUAL(h, 1535u);

    const std::string always = "\"always\": [";
    std::string needs_more = parcel;
    BOOST_REQUIRE(needs_more.find(always) != std::string::npos);
    needs_more.insert(needs_more.find(always) + always.size(), "\"customs_code\", ");
    std::ofstream(templates / "parcel.json") << needs_more;
    json r = json::parse(*c.raw({req.dump()}));
    BOOST_CHECK_EQUAL(r["error"]["code"], "conflict");
    BOOST_CHECK(r["error"]["message"].get<std::string>().find("customs_code") != std::string::npos);
    BOOST_REQUIRE(r["problems"].is_array());
    BOOST_CHECK_EQUAL(r["problems"][0], "customs_code: required on every parcel label, missing");

    fs::remove(templates / "parcel.json");
    r = json::parse(*c.raw({req.dump()}));
    BOOST_CHECK_EQUAL(r["error"]["code"], "config_error");
    BOOST_CHECK(r["error"]["message"].get<std::string>().find("no *.json label templates") !=
                std::string::npos);
  }
  fs::remove_all(d);
}

BOOST_AUTO_TEST_CASE(alarm_acknowledge_and_bag_close) {
  Client oscar = client("oscar");
  st->inject(sortd::DeviceStatus{"printer-1", sortd::DeviceKind::Printer, false, "paper out"});
  wait_state(oscar, [](const json& s) {
    for (const auto& a : s["alarms"])
      if (a["key"] == "printer:printer-1") return true;
    return false;
  });
  BOOST_CHECK_EQUAL(client().error({{"cmd", "alarm.ack"}, {"key", "printer:printer-1"}}),
                    "unauthenticated");
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "alarm.ack"}, {"key", "no:such"}}), "not_found");
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "alarm.ack"}}), "missing_field");
  oscar.ok({{"cmd", "alarm.ack"}, {"key", "printer:printer-1"}});
  json alarms = oscar.ok({{"cmd", "alarms"}, {"history", true}});
  bool acked = false;
  for (const auto& a : alarms["alarms"])
    if (a["key"] == "printer:printer-1") acked = a.value("acked_by", "") == "oscar";
  BOOST_CHECK(acked);
  bool in_history = false;
  for (const auto& h : alarms["history"]) in_history |= h["key"] == "printer:printer-1";
  BOOST_CHECK(in_history);
  BOOST_CHECK(sql_count("SELECT count(*) FROM audit WHERE user = 'oscar' AND action = "
                        "'alarm.ack' AND detail = 'printer:printer-1'") == 1);
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "bag.close"}, {"lane", 25}}), "conflict");  // no bags
  BOOST_CHECK_EQUAL(oscar.error({{"cmd", "bag.close"}}), "missing_field");
}

BOOST_AUTO_TEST_CASE(reassign_dry_run_activate_and_audit) {
  Client sara = client("sara");
  json r = sara.ok({{"cmd", "lane.reassign"}, {"lane", 5}, {"courier", "sf"}});
  BOOST_CHECK_EQUAL(r["previous"], "zto");
  for (const auto& l : json(sara.ok({{"cmd", "lanes"}})["lanes"]))
    if (l["lane"] == 5) BOOST_CHECK_EQUAL(l["courier"], "sf");
  BOOST_CHECK_EQUAL(sara.error({{"cmd", "lane.reassign"}, {"lane", 30}, {"courier", "sf"}}),
                    "bad_value");
  BOOST_CHECK_EQUAL(sara.error({{"cmd", "lane.reassign"}, {"lane", 5}, {"courier", "ups"}}),
                    "not_found");
  BOOST_CHECK_EQUAL(sara.error({{"cmd", "lane.reassign"}, {"lane", 5}}), "missing_field");

  // A plan that ranks by region only, dry-run against what was recorded so far.
  diverted_parcel(sara);
  std::string text = read_text((dir / "station.toml").string());
  const std::string weights = "[policies.weights]\ncapacity = 0.30\nregion = 0.30\nprice = 0.30";
  auto at = text.find(weights);
  BOOST_REQUIRE(at != std::string::npos);
  text.replace(at, weights.size(), "[policies.weights]\ncapacity = 0.0\nregion = 1.0\nprice = 0.0");
  const std::string plan = (dir / "plan-b.toml").string();
  std::ofstream(plan) << text;
  json dry = sara.ok({{"cmd", "plan.dry_run"}, {"config", plan}, {"record", record}});
  BOOST_CHECK(dry["events"].get<std::int64_t>() > 0);
  BOOST_CHECK(dry["parcels"].get<std::int64_t>() > 0);
  BOOST_CHECK(dry["changes"].size() ==
              std::min<std::size_t>(dry["changed"].get<std::size_t>(), 1000));
  for (const auto& c : dry["changes"]) BOOST_CHECK(c["before"] != c["after"]);
  std::int64_t before = 0, after = 0;
  for (const auto& c : dry["couriers"])
    before += c["before"].get<std::int64_t>(), after += c["after"].get<std::int64_t>();
  BOOST_CHECK_EQUAL(before, after);  // parcels move between couriers, none appear or vanish
  const std::string broken = (dir / "broken.toml").string();
  std::ofstream(broken) << "[station]\nid = 3\n";
  json bad = sara.call({{"cmd", "plan.dry_run"}, {"config", broken}, {"record", record}});
  BOOST_CHECK_EQUAL(bad["error"]["code"], "config_error");
  BOOST_CHECK(bad["error"]["message"].get<std::string>().find("broken.toml") != std::string::npos);
  BOOST_CHECK_EQUAL(
      sara.error({{"cmd", "plan.dry_run"}, {"config", plan}, {"record", "/no/such.events"}}),
      "not_found");
  BOOST_CHECK_EQUAL(
      client("oscar").error({{"cmd", "plan.dry_run"}, {"config", plan}, {"record", record}}),
      "forbidden");
  BOOST_CHECK_EQUAL(sara.error({{"cmd", "plan.activate"}, {"config", broken}}), "config_error");
  json act = sara.ok({{"cmd", "plan.activate"}, {"config", plan}});
  BOOST_CHECK_EQUAL(act["lanes"], 30);
  json status = sara.ok({{"cmd", "status"}});
  BOOST_CHECK_EQUAL(status["config"], plan);
  // The new plan's lanes: lane 5 is zto again (the reassignment lasted until the activation).
  for (const auto& l : json(sara.ok({{"cmd", "lanes"}})["lanes"]))
    if (l["lane"] == 5) BOOST_CHECK_EQUAL(l["courier"], "zto");

  json audit = sara.ok({{"cmd", "audit"}, {"limit", 50}})["audit"];
  std::set<std::string> actions;
  for (const auto& a : audit) {
    if (a["user"] == "sara")
      actions.insert(a["action"]);
    else
      BOOST_CHECK_EQUAL(a["action"], "login");  // oscar's login for the forbidden dry-run
  }
  for (const char* a : {"login", "lane.reassign", "plan.dry_run", "plan.activate"})
    BOOST_CHECK_MESSAGE(actions.count(a), "audit has no " << a);
  BOOST_CHECK_EQUAL(sara.ok({{"cmd", "audit"}, {"user", "nobody"}})["audit"].size(), 0u);
}

BOOST_AUTO_TEST_CASE(export_queries) {
  Client c = client();
  diverted_parcel(c);
  json lanes = c.ok({{"cmd", "export"}, {"what", "lanes"}});
  BOOST_CHECK_EQUAL(lanes["rows"].size(), 30u);
  json parcels = c.ok({{"cmd", "export"}, {"what", "parcels"}});
  BOOST_CHECK(!parcels["rows"].empty());
  BOOST_CHECK_EQUAL(parcels["columns"][0], "parcel_id");
  json decisions = c.ok({{"cmd", "export"}, {"what", "decisions"}, {"limit", 3}});
  BOOST_CHECK(decisions["rows"].size() <= 3u);
  json none = c.ok({{"cmd", "export"}, {"what", "decisions"}, {"since", 0}, {"until", 1}});
  BOOST_CHECK(none["rows"].empty());
  BOOST_CHECK(!none["columns"].empty());
  BOOST_CHECK_EQUAL(c.error({{"cmd", "export"}, {"what", "bags"}}), "bad_value");
  BOOST_CHECK_EQUAL(c.error({{"cmd", "export"}}), "missing_field");
  json status = c.ok({{"cmd", "status"}});
  BOOST_CHECK(status["decision_latency_us"]["samples"].get<std::int64_t>() > 0);
  BOOST_CHECK_EQUAL(c.ok({{"cmd", "couriers"}})["couriers"].size(), 7u);
}

// sortctl, the real binary, against the daemon.
BOOST_AUTO_TEST_CASE(sortctl_commands_and_exit_codes) {
  auto run = [&](const std::string& args, const std::string& input = "") {
    return run_sortctl(*st, dir, args, input);
  };
  BOOST_CHECK_EQUAL(run("status").first, 0);
  auto [rc, text] = run("--json lanes");
  BOOST_CHECK_EQUAL(rc, 0);
  BOOST_CHECK_EQUAL(json::parse(text)["lanes"].size(), 30u);
  BOOST_CHECK_EQUAL(run("lanes").first, 0);
  BOOST_CHECK_EQUAL(run("couriers").first, 0);
  BOOST_CHECK_EQUAL(run("lane disable 4").first, 4);  // not logged in
  BOOST_CHECK_EQUAL(run("login oscar --password-stdin", "wrong").first, 4);
  BOOST_CHECK_EQUAL(run("login oscar --password-stdin", "oscar-pw").first, 0);
  BOOST_CHECK((fs::status(dir / "token").permissions() & fs::perms::all) ==
              (fs::perms::owner_read | fs::perms::owner_write));
  BOOST_CHECK_EQUAL(run("lane disable 4").first, 0);
  BOOST_CHECK_EQUAL(run("lane disable 404").first, 1);
  BOOST_CHECK_EQUAL(run("lane enable 4").first, 0);
  BOOST_CHECK_EQUAL(run("lane reassign 4 sf").first, 4);  // operator < supervisor
  BOOST_CHECK_EQUAL(run("lane frobnicate 4").first, 2);
  BOOST_CHECK_EQUAL(run("bag close 404").first, 1);
  BOOST_CHECK_EQUAL(run("nonsense").first, 2);
  BOOST_CHECK_EQUAL(run("--help").first, 0);
  BOOST_CHECK_EQUAL(run("parcel --help").first, 0);
  // Import a CSV file through the daemon.
  const std::string csv = (dir / "orders.csv").string();
  {
    std::vector<sortd::Order> orders = sortd::make_demo_orders(3, 7, 900000);
    for (std::size_t i = 0; i < orders.size(); ++i) {
      orders[i].id = "CTL-" + std::to_string(i);
      orders[i].codes = {"CTLCODE" + std::to_string(i)};
    }
    std::ofstream(csv) << sortd::orders_to_csv(orders);
  }
  BOOST_CHECK_EQUAL(run("import " + csv).first, 0);
  auto [orc, otext] = run("--json parcel --order CTL-1");
  BOOST_CHECK_EQUAL(orc, 0);
  BOOST_CHECK_EQUAL(json::parse(otext)["order"]["codes"][0], "CTLCODE1");
  BOOST_CHECK_EQUAL(run("order cancel CTL-2").first, 0);
  BOOST_CHECK_EQUAL(run("import /no/such/file.csv").first, 2);
  auto [erc, etext] = run("export lanes --format csv");
  BOOST_CHECK_EQUAL(erc, 0);
  BOOST_CHECK(etext.rfind("lane,chute,kind,courier", 0) == 0);
  // Nobody at the endpoint.
  const std::string nobody = std::string(SORTD_BINARY_DIR) +
                             "/controller/sortctl --router tcp://127.0.0.1:1 --timeout 1 status "
                             ">/dev/null 2>&1";
  BOOST_CHECK_EQUAL(WEXITSTATUS(std::system(nobody.c_str())), 3);
  auto [wrc, wtext] = run("--json watch --count 5");
  BOOST_CHECK_EQUAL(wrc, 0);
  BOOST_CHECK(wtext.find("\"snapshot\"") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(users_file_errors_name_file_line_and_key) {
  auto err = [](const std::string& text) {
    try {
      sortd::parse_users(text, "users.toml");
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string h = sortd::hash_password("x", "min");
  BOOST_CHECK(err("[[users]]\nname = \"a\"\nrole = \"boss\"\npassword_hash = \"" + h + "\"\n")
                  .find("users.toml:3: users[0].role: unknown role 'boss'") != std::string::npos);
  BOOST_CHECK(err("[[users]]\nname = \"a\"\nrole = \"admin\"\npassword_hash = \"secret\"\n")
                  .find("users[0].password_hash: not an Argon2 hash") != std::string::npos);
  BOOST_CHECK(err("colour = 3\n").find("users.toml:1: colour: unknown key") != std::string::npos);
  BOOST_CHECK(err("[[users]]\nname = \"a\"\nrole = \"admin\"\n").find("password_hash: missing") !=
              std::string::npos);
  BOOST_CHECK(err("[[users]]\nname = \"a\"\nrole = \"admin\"\npassword_hash = \"" + h +
                  "\"\n[[users]]\nname = \"a\"\nrole = \"viewer\"\npassword_hash = \"" + h + "\"\n")
                  .find("duplicate user 'a'") != std::string::npos);
  BOOST_CHECK(err("[[users]\n").find("users.toml:1") != std::string::npos);
  BOOST_CHECK(sortd::verify_password(h, "x"));
  BOOST_CHECK(!sortd::verify_password(h, "y"));
  BOOST_CHECK(!sortd::verify_password("garbage", "x"));
}

BOOST_AUTO_TEST_CASE(endpoints_beyond_loopback_need_curve) {
  BOOST_CHECK(sortd::is_local_endpoint("tcp://127.0.0.1:5570"));
  BOOST_CHECK(sortd::is_local_endpoint("tcp://[::1]:5570"));
  BOOST_CHECK(sortd::is_local_endpoint("tcp://localhost:5570"));
  BOOST_CHECK(sortd::is_local_endpoint("ipc:///run/sortd/bus"));
  BOOST_CHECK(!sortd::is_local_endpoint("tcp://0.0.0.0:5570"));
  BOOST_CHECK(!sortd::is_local_endpoint("tcp://*:5570"));
  BOOST_CHECK(!sortd::is_local_endpoint("tcp://192.168.1.20:5570"));
  fs::path dir = make_temp_dir("bus-nocurve");
  sortd::BusOptions bo;
  bo.pub_endpoint = "tcp://0.0.0.0:*";
  BOOST_CHECK_EXCEPTION(Station(dir, demo_config(dir, "rate = 0"), bo), std::runtime_error,
                        [](const std::runtime_error& e) {
                          return std::string(e.what()).find("CURVE is required") !=
                                 std::string::npos;
                        });
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(curve_with_an_allowed_and_a_refused_client_key) {
  fs::path dir = make_temp_dir("bus-curve");
  const auto server = sortd::write_key_files((dir / "server").string());
  const auto allowed = sortd::write_key_files((dir / "allowed").string());
  const auto refused = sortd::write_key_files((dir / "refused").string());
  BOOST_CHECK((fs::status(dir / "server.key").permissions() & fs::perms::all) ==
              (fs::perms::owner_read | fs::perms::owner_write));
  std::ofstream(dir / "clients.keys") << "# allowed clients\n"
                                      << allowed.public_key << "  test client\n";
  sortd::BusOptions bo;
  bo.curve = true;
  bo.curve_key_file = (dir / "server.key").string();
  bo.curve_clients_file = (dir / "clients.keys").string();
  {
    Station st(dir, demo_config(dir, "rate = 0"), bo);
    auto curve_client = [&](const sortd::CurveKeyPair& me, int timeout_ms) {
      auto c = std::make_unique<Client>(st.router, timeout_ms);
      c->socket().set(zmq::sockopt::curve_serverkey, server.public_key);
      c->socket().set(zmq::sockopt::curve_publickey, me.public_key);
      c->socket().set(zmq::sockopt::curve_secretkey, me.secret_key);
      return c;
    };
    auto good = curve_client(allowed, 20000);
    json hello = good->ok({{"cmd", "hello"}});
    BOOST_CHECK_EQUAL(hello["curve"], true);
    // The refused key never gets a reply: the handshake fails at the ZAP handler.
    auto bad = curve_client(refused, 3000);
    BOOST_CHECK(!bad->raw({"{\"cmd\":\"hello\"}"}));
    // Neither does a plain client.
    Client plain(st.router, 3000);
    BOOST_CHECK(!plain.raw({"{\"cmd\":\"hello\"}"}));
    // The allowed client also gets the stream.
    zmq::context_t ctx;
    zmq::socket_t sub(ctx, zmq::socket_type::sub);
    sub.set(zmq::sockopt::curve_serverkey, server.public_key);
    sub.set(zmq::sockopt::curve_publickey, allowed.public_key);
    sub.set(zmq::sockopt::curve_secretkey, allowed.secret_key);
    sub.set(zmq::sockopt::subscribe, "hb");
    sub.set(zmq::sockopt::rcvtimeo, 30000);
    sub.connect(st.pub);
    zmq::message_t t, b;
    BOOST_REQUIRE(sub.recv(t));
    BOOST_REQUIRE(sub.recv(b));
    BOOST_CHECK_EQUAL(json::parse(b.to_string_view())["instance"], hello["instance"]);
  }
  // Bad key files are refused with the file named.
  std::ofstream(dir / "bad.keys") << "not-a-key\n";
  bo.curve_clients_file = (dir / "bad.keys").string();
  BOOST_CHECK_EXCEPTION(Station(dir, demo_config(dir, "rate = 0"), bo), std::runtime_error,
                        [](const std::runtime_error& e) {
                          return std::string(e.what()).find("bad.keys:1") != std::string::npos;
                        });
  fs::remove_all(dir);
}
