// The `report` query and `sortctl report` against a real daemon (demo station, simulated
// devices, its own database): arguments refused with clear errors, the three output formats
// (the CSV parsed back and compared with the JSON), and after the station stops, the report of
// what it stored checked figure by figure against COUNT(*) queries.
#define BOOST_TEST_MODULE reports_bus
#include <sys/wait.h>

#include <sqlite3.h>
#include <boost/test/unit_test.hpp>

#include "config.h"
#include "report_check.h"
#include "reports.h"
#include "test_bus_fixture.h"

using namespace bus_test;

namespace {

struct Fixture {
  fs::path dir = make_temp_dir("reports-bus");
  std::string config;
  std::unique_ptr<Station> st;
  Fixture() {
    sortd::BusOptions bo;
    bo.users_file = write_users(dir);
    config = demo_config(dir, "rate = 20");
    st = std::make_unique<Station>(dir, config, bo);
  }
  ~Fixture() {
    st.reset();
    fs::remove_all(dir);
  }
};

std::string message(Client& c, const json& req) {
  json r = c.call(req);
  BOOST_REQUIRE_MESSAGE(r["ok"] == false, req.dump() << " -> " << r.dump());
  return r["error"]["code"].get<std::string>() + ": " + r["error"]["message"].get<std::string>();
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(reports_bus, Fixture)

BOOST_AUTO_TEST_CASE(report_query_sortctl_formats_and_the_stored_events) {
  Client c(st->router);
  wait_state(c, [](const json& s) { return s["stats"]["diverted"].get<std::int64_t>() >= 10; });

  // The query: today by hour (the demo clock starts at 09:30 station time).
  json rep = c.ok({{"cmd", "report"}, {"period", "hour"}});
  BOOST_CHECK_EQUAL(rep["period"], "hour");
  BOOST_CHECK_EQUAL(rep["buckets"].size(), 24u);
  BOOST_CHECK_EQUAL(rep["utc_offset_min"], 480);
  const std::string today = rep["from"].get<std::string>().substr(0, 10);
  BOOST_CHECK(rep["total"]["parcels"].get<std::int64_t>() >= 10);
  BOOST_CHECK(rep["total"]["sorted"].get<std::int64_t>() >= 1);
  std::int64_t in_9 = 0;
  for (const auto& b : rep["buckets"])
    if (b["start"] == today + " 09:00" || b["start"] == today + " 10:00")
      in_9 += b["parcels"].get<std::int64_t>();
  BOOST_CHECK_EQUAL(in_9, rep["total"]["parcels"].get<std::int64_t>());
  json day = c.ok({{"cmd", "report"}, {"from", "yesterday"}, {"to", today}});
  BOOST_CHECK_EQUAL(day["buckets"].size(), 2u);
  BOOST_CHECK_EQUAL(day["buckets"][0]["parcels"], 0);
  json csv = c.ok({{"cmd", "report"}, {"format", "csv"}});
  BOOST_CHECK(csv["text"].get<std::string>().rfind("period,section,key,metric,value\r\n", 0) == 0);
  json table = c.ok({{"cmd", "report"}, {"format", "table"}});
  BOOST_CHECK(table["text"].get<std::string>().find("parcels by courier") != std::string::npos);

  // Bad arguments: the code and a message naming the argument.
  auto refused = [&](const json& req, const std::string& code, const std::string& part) {
    const std::string m = message(c, req);
    BOOST_CHECK_MESSAGE(m.rfind(code + ": ", 0) == 0 && m.find(part) != std::string::npos,
                        req.dump() << " -> " << m);
  };
  refused({{"cmd", "report"}, {"period", "week"}}, "bad_value", "'period' must be hour or day");
  refused({{"cmd", "report"}, {"period", 1}}, "wrong_type", "'period' must be a string");
  refused({{"cmd", "report"}, {"from", "2026-02-30"}}, "bad_value",
          "'from': 2026-02-30 is not a date");
  refused({{"cmd", "report"}, {"to", "soon"}}, "bad_value", "'to' must be a date YYYY-MM-DD");
  refused({{"cmd", "report"}, {"period", "hour"}, {"from", today + " 09:30"}}, "bad_value",
          "'from' must be on the hour");
  refused({{"cmd", "report"}, {"from", "today"}, {"to", "yesterday"}}, "bad_value",
          "must be before 'to'");
  refused({{"cmd", "report"}, {"format", "xml"}}, "bad_value",
          "'format' must be json, csv or table");

  // sortctl, the real binary.
  const std::string bin = SORTD_BINARY_DIR "/controller/sortctl";
  const std::string base = bin + " --router " + st->router + " --token-file " +
                           (dir / "token").string() + " --timeout 20 ";
  auto run = [&](const std::string& args) {
    const std::string out = (dir / "out.txt").string(), err = (dir / "err.txt").string();
    int rc = std::system((base + args + " >" + out + " 2>" + err).c_str());
    BOOST_TEST_MESSAGE("sortctl " << args << " -> " << WEXITSTATUS(rc) << "\n"
                                  << read_text(out) << read_text(err));
    return std::make_tuple(WEXITSTATUS(rc), read_text(out), read_text(err));
  };
  {
    auto [rc, out, err] = run("report --period hour");
    BOOST_CHECK_EQUAL(rc, 0);
    BOOST_CHECK(out.rfind("report per hour, " + today + " 00:00 to ", 0) == 0);
    BOOST_CHECK(out.find("\n" + today + " 09:00 ") != std::string::npos);
    BOOST_CHECK(out.find("\ntotal ") != std::string::npos);
    BOOST_CHECK(out.find("exceptions by reason") != std::string::npos);
  }
  {
    auto [rc, out, err] = run("report --period hour --format json");
    BOOST_CHECK_EQUAL(rc, 0);
    json j = json::parse(out);
    BOOST_CHECK_EQUAL(j["buckets"].size(), 24u);
    auto [rc2, out2, err2] = run("--json report --period hour");
    BOOST_CHECK_EQUAL(rc2, 0);
    BOOST_CHECK_EQUAL(json::parse(out2)["period"], "hour");
  }
  {
    // The CSV parsed back; its figures are those of the JSON of the same moment (the parcels
    // keep coming: compare a report of a closed range, yesterday, and the shape of today's).
    auto [rc, out, err] = run("report --period hour --format csv");
    BOOST_CHECK_EQUAL(rc, 0);
    auto rows = report_check::parse_csv(out);
    BOOST_CHECK(std::stoll(rows.at("total|summary||parcels")) >= 10);
    BOOST_CHECK(rows.count(today + " 09:00|summary||read_rate"));
    BOOST_CHECK(rows.count(today + " 23:00|summary||parcels"));
    BOOST_CHECK_EQUAL(rows.at(today + " 23:00|summary||parcels"), "0");
    BOOST_CHECK_EQUAL(rows.at(today + " 23:00|summary||read_rate"), "");  // no reads: no rate
    const std::string file = (dir / "report.csv").string();
    auto [rc2, out2, err2] = run("report --from yesterday --to yesterday --format csv -o " + file);
    BOOST_CHECK_EQUAL(rc2, 0);
    BOOST_CHECK(out2.empty());
    auto y = report_check::parse_csv(read_text(file));
    BOOST_CHECK_EQUAL(y.at("total|summary||parcels"), "0");
  }
  BOOST_CHECK_EQUAL(std::get<0>(run("report --period week")), 2);
  BOOST_CHECK_EQUAL(std::get<0>(run("report --format xml")), 2);
  {
    auto [rc, out, err] = run("report --from 2026-02-30");
    BOOST_CHECK_EQUAL(rc, 1);
    BOOST_CHECK(err.find("bad_value: 'from': 2026-02-30 is not a date") != std::string::npos);
  }
  BOOST_CHECK_EQUAL(std::get<0>(run("report -o /no/such/dir/report.csv")), 2);
  BOOST_CHECK_EQUAL(std::get<0>(run("report --help")), 0);
  // Straight from the store file, beside the running daemon (read-only).
  {
    const std::string db = (dir / "sortd.db").string();
    auto [rc, out, err] =
        run("report --period hour --format json --db " + db + " --config " + config);
    BOOST_CHECK_EQUAL(rc, 0);
    json j = json::parse(out, nullptr, false);
    BOOST_REQUIRE(!j.is_discarded());
    BOOST_CHECK(j["total"]["parcels"].get<std::int64_t>() >=
                rep["total"]["parcels"].get<std::int64_t>());
    BOOST_CHECK_EQUAL(std::get<0>(run("report --db " + db)), 2);  // no --config
    BOOST_CHECK_EQUAL(std::get<0>(run("report --db /no/such.db --config " + config)), 2);
    auto [rc2, out2, err2] = run("report --from 2026-13-01 --db " + db + " --config " + config);
    BOOST_CHECK_EQUAL(rc2, 1);
    BOOST_CHECK(err2.find("'from': 2026-13-01 is not a date") != std::string::npos);
  }

  // Stop the station; the report of everything it stored adds up to the stored rows.
  st->shutdown();
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open_v2((dir / "sortd.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
                SQLITE_OK);
  sortd::StationConfig cfg = sortd::load_config_file(config);
  for (auto period : {sortd::ReportPeriod::Hour, sortd::ReportPeriod::Day}) {
    sortd::ReportRange r{period, rep["from_ms"].get<sortd::TimeMs>(),
                         rep["to_ms"].get<sortd::TimeMs>(), cfg.policies.utc_offset_min};
    json stored = sortd::build_report(db, cfg, r);
    BOOST_CHECK(report_check::check_report(db, stored) > 0);
    BOOST_CHECK_EQUAL(stored["total"]["parcels"].get<std::int64_t>(),
                      report_check::count(db, "SELECT count(*) FROM parcels"));
    BOOST_CHECK_EQUAL(stored["total"]["reads"].get<std::int64_t>(),
                      report_check::count(db, "SELECT count(*) FROM reads"));
    BOOST_CHECK(stored["total"]["parcels"].get<std::int64_t>() >=
                rep["total"]["parcels"].get<std::int64_t>());
  }
  sqlite3_close(db);
}

BOOST_AUTO_TEST_SUITE_END()

// Several requests in flight on one connection: send without waiting, then take the replies
// in the order they come (the bus worker's can come after later requests').
void send_only(Client& c, const json& req) {
  c.socket().send(zmq::buffer(req.dump()));
}
json next_reply(Client& c) {
  zmq::pollitem_t it{c.socket().handle(), 0, ZMQ_POLLIN, 0};
  BOOST_REQUIRE_MESSAGE(zmq::poll(&it, 1, std::chrono::seconds(60)) == 1, "no reply");
  zmq::message_t m;
  BOOST_REQUIRE(c.socket().recv(m));
  return json::parse(m.to_string());
}

// A report is built by the bus worker, beside the loop: while one is being built
// (held 2 s here by the tests' knob), the loop keeps answering, and the report's reply comes
// after the answers to the requests sent behind it, matched by its id.
BOOST_AUTO_TEST_CASE(a_report_does_not_hold_up_the_loop) {
  const fs::path d = make_temp_dir("reports-async");
  {
    sortd::BusOptions bo;
    bo.worker_delay_ms = 2000;
    Station slow(d, demo_config(d, "rate = 20"), bo);
    Client c(slow.router);
    const json before = wait_state(
        c, [](const json& s) { return s["stats"]["diverted"].get<std::int64_t>() >= 3; });
    auto send = [&](const json& req) { send_only(c, req); };
    auto receive = [&] { return next_reply(c); };
    send({{"cmd", "report"}, {"period", "day"}, {"id", "the-report"}});
    send({{"cmd", "hello"}, {"id", 2}});
    send({{"cmd", "snapshot"}, {"id", 3}});
    const json hello = receive(), snap = receive(), rep = receive();
    BOOST_TEST(hello["id"] == 2);
    BOOST_TEST(hello["ok"] == true);
    BOOST_TEST(snap["id"] == 3);
    BOOST_TEST(snap["result"]["seq"].get<std::uint64_t>() >= before["seq"].get<std::uint64_t>());
    BOOST_TEST(rep["id"] == "the-report");
    BOOST_TEST_REQUIRE(rep["ok"] == true, rep.dump());
    BOOST_TEST(rep["result"]["period"] == "day");
    BOOST_TEST(rep["result"]["total"]["parcels"].get<std::int64_t>() >= 3);
  }
  fs::remove_all(d);
}

// A login's password check (Argon2id, ~0.1 s with the production cost) is done by the bus worker
// too: the loop answers the requests behind it first. Logins still being checked count against
// the rate limit, so a burst of guesses cannot outrun it.
BOOST_AUTO_TEST_CASE(a_login_does_not_hold_up_the_loop) {
  const fs::path d = make_temp_dir("login-async");
  {
    sortd::BusOptions bo;
    bo.worker_delay_ms = 1000;
    bo.users_file = write_users(d);
    Station slow(d, demo_config(d, "rate = 20"), bo);
    Client c(slow.router);
    wait_state(c, [](const json& s) { return s["stats"]["decided"].get<std::int64_t>() >= 1; });
    auto send = [&](const json& req) { send_only(c, req); };
    auto receive = [&] { return next_reply(c); };
    const int guesses = sortd::Sessions::kMaxFailures;
    for (int i = 0; i < guesses; ++i)
      send({{"cmd", "login"}, {"user", "vera"}, {"password", "guess"}, {"id", i}});
    send({{"cmd", "login"}, {"user", "vera"}, {"password", "vera-pw"}, {"id", "one-too-many"}});
    send({{"cmd", "login"}, {"user", "oscar"}, {"password", "oscar-pw"}, {"id", "oscar"}});
    send({{"cmd", "hello"}, {"id", "hello"}});
    // At once, from the loop: the rate limit (five guesses in flight) and hello.
    const json limited = receive(), hello = receive();
    BOOST_TEST(limited["id"] == "one-too-many");
    BOOST_TEST(limited["error"]["code"] == "rate_limited");
    BOOST_TEST(hello["id"] == "hello");
    // Then the checked ones, in order: the guesses fail, oscar's login opens a session.
    for (int i = 0; i < guesses; ++i) {
      const json r = receive();
      BOOST_TEST(r["id"] == i);
      BOOST_TEST(r["error"]["code"] == "login_failed");
    }
    const json oscar = receive();
    BOOST_TEST(oscar["id"] == "oscar");
    BOOST_TEST_REQUIRE(oscar["ok"] == true, oscar.dump());
    json who = c.ok({{"cmd", "whoami"}, {"token", oscar["result"]["token"]}});
    BOOST_TEST(who["user"] == "oscar");
    BOOST_TEST(who["role"] == "operator");
  }
  fs::remove_all(d);
}
