// sortd HMI gateway: HTTP API, live stream and the built page.
#include "gateway.h"

#include <charconv>
#include <filesystem>
#include <map>
#include <set>

#include <httplib.h>
#include <spdlog/spdlog.h>

namespace sortd::hmi {

using nlohmann::json;

int http_status_for(const std::string& code) {
  static const std::map<std::string, int, std::less<>> m = {{"bad_json", 400},
                                                            {"bad_request", 400},
                                                            {"unknown_command", 400},
                                                            {"missing_field", 400},
                                                            {"wrong_type", 400},
                                                            {"bad_value", 400},
                                                            {"config_error", 400},
                                                            {"refused", 400},
                                                            {"unauthenticated", 401},
                                                            {"login_failed", 401},
                                                            {"forbidden", 403},
                                                            {"not_found", 404},
                                                            {"rate_limited", 429},
                                                            {"store_error", 500},
                                                            {"internal", 500},
                                                            {"not_implemented", 501},
                                                            {"daemon_unreachable", 504},
                                                            {"conflict", 409},
                                                            {"io_error", 500}};
  auto it = m.find(code);
  return it == m.end() ? 502 : it->second;
}

namespace {

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(dump(body), "application/json; charset=utf-8");
}

void send_error(httplib::Response& res, const std::string& code, const std::string& message) {
  send_json(res, http_status_for(code),
            {{"ok", false}, {"error", {{"code", code}, {"message", message}}}});
}

// The arguments each action may carry to the daemon (everything else in the body is dropped).
const std::map<std::string, std::set<std::string>, std::less<>>& actions() {
  static const std::map<std::string, std::set<std::string>, std::less<>> a = {
      {"lane.enable", {"lane"}},
      {"lane.disable", {"lane"}},
      {"lane.reassign", {"lane", "courier"}},
      {"bag.close", {"lane"}},
      {"handover.scan", {"bag_id", "courier"}},
      {"handover.missort", {"bag_id", "code"}},
      {"manifest.close", {"manifest_id", "force"}},
      {"reprint", {"parcel_id", "code"}},
      {"alarm.ack", {"key"}},
      {"plan.dry_run", {"config", "record"}},
      {"plan.activate", {"config"}},
      {"order.cancel", {"order_id"}},
      {"order.hold", {"order_id"}},
      {"order.release", {"order_id"}},
  };
  return a;
}

// A browser's POST must be JSON (a cross-site form cannot send that without a CORS preflight,
// which we never grant) and, when it says where it comes from, come from this very host.
bool same_origin_json(const httplib::Request& req, httplib::Response& res) {
  const std::string ct = req.get_header_value("Content-Type");
  if (ct.rfind("application/json", 0) != 0) {
    send_error(res, "bad_request", "a POST to the API must have Content-Type: application/json");
    return false;
  }
  const std::string origin = req.get_header_value("Origin");
  const std::string host = req.get_header_value("Host");
  if (!origin.empty() && origin != "http://" + host && origin != "https://" + host) {
    send_json(res, 403,
              {{"ok", false},
               {"error",
                {{"code", "forbidden"},
                 {"message", "cross-origin request refused (Origin " + origin + ")"}}}});
    return false;
  }
  return true;
}

// A query parameter that must be a positive integer, copied into the daemon request `r`; a
// bad one is answered here (bad_value) and gives false.
bool positive_param(const httplib::Request& req, httplib::Response& res, const char* key, json& r) {
  const std::string v = req.get_param_value(key);
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n <= 0) {
    send_error(res, "bad_value",
               "'" + std::string(key) + "' must be a positive integer, not '" + v + "'");
    return false;
  }
  r[key] = n;
  return true;
}

bool parse_body(const httplib::Request& req, httplib::Response& res, json& out) {
  if (req.body.empty()) {
    out = json::object();
    return true;
  }
  try {
    out = json::parse(req.body);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    std::string why = e.what();
    if (auto p = why.find("parse error"); p != std::string::npos) why = why.substr(p);
    send_error(res, "bad_json", "the request body is not valid JSON: " + why);
    return false;
  }
  if (!out.is_object()) {
    send_error(res, "bad_request",
               std::string("the request body must be a JSON object, not ") + out.type_name());
    return false;
  }
  return true;
}

}  // namespace

Gateway::Gateway(GatewayOptions opt)
    : opt_(std::move(opt)),
      ctx_(1),
      req_(ctx_, opt_.bus),
      clone_(ctx_, opt_.bus, req_, live_, opt_.clone),
      sessions_(opt_.idle_timeout_ms),
      http_(std::make_unique<httplib::Server>()) {
  if (!opt_.bus_user.empty()) req_.set_login(opt_.bus_user, opt_.bus_password);
  routes();
}

Gateway::~Gateway() {
  stop();
}

int Gateway::start() {
  const int n = opt_.max_streams + 16;
  http_->new_task_queue = [n] { return new httplib::ThreadPool(static_cast<std::size_t>(n)); };
  int port = opt_.port;
  if (port == 0) {
    port = http_->bind_to_any_port(opt_.listen);
    if (port < 0) throw std::runtime_error("cannot bind an HTTP port on " + opt_.listen);
  } else if (!http_->bind_to_port(opt_.listen, port)) {
    throw std::runtime_error("cannot bind " + opt_.listen + ":" + std::to_string(port) +
                             " (in use? try --port 0 for a free one)");
  }
  clone_.start();
  return port;
}

void Gateway::run() {
  http_->listen_after_bind();
}

void Gateway::stop() {
  live_.stop();
  if (http_) http_->stop();
  clone_.stop();
}

void Gateway::routes() {
  auto& s = *http_;
  s.set_payload_max_length(1 << 20);
  s.set_keep_alive_max_count(100);
  s.set_read_timeout(10, 0);

  // The page: vite's output. Hashed assets are cached for good; index.html never.
  const std::string web = opt_.web_dir;
  if (!web.empty() && std::filesystem::is_directory(web)) s.set_mount_point("/", web);
  s.set_file_request_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.path.rfind("/assets/", 0) == 0)
      res.set_header("Cache-Control", "public, max-age=31536000, immutable");
    else
      res.set_header("Cache-Control", "no-cache");
  });
  s.Get("/", [web](const httplib::Request&, httplib::Response& res) {
    // Reached only when the page is not built (the mount point serves index.html otherwise).
    res.status = 503;
    res.set_content("The HMI page is not built (looked in '" + web +
                        "'). Run scripts/setup.sh, or give the gateway --web DIR.\n",
                    "text/plain; charset=utf-8");
  });

  auto session_of = [this](const httplib::Request& req) -> std::optional<WebSession> {
    return sessions_.find(cookie_value(req.get_header_value("Cookie"), kCookie), now_ms());
  };
  auto clear_cookie = [this](httplib::Response& res) {
    res.set_header("Set-Cookie", std::string(kCookie) + "=; Path=/; HttpOnly; SameSite=Strict; " +
                                     "Max-Age=0" + (opt_.secure_cookie ? "; Secure" : ""));
  };
  // Sends one request to the daemon (with the session's token) and answers the browser with
  // the daemon's reply: {ok, result} or {ok:false, error{code, message}}.
  auto forward = [this, clear_cookie](const httplib::Request& req, httplib::Response& res,
                                      json request, const std::optional<WebSession>& sess) {
    if (sess) request["token"] = sess->token;
    json reply;
    try {
      // Viewing without a login of the browser's own goes with the gateway's (if it has one);
      // an action needs the browser's.
      reply = req.method == "GET" ? req_.call_viewing(std::move(request), opt_.request_timeout)
                                  : req_.call(std::move(request), opt_.request_timeout);
    } catch (const BusUnreachable& e) {
      send_error(res, "daemon_unreachable", e.what());
      return;
    } catch (const std::exception& e) {
      send_error(res, "internal", e.what());
      return;
    }
    reply.erase("id");
    if (reply.value("ok", false)) {
      send_json(res, 200, reply);
      return;
    }
    const std::string code = reply["error"].value("code", std::string("internal"));
    if (code == "unauthenticated" && sess) {
      // The daemon no longer knows this session (expired, restarted): end ours too.
      sessions_.erase(cookie_value(req.get_header_value("Cookie"), kCookie));
      clear_cookie(res);
    }
    send_json(res, http_status_for(code), reply);
  };

  s.Get("/api/state", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, live_.view());
  });

  s.Get("/api/stream", [this](const httplib::Request&, httplib::Response& res) {
    if (static_cast<int>(live_.subscribers()) >= opt_.max_streams) {
      res.set_header("Retry-After", "5");
      send_json(res, 503,
                {{"ok", false},
                 {"error",
                  {{"code", "busy"},
                   {"message",
                    "too many live streams at once (" + std::to_string(opt_.max_streams) + ")"}}}});
      return;
    }
    auto sub = live_.subscribe();
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");
    auto first = std::make_shared<bool>(true);
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, sub, first](std::size_t, httplib::DataSink& sink) {
          std::string out;
          if (*first) {
            out = "retry: 1000\n\n";
            *first = false;
          }
          if (!live_.next(*sub, out, std::chrono::milliseconds(2000))) {
            sink.done();
            return true;
          }
          if (out.empty()) out = ": keep-alive\n\n";
          return sink.write(out.data(), out.size());
        },
        [this, sub](bool) { live_.unsubscribe(sub); });
  });

  s.Get("/api/status",
        [this, forward, session_of](const httplib::Request& req, httplib::Response& res) {
          {
            // Every open dashboard polls this: ask the daemon at most once a second.
            std::lock_guard lk(status_mu_);
            if (!status_cache_.is_null() &&
                std::chrono::steady_clock::now() - status_at_ < std::chrono::seconds(1)) {
              send_json(res, 200, status_cache_);
              return;
            }
          }
          forward(req, res, {{"cmd", "status"}}, session_of(req));
          if (res.status == 200) {
            std::lock_guard lk(status_mu_);
            status_cache_ = json::parse(res.body, nullptr, false);
            status_at_ = std::chrono::steady_clock::now();
          }
        });

  s.Get("/api/parcel", [forward, session_of](const httplib::Request& req, httplib::Response& res) {
    json r = {{"cmd", "parcel"}};
    int keys = 0;
    if (req.has_param("code")) {
      r["code"] = req.get_param_value("code");
      ++keys;
    }
    if (req.has_param("order_id")) {
      r["order_id"] = req.get_param_value("order_id");
      ++keys;
    }
    if (req.has_param("parcel_id")) {
      if (!positive_param(req, res, "parcel_id", r)) return;
      ++keys;
    }
    if (keys != 1) {
      send_error(res, "missing_field", "give exactly one of code, order_id or parcel_id");
      return;
    }
    forward(req, res, r, session_of(req));
  });

  // A parcel's label as its printer prints it: {png (base64), source (ZPL/TSPL), template,
  // printer, size} (the parcel search's preview).
  s.Get("/api/label", [forward, session_of](const httplib::Request& req, httplib::Response& res) {
    json r = {{"cmd", "label"}};
    if (req.has_param("code") == req.has_param("parcel_id")) {
      send_error(res, "missing_field", "give exactly one of code or parcel_id");
      return;
    }
    if (req.has_param("code")) r["code"] = req.get_param_value("code");
    if (req.has_param("parcel_id") && !positive_param(req, res, "parcel_id", r)) return;
    if (req.has_param("printer")) r["printer"] = req.get_param_value("printer");
    forward(req, res, r, session_of(req));
  });

  s.Get("/api/alarms", [forward, session_of](const httplib::Request& req, httplib::Response& res) {
    json r = {{"cmd", "alarms"}};
    if (req.get_param_value("history") == "1") r["history"] = true;
    forward(req, res, r, session_of(req));
  });

  // Bags and manifests (docs/bags.md): the open bags and manifests, a list, one manifest.
  s.Get("/api/bags", [forward, session_of](const httplib::Request& req, httplib::Response& res) {
    forward(req, res, json{{"cmd", "bags"}}, session_of(req));
  });
  s.Get("/api/manifests",
        [forward, session_of](const httplib::Request& req, httplib::Response& res) {
          json r = {{"cmd", "manifests"}};
          if (req.has_param("state")) r["state"] = req.get_param_value("state");
          forward(req, res, r, session_of(req));
        });

  s.Get("/api/audit", [forward, session_of](const httplib::Request& req, httplib::Response& res) {
    json r = {{"cmd", "audit"}};
    if (req.has_param("limit") && !positive_param(req, res, "limit", r)) return;
    forward(req, res, r, session_of(req));
  });

  // Reports (docs/reports.md): the daemon checks period, from, to and format itself.
  s.Get("/api/report", [forward, session_of](const httplib::Request& req, httplib::Response& res) {
    json r = {{"cmd", "report"}};
    for (const char* k : {"period", "from", "to", "format"})
      if (req.has_param(k)) r[k] = req.get_param_value(k);
    forward(req, res, r, session_of(req));
  });

  s.Get("/api/whoami", [this, session_of](const httplib::Request& req, httplib::Response& res) {
    auto sess = session_of(req);
    if (!sess) {
      send_json(res, 200, {{"ok", true}, {"result", {{"user", ""}, {"role", "viewer"}}}});
      return;
    }
    send_json(res, 200,
              {{"ok", true},
               {"result",
                {{"user", sess->user},
                 {"role", sess->role},
                 {"expires", sess->expires_ms},
                 {"idle_timeout_s", opt_.idle_timeout_ms / 1000}}}});
  });

  s.Post("/api/login", [this](const httplib::Request& req, httplib::Response& res) {
    json body;
    if (!same_origin_json(req, res) || !parse_body(req, res, body)) return;
    json r = {{"cmd", "login"}};
    for (const char* k : {"user", "password"})
      if (body.contains(k)) r[k] = body[k];
    json reply;
    try {
      reply = req_.call(r, opt_.request_timeout);
    } catch (const BusUnreachable& e) {
      send_error(res, "daemon_unreachable", e.what());
      return;
    }
    reply.erase("id");
    if (!reply.value("ok", false)) {
      send_json(res, http_status_for(reply["error"].value("code", std::string("internal"))), reply);
      return;
    }
    const json& rs = reply["result"];
    WebSession ws;
    ws.token = rs.value("token", std::string());
    ws.user = rs.value("user", std::string());
    ws.role = rs.value("role", std::string());
    const std::int64_t now = now_ms();
    // The session's life counted on this host's clock (the daemon's may differ).
    ws.expires_ms = rs.contains("expires_in_s")
                        ? now + rs.value("expires_in_s", std::int64_t(0)) * 1000
                        : rs.value("expires", std::int64_t(0));
    const std::string id = sessions_.create(ws, now);
    const std::int64_t max_age = std::max<std::int64_t>(0, (ws.expires_ms - now) / 1000);
    res.set_header("Set-Cookie",
                   std::string(kCookie) + "=" + id +
                       "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age) +
                       (opt_.secure_cookie ? "; Secure" : ""));
    spdlog::info("hmi: {} logged in as {} from {}", ws.user, ws.role, req.remote_addr);
    // The token stays here: the browser gets who it is, not the key.
    send_json(res, 200,
              {{"ok", true},
               {"result",
                {{"user", ws.user},
                 {"role", ws.role},
                 {"expires", ws.expires_ms},
                 {"idle_timeout_s", opt_.idle_timeout_ms / 1000}}}});
  });

  s.Post("/api/logout",
         [this, session_of, clear_cookie](const httplib::Request& req, httplib::Response& res) {
           if (!same_origin_json(req, res)) return;
           auto sess = session_of(req);
           if (sess) {
             try {
               req_.call({{"cmd", "logout"}, {"token", sess->token}}, opt_.request_timeout);
             } catch (const std::exception& e) {
               spdlog::warn("hmi: logout of {}: {}", sess->user, e.what());  // ours ends anyway
             }
             sessions_.erase(cookie_value(req.get_header_value("Cookie"), kCookie));
           }
           clear_cookie(res);
           send_json(res, 200, {{"ok", true}, {"result", json::object()}});
         });

  s.Post(R"(/api/action/([a-z._]+))",
         [forward, session_of](const httplib::Request& req, httplib::Response& res) {
           const std::string cmd = req.matches[1];
           const auto& table = actions();
           auto a = table.find(cmd);
           if (a == table.end()) {
             send_error(res, "unknown_command", "'" + cmd + "' is not an action of the HMI");
             return;
           }
           json body;
           if (!same_origin_json(req, res) || !parse_body(req, res, body)) return;
           json r = {{"cmd", cmd}};
           for (const auto& k : a->second)
             if (body.contains(k)) r[k] = body[k];
           auto sess = session_of(req);
           spdlog::info("hmi: action {} {} by {}", cmd, dump(r), sess ? sess->user : "(no login)");
           forward(req, res, r, sess);
         });

  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.path.rfind("/api/", 0) == 0 && res.body.empty())
      send_json(res, res.status,
                {{"ok", false},
                 {"error",
                  {{"code", res.status == 404 ? "not_found" : "bad_request"},
                   {"message", "no such API: " + req.method + " " + req.path}}}});
  });
  s.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown error";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("hmi: {} {}: {}", req.method, req.path, what);
        send_error(res, "internal", what);
      });
}

}  // namespace sortd::hmi
