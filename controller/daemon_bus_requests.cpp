// sortd bus: the requests (docs/protocol.md, section 5). Queries read the store with SQL and the
// core's live state; commands go to the core as events through Daemon::dispatch so that they
// are recorded, committed and published like everything else.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include "codec.h"
#include "daemon_bus.h"
#include "daemon_bus_ctx.h"
#include "store_query.h"

namespace sortd {

using nlohmann::json;

namespace {

json parse_or_text(const std::string& s) {
  json j = json::parse(s, nullptr, false);
  return j.is_discarded() ? json(s) : j;
}

// "key=value" fields of a describe_effects() line.
std::map<std::string, std::string> fields(const std::string& line) {
  std::map<std::string, std::string> out;
  std::istringstream in(line);
  std::string w;
  while (in >> w) {
    auto eq = w.find('=');
    if (eq != std::string::npos) out[w.substr(0, eq)] = w.substr(eq + 1);
  }
  return out;
}

struct FirstDecision {
  std::string order, courier, lane, exception;
};
std::map<std::string, FirstDecision> first_decisions(const ReplayResult& r) {
  std::map<std::string, FirstDecision> out;
  for (const auto& l : r.lines) {
    if (l.rfind("decide ", 0) != 0) continue;
    auto f = fields(l);
    if (f["attempt"] != "0") continue;
    out.emplace(f["parcel"], FirstDecision{f["order"], f["courier"], f["lane"], f["exception"]});
  }
  return out;
}

}  // namespace

const std::map<std::string, Bus::Command, std::less<>>& Bus::commands() {
  static const std::map<std::string, Command, std::less<>> table = {
      {"hello", {Role::None, &Bus::cmd_hello}},
      {"login", {Role::None, &Bus::cmd_login}},
      {"logout", {Role::None, &Bus::cmd_logout}},
      {"whoami", {Role::Viewer, &Bus::cmd_whoami}},
      {"status", {Role::Viewer, &Bus::cmd_status}},
      {"snapshot", {Role::Viewer, &Bus::cmd_snapshot}},
      {"parcel", {Role::Viewer, &Bus::cmd_parcel}},
      {"lanes", {Role::Viewer, &Bus::cmd_lanes}},
      {"couriers", {Role::Viewer, &Bus::cmd_couriers}},
      {"orders", {Role::Viewer, &Bus::cmd_orders}},
      {"order", {Role::Viewer, &Bus::cmd_order}},
      {"alarms", {Role::Viewer, &Bus::cmd_alarms}},
      {"export", {Role::Viewer, &Bus::cmd_export}},
      {"report", {Role::Viewer, &Bus::cmd_report}},
      {"label", {Role::Viewer, &Bus::cmd_label}},
      {"lane.enable", {Role::Operator, &Bus::cmd_lane_enable}},
      {"lane.disable", {Role::Operator, &Bus::cmd_lane_disable}},
      {"order.cancel", {Role::Operator, &Bus::cmd_order_cancel}},
      {"order.hold", {Role::Operator, &Bus::cmd_order_hold}},
      {"order.release", {Role::Operator, &Bus::cmd_order_release}},
      {"orders.import", {Role::Operator, &Bus::cmd_orders_import}},
      {"alarm.ack", {Role::Operator, &Bus::cmd_alarm_ack}},
      {"reprint", {Role::Operator, &Bus::cmd_reprint}},
      {"bag.close", {Role::Operator, &Bus::cmd_bag_close}},  // bags: daemon_bus_bags.cpp
      {"bags", {Role::Viewer, &Bus::cmd_bags}},
      {"manifests", {Role::Viewer, &Bus::cmd_manifests}},
      {"manifest", {Role::Viewer, &Bus::cmd_manifest}},
      {"handover.scan", {Role::Operator, &Bus::cmd_handover_scan}},
      {"handover.missort", {Role::Operator, &Bus::cmd_handover_missort}},
      {"manifest.close", {Role::Supervisor, &Bus::cmd_manifest_close}},
      {"lane.reassign", {Role::Supervisor, &Bus::cmd_lane_reassign}},
      {"plan.dry_run", {Role::Supervisor, &Bus::cmd_plan_dry_run}},
      {"plan.activate", {Role::Supervisor, &Bus::cmd_plan_activate}},
      {"audit", {Role::Supervisor, &Bus::cmd_audit}},
      {"users.reload", {Role::Admin, &Bus::cmd_users_reload}},
  };
  return table;
}

// ---------------------------------------------------------------------------------------------
// Sessions

json Bus::cmd_hello(Ctx&) {
  return {{"protocol", 1},
          {"daemon", "sortd 0.1.0"},
          {"instance", instance_},
          {"seq", seq_},
          {"station", d_.config().station_id},
          {"view_needs_login", opt_.view_needs_login},
          {"curve", curve_}};
}

// The password hash takes ~0.1 s (Argon2id, on purpose): the bus worker checks it, so that a
// login does not stop sorting; the loop then opens the session.
json Bus::cmd_login(Ctx& c) {
  const std::string user = c.nonempty("user", "the user name");
  const std::string password = c.str("password");
  if (!sessions_.attempt(user, c.now))
    throw BusError("rate_limited", "too many failed logins for '" + user + "': wait a minute");
  // An unknown name is checked against another user's hash, so that timing tells nothing.
  const BusUser* u = users_.find(user);
  static const std::string dummy = hash_password("not a password", "min");
  const std::string hash =
      u ? u->password_hash : (users_.users.empty() ? dummy : users_.users.front().password_hash);
  return defer(
      c, "login",
      [hash, password, known = u != nullptr](WorkerDb&) {
        return json{{"verified", verify_password(hash, password) && known}};
      },
      [this, user](json r) -> json {
        const std::int64_t now = Daemon::now_ms();
        const BusUser* u = users_.find(user);  // the users file may have been reloaded since
        if (!r.value("verified", false) || !u) {
          spdlog::warn("bus: failed login for '{}'", user);
          throw BusError("login_failed", "wrong user name or password");
        }
        Session s = sessions_.open(*u, users_.session_ttl_s, now);
        audit(s.user, "login", json{{"role", to_string(s.role)}});
        // expires_in_s too: a client on another clock (the HMI gateway on another host, or a
        // station clock shifted for a demo) counts the session's life from when it got the reply.
        return {{"token", s.token},
                {"user", s.user},
                {"role", to_string(s.role)},
                {"expires", s.expires_ms},
                {"expires_in_s", std::max<std::int64_t>(0, (s.expires_ms - now) / 1000)}};
      });
}

json Bus::cmd_logout(Ctx& c) {
  sessions_.logout(c.str("token"));
  return json::object();
}

json Bus::cmd_whoami(Ctx& c) {
  if (!c.session) return {{"user", ""}, {"role", "viewer"}, {"expires", nullptr}};
  return {{"user", c.session->user},
          {"role", to_string(c.session->role)},
          {"expires", c.session->expires_ms}};
}

// ---------------------------------------------------------------------------------------------
// Queries

json Bus::cmd_status(Ctx& c) {
  json snap = d_.core().snapshot(c.now);
  const auto& lat = d_.decision_latency();
  return {{"instance", instance_},
          {"seq", seq_},
          {"station", snap["station"]},
          {"orders", d_.orders().size()},
          {"in_flight", d_.core().in_flight()},
          {"stats", snap["stats"]},
          {"alarms", snap["alarms"].size()},
          {"devices", snap["devices"]},
          {"decision_latency_us",
           {{"p50", lat.percentile(0.5)},
            {"p99", lat.percentile(0.99)},
            {"samples", lat.samples.size()}}},
          {"config", d_.config().source},
          {"sessions", sessions_.size()}};
}

json Bus::cmd_snapshot(Ctx& c) {
  return {{"seq", seq_},
          {"instance", instance_},
          {"time", c.now},
          {"state", d_.core().snapshot(c.now)}};
}

json Bus::cmd_lanes(Ctx& c) {
  return {{"lanes", d_.core().snapshot(c.now)["lanes"]}};
}
json Bus::cmd_couriers(Ctx& c) {
  return {{"couriers", d_.core().snapshot(c.now)["couriers"]}};
}

json Bus::parcel_trace(std::uint64_t pid) {
  sqlite3* db = d_.store().handle();
  const auto id = static_cast<std::int64_t>(pid);
  Query p(db,
          "SELECT id, order_id, tracking_id, state, exception, courier, lane, chute, attempt, "
          "weight_g, created_ms, updated_ms FROM parcels WHERE id = ?1");
  p.bind(1, id);
  if (!p.step()) throw BusError("not_found", "no parcel " + std::to_string(pid));
  json t = {{"parcel_id", p.i64(0)}, {"order_id", p.col(1)},  {"tracking_id", p.i64(2)},
            {"state", p.str(3)},     {"exception", p.str(4)}, {"courier", p.str(5)},
            {"lane", p.i64(6)},      {"chute", p.i64(7)},     {"attempt", p.i64(8)},
            {"weight_g", p.i64(9)},  {"created", p.i64(10)},  {"updated", p.i64(11)}};
  json reads = json::array();
  Query r(db,
          "SELECT id, time_ms, scanner, tracking_id, no_read, codes FROM reads WHERE parcel_id = "
          "?1 ORDER BY id");
  r.bind(1, id);
  while (r.step())
    reads.push_back({{"read_id", r.i64(0)},
                     {"time", r.i64(1)},
                     {"scanner", r.str(2)},
                     {"tracking_id", r.i64(3)},
                     {"no_read", r.i64(4) != 0},
                     {"codes", parse_or_text(r.str(5))}});
  json decisions = json::array();
  Query q(db,
          "SELECT attempt, time_ms, courier, lane, chute, exception, reason, weight_g, candidates "
          "FROM decisions WHERE parcel_id = ?1 ORDER BY id");
  q.bind(1, id);
  while (q.step())
    decisions.push_back({{"attempt", q.i64(0)},
                         {"time", q.i64(1)},
                         {"courier", q.str(2)},
                         {"lane", q.i64(3)},
                         {"chute", q.i64(4)},
                         {"exception", q.str(5)},
                         {"reason", q.str(6)},
                         {"weight_g", q.i64(7)},
                         {"candidates", parse_or_text(q.str(8))}});
  json commands = json::array();
  Query s(db,
          "SELECT seq, tracking_id, chute, sent_ms, ack_ms FROM sort_commands WHERE parcel_id = ?1 "
          "ORDER BY id");
  s.bind(1, id);
  while (s.step())
    commands.push_back({{"seq", s.i64(0)},
                        {"tracking_id", s.i64(1)},
                        {"chute", s.i64(2)},
                        {"time", s.i64(3)},
                        {"acked", s.col(4)}});
  json confirmations = json::array();
  Query f(
      db,
      "SELECT seq, chute, outcome, time_ms FROM confirmations WHERE parcel_id = ?1 ORDER BY id");
  f.bind(1, id);
  while (f.step())
    confirmations.push_back(
        {{"seq", f.i64(0)}, {"chute", f.i64(1)}, {"outcome", f.str(2)}, {"time", f.i64(3)}});
  json labels = json::array();
  Query l(db,
          "SELECT id, kind, printer, outcome, detail, created_ms, updated_ms FROM label_jobs "
          "WHERE parcel_id = ?1 ORDER BY id");
  l.bind(1, id);
  while (l.step())
    labels.push_back({{"job_id", l.i64(0)},
                      {"kind", l.str(1)},
                      {"printer", l.str(2)},
                      {"outcome", l.str(3)},
                      {"detail", l.str(4)},
                      {"time", l.i64(5)},
                      {"updated", l.i64(6)}});
  t["reads"] = std::move(reads);
  t["decisions"] = std::move(decisions);
  t["sort_commands"] = std::move(commands);
  t["confirmations"] = std::move(confirmations);
  t["labels"] = std::move(labels);
  return t;
}

json Bus::cmd_parcel(Ctx& c) {
  const int keys = c.has("code") + c.has("order_id") + c.has("parcel_id");
  if (keys != 1)
    throw BusError(keys == 0 ? "missing_field" : "bad_value",
                   "give exactly one of 'code', 'order_id' or 'parcel_id'");
  sqlite3* db = d_.store().handle();
  std::vector<std::int64_t> ids;
  std::optional<Order> order;
  if (c.has("parcel_id")) {
    ids.push_back(c.integer_in("parcel_id", 1, std::numeric_limits<std::int64_t>::max()));
  } else {
    std::string order_id;
    if (c.has("order_id")) {
      order_id = c.nonempty("order_id");
    } else {
      const std::string code = c.nonempty("code", "a barcode");
      if (auto oid = d_.orders().id_by_code(code)) order_id = *oid;
      // Parcels whose reads carried the code (an unknown code has no order).
      Query q(db,
              "SELECT DISTINCT r.parcel_id FROM reads r, json_each(r.codes) j WHERE "
              "r.parcel_id IS NOT NULL AND json_extract(j.value, '$.text') = ?1");
      q.bind(1, code);
      while (q.step()) ids.push_back(q.i64(0));
    }
    if (!order_id.empty()) {
      order = d_.orders().find(order_id);
      Query q(db, "SELECT id FROM parcels WHERE order_id = ?1");
      q.bind(1, order_id);
      while (q.step()) ids.push_back(q.i64(0));
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  json parcels = json::array();
  for (auto id : ids) parcels.push_back(parcel_trace(static_cast<std::uint64_t>(id)));
  if (parcels.empty() && !order) throw BusError("not_found", "no parcel or order matches");
  return {{"order", order ? to_json(*order) : json(nullptr)}, {"parcels", std::move(parcels)}};
}

json Bus::cmd_orders(Ctx& c) {
  std::optional<OrderStatus> status;
  if (c.has("status")) {
    const std::string s = c.str("status");
    status = order_status_from(s);
    if (!status)
      throw BusError("bad_value", "'status' must be active, held or cancelled, not '" + s + "'");
  }
  const std::int64_t limit = c.opt_integer("limit", 100, 0, 10000);
  const std::int64_t offset = c.opt_integer("offset", 0, 0, std::numeric_limits<int>::max());
  json orders = json::array();
  std::int64_t total = 0;
  d_.orders().for_each([&](const Order& o) {
    if (status && o.status != *status) return;
    if (total >= offset && total < offset + limit) orders.push_back(to_json(o));
    ++total;
  });
  return {{"total", total}, {"orders", std::move(orders)}};
}

json Bus::cmd_order(Ctx& c) {
  const std::string id = c.nonempty("order_id");
  auto o = d_.orders().find(id);
  if (!o) throw BusError("not_found", "no order '" + id + "'");
  return {{"order", to_json(*o)}};
}

json Bus::cmd_alarms(Ctx& c) {
  json r = {{"alarms", d_.core().snapshot(c.now)["alarms"]}};
  if (c.opt_bool("history", false)) {
    const std::int64_t limit = c.opt_integer("limit", 100, 1, 100000);
    Query q(d_.store().handle(),
            "SELECT key, raised, severity, text, time_ms FROM alarm_log ORDER BY id DESC LIMIT ?1");
    q.bind(1, limit);
    json h = json::array();
    while (q.step())
      h.push_back({{"key", q.str(0)},
                   {"raised", q.i64(1) != 0},
                   {"severity", q.str(2)},
                   {"text", q.str(3)},
                   {"time", q.i64(4)}});
    r["history"] = std::move(h);
  }
  return r;
}

json Bus::cmd_export(Ctx& c) {
  const std::string what = c.nonempty("what", "lanes, parcels or decisions");
  if (what == "lanes") {
    json lanes = d_.core().snapshot(c.now)["lanes"];
    json rows = json::array();
    for (auto& l : lanes) {
      l["regions"] = [&] {
        std::string s;
        for (const auto& r : l["regions"]) s += (s.empty() ? "" : "|") + r.get<std::string>();
        return s;
      }();
      rows.push_back(l);
    }
    return {{"what", what},
            {"columns",
             {"lane", "chute", "kind", "courier", "state", "enabled", "full", "fill", "fill_g",
              "bag_max_count", "regions"}},
            {"rows", std::move(rows)}};
  }
  const char* sql = nullptr;
  if (what == "parcels")
    sql =
        "SELECT id AS parcel_id, order_id, tracking_id, state, exception, courier, lane, chute, "
        "attempt, weight_g, created_ms AS created, updated_ms AS updated FROM parcels WHERE "
        "updated_ms >= ?1 AND updated_ms < ?2 ORDER BY id LIMIT ?3";
  else if (what == "decisions")
    sql =
        "SELECT parcel_id, order_id, attempt, time_ms AS time, courier, lane, chute, exception, "
        "reason, weight_g FROM decisions WHERE time_ms >= ?1 AND time_ms < ?2 ORDER BY id LIMIT "
        "?3";
  else
    throw BusError("bad_value", "'what' must be lanes, parcels or decisions, not '" + what + "'");
  const std::int64_t until = c.opt_integer("until", c.now + 1, 0, INT64_MAX);
  const std::int64_t since = c.opt_integer("since", c.now - 24 * 3600 * 1000LL, 0, INT64_MAX);
  const std::int64_t limit = c.opt_integer("limit", 100000, 1, 10000000);
  Query q(d_.store().handle(), sql);
  q.bind(1, since).bind(2, until).bind(3, limit);
  json columns = json::array(), rows = json::array();
  bool first = true;
  while (q.step()) {
    json row = json::object();
    for (int i = 0; i < q.columns(); ++i) {
      if (first) columns.push_back(q.name(i));
      row[q.name(i)] = q.col(i);
    }
    first = false;
    rows.push_back(std::move(row));
  }
  if (columns.empty()) {
    Query cols(d_.store().handle(), sql);  // names without rows
    for (int i = 0; i < cols.columns(); ++i) columns.push_back(cols.name(i));
  }
  return {{"what", what}, {"columns", std::move(columns)}, {"rows", std::move(rows)}};
}

json Bus::cmd_audit(Ctx& c) {
  const std::int64_t limit = c.opt_integer("limit", 100, 1, 100000);
  const std::string user = c.opt_str("user");
  const std::int64_t since = c.opt_integer("since", 0, 0, INT64_MAX);
  Query q(d_.store().handle(),
          "SELECT time_ms, user, action, detail FROM audit WHERE (?1 = '' OR user = ?1) AND "
          "time_ms >= ?2 ORDER BY id DESC LIMIT ?3");
  q.bind(1, user).bind(2, since).bind(3, limit);
  json rows = json::array();
  while (q.step())
    rows.push_back(
        {{"time", q.i64(0)}, {"user", q.str(1)}, {"action", q.str(2)}, {"detail", q.str(3)}});
  return {{"audit", std::move(rows)}};
}

// ---------------------------------------------------------------------------------------------
// Commands

json Bus::lane_set(Ctx& c, bool enabled) {
  const int lane = static_cast<int>(c.integer_in("lane", 1, 1'000'000, "a lane id"));
  if (!d_.config().lane(lane)) throw BusError("not_found", "no lane " + std::to_string(lane));
  d_.command(LaneSet{lane, enabled, c.user}, c.now);
  return {{"lane", lane}, {"enabled", enabled}};
}
json Bus::cmd_lane_enable(Ctx& c) {
  return lane_set(c, true);
}
json Bus::cmd_lane_disable(Ctx& c) {
  return lane_set(c, false);
}

json Bus::cmd_lane_reassign(Ctx& c) {
  const int lane = static_cast<int>(c.integer_in("lane", 1, 1'000'000, "a lane id"));
  const std::string courier = c.nonempty("courier", "a courier id");
  StationConfig cfg = d_.config();
  auto it =
      std::find_if(cfg.lanes.begin(), cfg.lanes.end(), [&](const Lane& l) { return l.id == lane; });
  if (it == cfg.lanes.end()) throw BusError("not_found", "no lane " + std::to_string(lane));
  if (it->kind == LaneKind::Exception)
    throw BusError("bad_value", "lane " + std::to_string(lane) + " is an exception lane");
  if (!cfg.courier(courier)) throw BusError("not_found", "no courier '" + courier + "'");
  const std::string previous = it->courier;
  it->courier = courier;
  d_.activate(std::move(cfg));
  audit(c.user, "lane.reassign",
        json{{"lane", lane}, {"courier", courier}, {"previous", previous}});
  publish_config("lane " + std::to_string(lane) + " reassigned to " + courier, d_.config().source,
                 c.user);
  return {{"lane", lane}, {"courier", courier}, {"previous", previous}};
}

json Bus::order_status(Ctx& c, OrderStatus s) {
  const std::string id = c.nonempty("order_id");
  if (!d_.orders().find(id)) throw BusError("not_found", "no order '" + id + "'");
  d_.command(OrderStatusSet{id, s, c.user}, c.now);
  return {{"order_id", id}, {"status", to_string(s)}};
}
json Bus::cmd_order_cancel(Ctx& c) {
  return order_status(c, OrderStatus::Cancelled);
}
json Bus::cmd_order_hold(Ctx& c) {
  return order_status(c, OrderStatus::Held);
}
json Bus::cmd_order_release(Ctx& c) {
  return order_status(c, OrderStatus::Active);
}

json Bus::cmd_orders_import(Ctx& c) {
  const json* orders = c.field("orders");
  if (!orders) throw BusError("missing_field", "'orders' is required (an array of orders)");
  if (!orders->is_array()) Ctx::wrong("orders", "an array of orders", *orders);
  if (orders->size() > 100000)
    throw BusError("bad_value", "at most 100000 orders a request; split the import");
  const bool all_or_nothing = c.opt_bool("all_or_nothing", false);
  std::vector<Order> good;
  good.reserve(orders->size());
  json refused = json::array();
  for (std::size_t i = 0; i < orders->size(); ++i) {
    Order o;
    std::optional<ImportError> err;
    try {
      err = parse_order_object((*orders)[i], o);
    } catch (const std::exception& e) {
      err = ImportError{"", 0, "", e.what()};
    }
    if (err) {
      refused.push_back({{"index", i}, {"field", err->field}, {"message", err->message}});
      continue;
    }
    good.push_back(std::move(o));
  }
  if (all_or_nothing && !refused.empty())
    throw BusError("refused",
                   std::to_string(refused.size()) + " of " + std::to_string(orders->size()) +
                       " orders refused; nothing imported",
                   json{{"refused", refused}});
  if (!good.empty()) {
    d_.store().upsert_orders(good);
    const std::size_t n = good.size();
    d_.command(OrdersUpserted{std::move(good)}, c.now);
    audit(c.user, "orders.import", json{{"imported", n}, {"refused", refused.size()}});
    return {{"imported", n}, {"refused", std::move(refused)}};
  }
  return {{"imported", 0}, {"refused", std::move(refused)}};
}

json Bus::cmd_alarm_ack(Ctx& c) {
  const std::string key = c.nonempty("key", "an alarm key");
  json alarms = d_.core().snapshot(c.now)["alarms"];
  const bool raised = std::any_of(alarms.begin(), alarms.end(),
                                  [&](const json& a) { return a.value("key", "") == key; });
  if (!raised) throw BusError("not_found", "no raised alarm '" + key + "'");
  d_.command(AlarmAck{key, c.user}, c.now);
  return {{"key", key}, {"acked", true}};
}

LabelReprint Bus::label_source(Ctx& c) {
  if (c.has("parcel_id") == c.has("code"))
    throw BusError(c.has("code") ? "bad_value" : "missing_field",
                   "give exactly one of 'parcel_id' or 'code'");
  sqlite3* db = d_.store().handle();
  std::int64_t pid = 0;
  if (c.has("parcel_id")) {
    pid = c.integer_in("parcel_id", 1, INT64_MAX);
  } else {
    const std::string code = c.nonempty("code", "a barcode");
    auto oid = d_.orders().id_by_code(code);
    if (!oid) throw BusError("not_found", "no order has the code '" + code + "'");
    Query q(db, "SELECT max(id) FROM parcels WHERE order_id = ?1 AND courier <> ''");
    q.bind(1, *oid);
    if (!q.step() || q.null(0))
      throw BusError("not_found", "no parcel of order '" + *oid + "' has gone to a courier");
    pid = q.i64(0);
  }
  Query q(db,
          "SELECT p.order_id, d.courier, d.lane, d.weight_g FROM parcels p JOIN decisions d ON "
          "d.parcel_id = p.id WHERE p.id = ?1 ORDER BY d.id DESC LIMIT 1");
  q.bind(1, pid);
  if (!q.step()) throw BusError("not_found", "no parcel " + std::to_string(pid));
  const std::string order_id = q.str(0), courier = q.str(1);
  if (courier.empty() || order_id.empty())
    throw BusError("bad_value", "parcel " + std::to_string(pid) +
                                    " went to an exception: it has no courier label");
  auto order = d_.orders().find(order_id);
  if (!order) throw BusError("not_found", "the order '" + order_id + "' is no longer known");
  return {static_cast<std::uint64_t>(pid),     courier, static_cast<int>(q.i64(2)),
          static_cast<std::int32_t>(q.i64(3)), *order,  ""};
}

json Bus::cmd_reprint(Ctx& c) {
  LabelReprint e = label_source(c);
  e.user = c.user;
  Effects fx = d_.command(e, c.now);
  if (fx.print.empty()) throw BusError("internal", "the core made no print job");
  return {{"job_id", fx.print.front().job_id},
          {"parcel_id", e.parcel_id},
          {"courier", e.courier},
          {"lane", e.lane}};
}

json Bus::cmd_plan_dry_run(Ctx& c) {
  const std::string config = c.nonempty("config", "a station file");
  const std::string record = c.nonempty("record", "a recorded event file");
  StationConfig next = load_config_file(config);  // ConfigError -> config_error
  (void)next;
  std::string text;
  {
    std::ifstream f(record, std::ios::binary);
    if (!f) throw BusError("not_found", "cannot read the record '" + record + "'");
    std::ostringstream s;
    s << f.rdbuf();
    text = s.str();
  }
  // A record being written right now may end in a partial line: replay the complete ones.
  if (auto nl = text.rfind('\n'); nl != std::string::npos) text.resize(nl + 1);
  auto run = [&](const std::string& cfg) {
    std::istringstream in(text);
    ReplayOptions ro;
    ro.config_override = cfg;
    ro.base_dir = std::filesystem::path(record).parent_path().string();
    try {
      return replay(in, ro);
    } catch (const ConfigError&) {
      throw;
    } catch (const std::runtime_error& e) {
      throw BusError("bad_value", record + ": " + e.what());
    }
  };
  ReplayResult before = run(d_.config().source), after = run(config);
  auto a = first_decisions(before), b = first_decisions(after);
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> couriers, lanes;
  for (const auto& [_, f] : a) {
    ++couriers[f.courier == "-" ? "" : f.courier].first;
    ++lanes[f.lane].first;
  }
  for (const auto& [_, f] : b) {
    ++couriers[f.courier == "-" ? "" : f.courier].second;
    ++lanes[f.lane].second;
  }
  json jc = json::array(), jl = json::array(), changes = json::array();
  for (const auto& [k, v] : couriers)
    if (v.first != v.second)
      jc.push_back({{"courier", k}, {"before", v.first}, {"after", v.second}});
  for (const auto& [k, v] : lanes)
    if (v.first != v.second)
      jl.push_back({{"lane", std::stoi(k)}, {"before", v.first}, {"after", v.second}});
  std::int64_t changed = 0;
  for (const auto& [pid, x] : a) {
    auto it = b.find(pid);
    if (it == b.end()) continue;
    const auto& y = it->second;
    if (x.courier == y.courier && x.lane == y.lane && x.exception == y.exception) continue;
    ++changed;
    if (changes.size() < 1000)
      changes.push_back({{"parcel_id", std::stoll(pid)},
                         {"order_id", x.order == "-" ? "" : x.order},
                         {"before",
                          {{"courier", x.courier == "-" ? "" : x.courier},
                           {"lane", std::stoi(x.lane)},
                           {"exception", x.exception}}},
                         {"after",
                          {{"courier", y.courier == "-" ? "" : y.courier},
                           {"lane", std::stoi(y.lane)},
                           {"exception", y.exception}}}});
  }
  audit(c.user, "plan.dry_run", json{{"config", config}, {"record", record}, {"changed", changed}});
  return {{"events", before.events},   {"parcels", a.size()},    {"changed", changed},
          {"couriers", std::move(jc)}, {"lanes", std::move(jl)}, {"changes", std::move(changes)}};
}

json Bus::cmd_plan_activate(Ctx& c) {
  const std::string config = c.nonempty("config", "a station file");
  StationConfig cfg = load_config_file(config);
  check_devices(cfg);
  const std::size_t nc = cfg.couriers.size(), nl = cfg.lanes.size();
  d_.activate(std::move(cfg));
  audit(c.user, "plan.activate", json{{"config", config}});
  publish_config("plan activated", config, c.user);
  return {{"source", config}, {"couriers", nc}, {"lanes", nl}};
}

json Bus::cmd_users_reload(Ctx& c) {
  if (opt_.users_file.empty()) throw BusError("bad_value", "the daemon runs without a users file");
  try {
    users_ = load_users_file(opt_.users_file);
  } catch (const std::runtime_error& e) {
    throw BusError("bad_value", std::string("users file refused, the old one stays: ") + e.what());
  }
  sessions_.revalidate(users_);
  audit(c.user, "users.reload", json{{"users", users_.users.size()}});
  return {{"users", users_.users.size()}};
}

}  // namespace sortd
