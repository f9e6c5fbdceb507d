// The gateway against a daemon that wants a login for viewing too (sortd --bus-view-login): with
// a viewer account of its own (--bus-user) it follows the stream and serves the pages of
// browsers that have not logged in, and logs in again after the daemon restarts; actions still
// need the browser's own login. Without an account, or with a wrong password, the page says why
// it has no live data.
#define BOOST_TEST_MODULE hmi_view_login
#include <boost/test/unit_test.hpp>

#include <httplib.h>

#include "gateway.h"
#include "test_bus_fixture.h"

using namespace bus_test;
namespace hmi = sortd::hmi;

namespace {

struct RunningGateway {
  hmi::Gateway gw;
  int port = 0;
  std::thread server;
  RunningGateway(const Station& st, const std::string& user, const std::string& password)
      : gw(options(st, user, password)) {
    port = gw.start();
    server = std::thread([this] { gw.run(); });
  }
  ~RunningGateway() {
    gw.stop();
    server.join();
  }
  static hmi::GatewayOptions options(const Station& st, const std::string& user,
                                     const std::string& password) {
    hmi::GatewayOptions o;
    o.bus.pub = st.pub;
    o.bus.router = st.router;
    o.port = 0;
    o.bus_user = user;
    o.bus_password = password;
    return o;
  }
  // The gateway's state once `pred` holds for it (a failed check after 30 s).
  template <class Pred>
  json state_when(Pred pred) {
    json v;
    for (int i = 0; i < 300; ++i) {
      v = gw.live().view();
      if (pred(v)) return v;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    BOOST_ERROR("the gateway's state never became what was wanted: " << v.dump());
    return v;
  }
  std::pair<int, json> get(const std::string& path) {
    httplib::Client c("127.0.0.1", port);
    auto r = c.Get(path);
    BOOST_REQUIRE(r);
    return {r->status, json::parse(r->body)};
  }
  std::pair<int, json> post(const std::string& path, const json& body) {
    httplib::Client c("127.0.0.1", port);
    auto r = c.Post(path, body.dump(), "application/json");
    BOOST_REQUIRE(r);
    return {r->status, json::parse(r->body)};
  }
};

const auto is_live = [](const json& v) { return v.value("live", false); };

}  // namespace

BOOST_AUTO_TEST_CASE(the_gateway_views_with_a_login_of_its_own) {
  const fs::path d = make_temp_dir("hmi-view-login");
  sortd::BusOptions bo;
  bo.users_file = write_users(d);
  bo.view_needs_login = true;
  const std::string config = demo_config(d, "rate = 20");
  auto st = std::make_unique<Station>(d, config, bo);
  {
    // No account: the daemon refuses the snapshot, and the page is told why.
    RunningGateway none(*st, "", "");
    json v = none.state_when([](const json& v) {
      return v.value("reason", "").find("unauthenticated") != std::string::npos;
    });
    BOOST_CHECK(!v.value("live", true));
    BOOST_CHECK_EQUAL(none.get("/api/lanes").first, 404);  // (no such API, for the record)
    BOOST_CHECK_EQUAL(none.get("/api/alarms").second["error"]["code"], "unauthenticated");
  }
  {
    RunningGateway wrong(*st, "vera", "not-her-password");
    json v = wrong.state_when([](const json& v) {
      return v.value("reason", "").find("login_failed") != std::string::npos;
    });
    BOOST_CHECK(!v.value("live", true));
  }
  RunningGateway gw(*st, "vera", "vera-pw");
  gw.state_when(is_live);
  // A browser without a login views through the gateway's account...
  auto [code, alarms] = gw.get("/api/alarms");
  BOOST_CHECK_EQUAL(code, 200);
  BOOST_CHECK(alarms["ok"] == true);
  // ... but cannot act with it: an action needs the browser's own login.
  auto [acode, act] = gw.post("/api/action/lane.disable", {{"lane", 4}});
  BOOST_CHECK_EQUAL(acode, 401);
  BOOST_CHECK_EQUAL(act["error"]["code"], "unauthenticated");

  // The daemon restarts on the same endpoints: its sessions are gone; the gateway logs in again
  // and is live on the new instance.
  const std::string before = gw.gw.live().view().value("instance", "");
  bo.pub_endpoint = st->pub;
  bo.router_endpoint = st->router;
  st.reset();
  gw.state_when([](const json& v) { return !v.value("live", true); });
  st = std::make_unique<Station>(d, config, bo);
  json v = gw.state_when(
      [&](const json& v) { return v.value("live", false) && v.value("instance", "") != before; });
  BOOST_CHECK(v.value("live", false));
  BOOST_CHECK_EQUAL(gw.get("/api/alarms").first, 200);
  st.reset();
  fs::remove_all(d);
}
