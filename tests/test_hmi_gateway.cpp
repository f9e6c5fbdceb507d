// The HMI gateway's parts without sockets: the clone pattern's state machine (what is applied,
// dropped, or makes a resync), the live hub's ordering of snapshot and updates for browsers,
// the browser sessions (expiry) and the cookie parser.
#define BOOST_TEST_MODULE hmi_gateway
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "clone_state.h"
#include "gateway.h"
#include "live.h"
#include "web_sessions.h"

using nlohmann::json;
using sortd::hmi::CloneState;
using V = CloneState::Verdict;

namespace sortd::hmi {
std::ostream& operator<<(std::ostream& o, CloneState::Verdict v) {
  const char* n[] = {"Applied", "Heartbeat", "Dropped", "Resync"};
  return o << n[static_cast<int>(v)];
}
}  // namespace sortd::hmi

namespace {

// The first Server-Sent Event in a stream of them.
std::string first_event(const std::string& out) {
  return out.substr(0, out.find("\n\n"));
}

json snapshot(std::uint64_t seq, const std::string& instance = "aaaa") {
  return json::parse(R"({"seq":)" + std::to_string(seq) + R"(,"instance":")" + instance +
                     R"(","time":1,"state":{
    "station":{"id":"s1","name":"S","degraded":false,"day":1},
    "lanes":[{"lane":1,"chute":1,"kind":"courier","courier":"sf","state":"open","enabled":true,
              "full":false,"fill":3,"fill_g":900,"bag_max_count":60,"regions":[]},
             {"lane":2,"chute":2,"kind":"courier","courier":"zto","state":"open","enabled":true,
              "full":false,"fill":0,"fill_g":0,"bag_max_count":60,"regions":[]}],
    "couriers":[{"courier":"sf","name":"SF","used":3,"left":97,"minutes_to_cutoff":10}],
    "devices":[{"device":"scanner-1","kind":"scanner","up":true,"detail":"","since":5}],
    "alarms":[],
    "stats":{"reads":3},
    "recent":[]}})");
}

}  // namespace

BOOST_AUTO_TEST_CASE(updates_after_the_snapshot_apply_in_order) {
  CloneState c;
  BOOST_TEST(!c.synced());
  // Before the snapshot nothing applies.
  BOOST_TEST(c.apply("lane", json{{"lane", 1}, {"seq", 11}}).verdict == V::Dropped);
  c.load_snapshot(snapshot(10));
  BOOST_TEST(c.synced());
  BOOST_TEST(c.seq() == 10u);
  // At or below the snapshot's seq: dropped (it is already in the snapshot).
  BOOST_TEST(c.apply("lane", json{{"lane", 1}, {"fill", 99}, {"seq", 10}}).verdict == V::Dropped);
  BOOST_TEST(c.state()["lanes"][0]["fill"] == 3);
  auto lane = snapshot(0)["state"]["lanes"][0];
  lane["fill"] = 4;
  lane["state"] = "disabled";
  lane["seq"] = 11;
  lane["time"] = 1234;
  BOOST_TEST(c.apply("lane", lane).verdict == V::Applied);
  BOOST_TEST(c.seq() == 11u);
  const json& l1 = c.state()["lanes"][0];
  BOOST_TEST(l1["fill"] == 4);
  BOOST_TEST(l1["state"] == "disabled");
  // The bus's own fields are not part of the state.
  BOOST_TEST(!l1.contains("seq"));
  BOOST_TEST(!l1.contains("time"));
  BOOST_TEST(c.state()["lanes"][1]["fill"] == 0);  // the other lane untouched
  // A decision is an event: it takes a seq but changes nothing in the state.
  const json before = c.state();
  BOOST_TEST(c.apply("parcel.decided", json{{"parcel_id", 7}, {"lane", 1}, {"seq", 12}}).verdict ==
             V::Applied);
  BOOST_TEST(c.state() == before);
  // A final state goes to the front of recent, without its seq.
  BOOST_TEST(c.apply("parcel.diverted", json{{"parcel_id", 7}, {"state", "diverted"}, {"seq", 13}})
                 .verdict == V::Applied);
  BOOST_TEST(c.state()["recent"].size() == 1u);
  BOOST_TEST(c.state()["recent"][0]["parcel_id"] == 7);
  BOOST_TEST(!c.state()["recent"][0].contains("seq"));
  // A final exception too; a decision-exception (no state) does not.
  BOOST_TEST(
      c.apply("parcel.exception", json{{"parcel_id", 8}, {"exception", "no_read"}, {"seq", 14}})
          .verdict == V::Applied);
  BOOST_TEST(c.state()["recent"].size() == 1u);
  BOOST_TEST(
      c.apply("parcel.exception",
              json{{"parcel_id", 8}, {"state", "exception"}, {"exception", "no_read"}, {"seq", 15}})
          .verdict == V::Applied);
  BOOST_TEST(c.state()["recent"][0]["parcel_id"] == 8);
  BOOST_TEST(c.state()["recent"][1]["parcel_id"] == 7);
}

BOOST_AUTO_TEST_CASE(recent_keeps_twenty) {
  CloneState c;
  c.load_snapshot(snapshot(0));
  for (int i = 1; i <= 25; ++i)
    BOOST_TEST(c.apply("parcel.diverted", json{{"parcel_id", i}, {"state", "diverted"}, {"seq", i}})
                   .verdict == V::Applied);
  BOOST_TEST(c.state()["recent"].size() == CloneState::kRecent);
  BOOST_TEST(c.state()["recent"][0]["parcel_id"] == 25);
  BOOST_TEST(c.state()["recent"][19]["parcel_id"] == 6);
}

BOOST_AUTO_TEST_CASE(a_gap_a_new_instance_or_a_heartbeat_ahead_means_resync) {
  CloneState c;
  c.load_snapshot(snapshot(10, "aaaa"));
  // A gap: 12 after 10.
  auto out = c.apply("lane", json{{"lane", 1}, {"seq", 12}});
  BOOST_TEST(out.verdict == V::Resync);
  BOOST_TEST(out.why.find("gap") != std::string::npos);

  c.load_snapshot(snapshot(10, "aaaa"));
  BOOST_TEST(c.apply("hb", json{{"seq", 10}, {"instance", "aaaa"}}).verdict == V::Heartbeat);
  // A heartbeat that is behind us is fine (it was sent before our last update).
  BOOST_TEST(c.apply("hb", json{{"seq", 9}, {"instance", "aaaa"}}).verdict == V::Heartbeat);
  out = c.apply("hb", json{{"seq", 11}, {"instance", "aaaa"}});
  BOOST_TEST(out.verdict == V::Resync);
  BOOST_TEST(out.why.find("lost") != std::string::npos);

  c.load_snapshot(snapshot(10, "aaaa"));
  out = c.apply("hb", json{{"seq", 1}, {"instance", "bbbb"}});
  BOOST_TEST(out.verdict == V::Resync);
  BOOST_TEST(out.why.find("restarted") != std::string::npos);

  // config: applied (it takes its seq) and then a resync.
  c.load_snapshot(snapshot(10, "aaaa"));
  out = c.apply("config", json{{"reason", "plan activated"}, {"seq", 11}});
  BOOST_TEST(out.verdict == V::Resync);
  BOOST_TEST(!c.synced());
  // Garbage: a body that is not an object, a message without seq.
  c.load_snapshot(snapshot(10, "aaaa"));
  BOOST_TEST(c.apply("lane", json::array()).verdict == V::Resync);
  c.load_snapshot(snapshot(10, "aaaa"));
  BOOST_TEST(c.apply("lane", json{{"lane", 1}}).verdict == V::Resync);
}

BOOST_AUTO_TEST_CASE(alarms_raise_ack_and_clear) {
  CloneState c;
  c.load_snapshot(snapshot(0));
  BOOST_TEST(c.apply("alarm", json{{"key", "printer:p1"},
                                   {"raised", true},
                                   {"severity", "warning"},
                                   {"text", "p1: paper out"},
                                   {"time", 100},
                                   {"seq", 1}})
                 .verdict == V::Applied);
  BOOST_TEST(c.state()["alarms"].size() == 1u);
  BOOST_TEST(c.state()["alarms"][0]["since"] == 100);
  // Acknowledged later: the alarm keeps its since, and gets who acknowledged it.
  c.apply("alarm", json{{"key", "printer:p1"},
                        {"raised", true},
                        {"acked", true},
                        {"acked_by", "li.wei"},
                        {"severity", "warning"},
                        {"text", "p1: paper out"},
                        {"time", 200},
                        {"seq", 2}});
  BOOST_TEST(c.state()["alarms"].size() == 1u);
  BOOST_TEST(c.state()["alarms"][0]["since"] == 100);
  BOOST_TEST(c.state()["alarms"][0]["acked_by"] == "li.wei");
  c.apply("alarm", json{{"key", "printer:p1"}, {"raised", false}, {"time", 300}, {"seq", 3}});
  BOOST_TEST(c.state()["alarms"].empty());
  // Devices are added when new; station.degraded is set; stats replaced.
  c.apply("device", json{{"device", "printer-2"}, {"kind", "printer"}, {"up", false}, {"seq", 4}});
  BOOST_TEST(c.state()["devices"].size() == 2u);
  c.apply("station", json{{"degraded", true}, {"seq", 5}});
  BOOST_TEST(c.state()["station"]["degraded"] == true);
  BOOST_TEST(c.state()["station"]["name"] == "S");
  c.apply("stats", json{{"reads", 9}, {"seq", 6}, {"time", 77}});
  BOOST_TEST(c.state()["stats"]["reads"] == 9);
  BOOST_TEST(!c.state()["stats"].contains("seq"));
}

BOOST_AUTO_TEST_CASE(a_reply_that_is_not_a_snapshot_is_refused_with_its_field) {
  CloneState c;
  auto refused = [&](const json& j, const std::string& word) {
    try {
      c.load_snapshot(j);
    } catch (const std::invalid_argument& e) {
      BOOST_TEST_INFO(e.what());
      BOOST_TEST(std::string(e.what()).find(word) != std::string::npos);
      return;
    }
    BOOST_FAIL("accepted " + j.dump());
  };
  refused(json::array(), "not an object");
  refused(json{{"instance", "a"}, {"state", json::object()}}, "seq");
  refused(json{{"seq", -1}, {"instance", "a"}, {"state", json::object()}}, "seq");
  refused(json{{"seq", 1}, {"state", json::object()}}, "instance");
  refused(json{{"seq", 1}, {"instance", "a"}, {"state", 3}}, "state");
  BOOST_TEST(!c.synced());
}

BOOST_AUTO_TEST_CASE(live_hub_sends_the_snapshot_then_updates_in_order) {
  sortd::hmi::Live live;
  auto early = live.subscribe();  // before the daemon was reached: stale
  std::string out;
  BOOST_TEST(live.next(*early, out, std::chrono::milliseconds(0)));
  BOOST_TEST(first_event(out).find("event: snapshot") != std::string::npos);
  BOOST_TEST(out.find("event: stale") != std::string::npos);
  BOOST_TEST(!live.live());

  live.load_snapshot(snapshot(10));
  live.go_live();
  out.clear();
  live.next(*early, out, std::chrono::milliseconds(0));
  BOOST_TEST(first_event(out).find("event: snapshot") != std::string::npos);
  BOOST_TEST(out.find("\"live\":true") != std::string::npos);

  BOOST_TEST(live.apply("lane", R"({"lane":2,"fill":1,"seq":11})").verdict == V::Applied);
  auto late = live.subscribe();  // joins after seq 11: its snapshot holds it
  BOOST_TEST(live.apply("lane", R"({"lane":2,"fill":2,"seq":12})").verdict == V::Applied);
  BOOST_TEST(live.apply("hb", R"({"seq":12,"instance":"aaaa","time":5})").verdict == V::Heartbeat);

  out.clear();
  live.next(*early, out, std::chrono::milliseconds(0));
  const auto u11 = out.find("id: 11\nevent: update");
  const auto u12 = out.find("id: 12\nevent: update");
  BOOST_TEST(u11 != std::string::npos);
  BOOST_TEST(u12 > u11);
  BOOST_TEST(out.find("event: hb") > u12);

  out.clear();
  live.next(*late, out, std::chrono::milliseconds(0));
  BOOST_TEST(first_event(out).find("event: snapshot") != std::string::npos);
  BOOST_TEST(out.find("\"fill\":1") != std::string::npos);             // seq 11 inside the snapshot
  BOOST_TEST(out.find("id: 11\nevent: update") == std::string::npos);  // and not sent again
  BOOST_TEST(out.find("id: 12\nevent: update") != std::string::npos);
  BOOST_TEST(live.view()["seq"] == 12);

  // Garbage from the stream: not JSON -> resync, and the state is not touched.
  BOOST_TEST(live.apply("lane", "{not json").verdict == V::Resync);
  live.set_stale("test");
  BOOST_TEST(!live.live());
  out.clear();
  live.next(*late, out, std::chrono::milliseconds(0));
  BOOST_TEST(out.find("event: stale") != std::string::npos);
  BOOST_TEST(out.find("\"reason\":\"test\"") != std::string::npos);
  BOOST_TEST(live.view()["state"]["lanes"][1]["fill"] == 2);  // the last known state stays
}

BOOST_AUTO_TEST_CASE(a_browser_that_cannot_keep_up_gets_the_state_again) {
  sortd::hmi::Live live;
  live.load_snapshot(snapshot(0));
  live.go_live();
  auto slow = live.subscribe();
  for (std::uint64_t i = 1; i <= sortd::hmi::Live::kMaxQueued + 10; ++i)
    live.apply("stats",
               R"({"reads":)" + std::to_string(i) + R"(,"seq":)" + std::to_string(i) + "}");
  std::string out;
  live.next(*slow, out, std::chrono::milliseconds(0));
  BOOST_TEST(first_event(out).find("event: snapshot") != std::string::npos);
  // The snapshot it got instead holds what it missed; only the updates after it follow.
  const auto n = std::count(out.begin(), out.end(), '\n');
  BOOST_TEST(n < 200);
  BOOST_TEST(out.find("\"reads\":" + std::to_string(sortd::hmi::Live::kMaxQueued + 10)) !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(browser_sessions_expire) {
  sortd::hmi::WebSessions s(1000);  // 1 s idle
  sortd::hmi::WebSession ws{"tok", "li.wei", "operator", 10'000, 0};
  const std::string id = s.create(ws, 0);
  BOOST_TEST(id.size() == 64u);
  BOOST_TEST(id != s.create(ws, 0));  // random
  BOOST_TEST(s.find(id, 500).has_value());
  BOOST_TEST(s.find(id, 1400)->token == "tok");  // used at 500: idle until 1500
  BOOST_TEST(!s.find(id, 2500).has_value());     // idle too long
  const std::string id2 = s.create(ws, 9500);
  BOOST_TEST(s.find(id2, 9900).has_value());
  BOOST_TEST(!s.find(id2, 10'000).has_value());  // the daemon's expiry
  BOOST_TEST(!s.find("", 0).has_value());
  BOOST_TEST(!s.find("nope", 0).has_value());
  s.erase(id2);
}

BOOST_AUTO_TEST_CASE(cookies_and_status_codes) {
  using sortd::hmi::cookie_value;
  BOOST_TEST(cookie_value("a=1; sortd_hmi=abc; b=2", "sortd_hmi") == "abc");
  BOOST_TEST(cookie_value("sortd_hmi=abc", "sortd_hmi") == "abc");
  BOOST_TEST(cookie_value("xsortd_hmi=abc", "sortd_hmi") == "");
  BOOST_TEST(cookie_value("sortd_hmix=abc", "sortd_hmi") == "");
  BOOST_TEST(cookie_value("", "sortd_hmi") == "");
  BOOST_TEST(cookie_value("junk;;; =;sortd_hmi=", "sortd_hmi") == "");
  BOOST_TEST(sortd::hmi::http_status_for("forbidden") == 403);
  BOOST_TEST(sortd::hmi::http_status_for("unauthenticated") == 401);
  BOOST_TEST(sortd::hmi::http_status_for("not_implemented") == 501);
  BOOST_TEST(sortd::hmi::http_status_for("something new") == 502);
}
