// sortctl: the command-line client of the sortd bus (docs/protocol.md, section 7).
// Exit codes: 0 ok, 1 the daemon refused (error reply), 2 usage, 3 cannot reach the daemon,
// 4 not authorised.
#include <sodium.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "codec.h"
#include "daemon_bus_auth.h"
#include "orders.h"
#include "sortctl_report.h"

namespace sortctl_bags {
void add_bag_commands(
    CLI::App& app, const std::function<void(CLI::App*, std::function<nlohmann::json()>,
                                            std::function<void(const nlohmann::json&)>)>& simple);
}

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

enum Exit { kOk = 0, kRefused = 1, kUsage = 2, kUnreachable = 3, kNotAuthorised = 4 };

struct Unreachable : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct Usage : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string env_or(const char* name, const std::string& dflt) {
  const char* v = std::getenv(name);
  return v && *v ? v : dflt;
}

struct Global {
  std::string router = env_or("SORTD_ROUTER", "tcp://127.0.0.1:5571");
  std::string pub = env_or("SORTD_PUB", "tcp://127.0.0.1:5570");
  double timeout_s = 5;
  bool json_out = false;
  std::string token_file;
  std::string server_key = env_or("SORTD_SERVER_KEY", "");
  std::string client_key = env_or("SORTD_CLIENT_KEY", "");
};

std::string default_token_file() {
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.config/sortd/token";
}

void apply_curve(zmq::socket_t& s, const Global& g) {
  if (g.server_key.empty() && g.client_key.empty()) return;
  if (g.server_key.empty() || g.client_key.empty())
    throw Usage("CURVE needs both --server-key and --client-key");
  sortd::CurveKeyPair server;
  try {
    server = sortd::load_key_file(g.server_key);
  } catch (const std::runtime_error&) {
    // A .pub file holds only the public key.
    std::ifstream in(g.server_key);
    std::string line, k;
    while (std::getline(in, line))
      if (auto q = line.find('"'); q != std::string::npos && line.rfind("public", 0) == 0)
        k = line.substr(q + 1, line.rfind('"') - q - 1);
    if (!sortd::valid_z85_key(k)) throw Usage(g.server_key + ": no server public key");
    server.public_key = k;
  }
  sortd::CurveKeyPair me = sortd::load_key_file(g.client_key);
  s.set(zmq::sockopt::curve_serverkey, server.public_key);
  s.set(zmq::sockopt::curve_publickey, me.public_key);
  s.set(zmq::sockopt::curve_secretkey, me.secret_key);
}

class Client {
 public:
  explicit Client(const Global& g) : g_(g), dealer_(ctx_, zmq::socket_type::dealer) {
    dealer_.set(zmq::sockopt::linger, 0);
    apply_curve(dealer_, g);
    dealer_.connect(g.router);
  }
  // The reply to `req` (with the saved token added); throws Unreachable on timeout.
  json call(json req, bool with_token = true) {
    req["id"] = ++id_;
    if (with_token && !req.contains("token")) {
      std::string t = saved_token();
      if (!t.empty()) req["token"] = t;
    }
    dealer_.send(zmq::buffer(req.dump()), zmq::send_flags::none);
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(static_cast<long>(g_.timeout_s * 1000));
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      zmq::pollitem_t it{dealer_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&it, 1, left);
      if (!(it.revents & ZMQ_POLLIN)) continue;
      zmq::message_t m;
      if (!dealer_.recv(m, zmq::recv_flags::dontwait)) continue;
      if (m.size() == 0) continue;  // a delimiter
      json r = json::parse(m.to_string_view(), nullptr, false);
      if (r.is_discarded()) throw std::runtime_error("the daemon sent a reply that is not JSON");
      if (r.value("id", json()) != json(id_)) continue;  // a late reply to an earlier request
      return r;
    }
    throw Unreachable("no reply from " + g_.router + " within " + std::to_string(g_.timeout_s) +
                      " s (is sortd running? --router, SORTD_ROUTER)");
  }
  std::string saved_token() const {
    const std::string f = g_.token_file.empty() ? default_token_file() : g_.token_file;
    std::ifstream in(f);
    if (!in) return "";
    json j = json::parse(in, nullptr, false);
    return j.is_object() ? j.value("token", "") : "";
  }

 private:
  const Global& g_;
  zmq::context_t ctx_;
  zmq::socket_t dealer_;
  std::int64_t id_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Output

std::size_t display_width(const std::string& s) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = c;
    int n = 1;
    if (c >= 0xF0)
      n = 4, cp = c & 0x07;
    else if (c >= 0xE0)
      n = 3, cp = c & 0x0F;
    else if (c >= 0xC0)
      n = 2, cp = c & 0x1F;
    for (int k = 1; k < n && i + k < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += n;
    w += (cp >= 0x1100 &&
          (cp <= 0x115F || (cp >= 0x2E80 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFF00 && cp <= 0xFF60)))
             ? 2
             : 1;
  }
  return w;
}

std::string text_of(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_array()) {
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : ",") + text_of(e);
    return s;
  }
  return v.dump();
}

void table(const std::vector<std::string>& cols, const json& rows) {
  std::vector<std::size_t> w(cols.size());
  std::vector<std::vector<std::string>> cells;
  for (std::size_t i = 0; i < cols.size(); ++i) w[i] = display_width(cols[i]);
  for (const auto& r : rows) {
    std::vector<std::string> line;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      line.push_back(text_of(r.value(cols[i], json())));
      w[i] = std::max(w[i], display_width(line.back()));
    }
    cells.push_back(std::move(line));
  }
  auto print = [&](const std::vector<std::string>& line) {
    for (std::size_t i = 0; i < line.size(); ++i) {
      std::cout << line[i];
      if (i + 1 < line.size()) std::cout << std::string(w[i] - display_width(line[i]) + 2, ' ');
    }
    std::cout << "\n";
  };
  print(cols);
  for (const auto& l : cells) print(l);
}

std::string csv_cell(const json& v) {
  std::string s = text_of(v);
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

int report_error(const json& reply) {
  const json& e = reply.value("error", json::object());
  const std::string code = e.value("code", "internal");
  std::cerr << "sortctl: " << code << ": " << e.value("message", "") << "\n";
  if (reply.contains("refused"))
    for (const auto& r : reply["refused"])
      std::cerr << "  order #" << r.value("index", 0) << ": " << r.value("field", "") << ": "
                << r.value("message", "") << "\n";
  if (code == "unauthenticated" || code == "forbidden" || code == "login_failed" ||
      code == "rate_limited")
    return kNotAuthorised;
  return kRefused;
}

std::string read_password(bool from_stdin) {
  std::string pw;
  if (from_stdin || !isatty(STDIN_FILENO)) {
    std::getline(std::cin, pw);
    return pw;
  }
  std::cerr << "password: ";
  termios old{};
  tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::getline(std::cin, pw);
  tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::cerr << "\n";
  return pw;
}

volatile std::sig_atomic_t g_stop = 0;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sortctl: operate a sortd station over its ZeroMQ bus (docs/protocol.md)"};
  app.footer(
      "Exit codes: 0 ok, 1 the daemon refused the request, 2 usage error, 3 cannot reach the "
      "daemon, 4 not authorised.");
  app.require_subcommand(1);
  Global g;
  app.add_option("--router", g.router, "ROUTER endpoint of sortd (SORTD_ROUTER)")
      ->capture_default_str();
  app.add_option("--pub", g.pub, "PUB endpoint of sortd (SORTD_PUB)")->capture_default_str();
  app.add_option("--timeout", g.timeout_s, "seconds to wait for a reply")->capture_default_str();
  app.add_flag("--json", g.json_out, "print the raw JSON result (for scripts)");
  app.add_option("--token-file", g.token_file,
                 "session token file (default ~/.config/sortd/token)");
  app.add_option("--server-key", g.server_key, "CURVE: the daemon's public key file");
  app.add_option("--client-key", g.client_key, "CURVE: this client's key pair file");

  // What each subcommand sends, and how its result is shown.
  json req;
  std::function<int(Client&, const json&)> show;  // result -> exit code
  auto simple = [&](CLI::App* sc, std::function<json()> make,
                    std::function<void(const json&)> human) {
    sc->callback([&, make, human] {
      req = make();
      show = [&, human](Client&, const json& result) {
        if (g.json_out)
          std::cout << result.dump(2) << "\n";
        else
          human(result);
        return int(kOk);
      };
    });
  };

  // login / logout
  std::string user;
  bool pw_stdin = false;
  auto* login = app.add_subcommand("login", "log in and keep the session token (mode 0600)");
  login->add_option("user", user, "user name")->required();
  login->add_flag("--password-stdin", pw_stdin, "read the password from standard input");
  login->callback([&] {
    req = {{"cmd", "login"}, {"user", user}, {"password", read_password(pw_stdin)}};
    show = [&](Client&, const json& r) {
      const std::string f = g.token_file.empty() ? default_token_file() : g.token_file;
      fs::create_directories(fs::path(f).parent_path().empty() ? fs::path(".")
                                                               : fs::path(f).parent_path());
      const mode_t old = ::umask(077);
      {
        std::ofstream out(f, std::ios::trunc);
        out << json{{"token", r.value("token", "")},
                    {"user", r.value("user", "")},
                    {"role", r.value("role", "")},
                    {"expires", r.value("expires", 0)},
                    {"router", g.router}}
                   .dump()
            << "\n";
      }
      ::umask(old);
      ::chmod(f.c_str(), 0600);
      if (g.json_out)
        std::cout << r.dump(2) << "\n";
      else
        std::cout << "logged in as " << r.value("user", "") << " (" << r.value("role", "")
                  << "); token in " << f << "\n";
      return int(kOk);
    };
  });
  simple(
      app.add_subcommand("logout", "end the session"),
      [] {
        return json{{"cmd", "logout"}};
      },
      [](const json&) { std::cout << "logged out\n"; });
  simple(
      app.add_subcommand("whoami", "who the saved session is"),
      [] {
        return json{{"cmd", "whoami"}};
      },
      [](const json& r) {
        std::cout << (r.value("user", "").empty() ? "(anonymous viewer)" : r.value("user", ""))
                  << " " << r.value("role", "") << "\n";
      });

  simple(
      app.add_subcommand("status", "station summary"),
      [] {
        return json{{"cmd", "status"}};
      },
      [](const json& r) {
        const json& st = r["station"];
        const json& s = r["stats"];
        std::cout << st.value("name", "") << " (" << st.value("id", "") << ")"
                  << (st.value("degraded", false) ? "  DEGRADED: manual sort" : "") << "\n"
                  << "orders " << r.value("orders", 0) << ", in flight " << r.value("in_flight", 0)
                  << ", alarms " << r.value("alarms", 0) << ", seq " << r.value("seq", 0) << "\n"
                  << "reads " << s.value("reads", 0) << ", read rate " << s.value("read_rate", 1.0)
                  << ", diverted " << s.value("diverted", 0) << ", exceptions "
                  << s.value("exceptions", 0) << "\n"
                  << "decision latency p50 " << r["decision_latency_us"].value("p50", 0)
                  << " us, p99 " << r["decision_latency_us"].value("p99", 0) << " us\n";
        table({"device", "kind", "up", "detail"}, r["devices"]);
      });

  // watch
  std::string topic;
  std::int64_t watch_count = 0;
  auto* watch = app.add_subcommand("watch", "live stream (clone pattern); Ctrl-C to stop");
  watch->add_option("--topic", topic, "topic prefix (e.g. parcel.)");
  watch->add_option("--count", watch_count, "stop after this many updates");
  watch->callback([&] { req = {{"cmd", "watch"}}; });

  // import
  std::vector<std::string> files;
  bool all_or_nothing = false;
  auto* imp = app.add_subcommand("import", "import order files (CSV or JSON) through the daemon");
  imp->add_option("files", files, "order files")->required()->check(CLI::ExistingFile);
  imp->add_flag("--all-or-nothing", all_or_nothing, "import nothing if any order is bad");
  imp->callback([&] { req = {{"cmd", "import"}}; });

  // parcel
  std::string code, order_id;
  std::int64_t parcel_id = 0;
  auto* parcel = app.add_subcommand("parcel", "a parcel's full trace (reads, decisions, ...)");
  parcel->add_option("code", code, "a barcode on the parcel");
  parcel->add_option("--order", order_id, "by order id");
  parcel->add_option("--id", parcel_id, "by parcel id");
  simple(
      parcel,
      [&] {
        if (!order_id.empty()) return json{{"cmd", "parcel"}, {"order_id", order_id}};
        if (parcel_id) return json{{"cmd", "parcel"}, {"parcel_id", parcel_id}};
        if (code.empty()) throw Usage("give a code, --order or --id");
        return json{{"cmd", "parcel"}, {"code", code}};
      },
      [](const json& r) {
        if (!r["order"].is_null())
          std::cout << "order " << r["order"].value("order_id", "") << ": "
                    << r["order"].value("province", "") << " " << r["order"].value("city", "")
                    << ", " << r["order"].value("weight_g", 0) << " g, "
                    << r["order"].value("status", "") << "\n";
        for (const auto& p : r["parcels"]) {
          std::cout << "\nparcel " << p.value("parcel_id", 0) << "  tracking "
                    << p.value("tracking_id", 0) << "  " << p.value("state", "") << "  lane "
                    << p.value("lane", 0) << "  " << p.value("courier", "") << "  exception "
                    << p.value("exception", "") << "\n";
          for (const auto& rd : p["reads"])
            std::cout << "  read     " << rd.value("time", 0) << " " << rd.value("scanner", "")
                      << (rd.value("no_read", false) ? " no-read" : " ") << text_of(rd["codes"])
                      << "\n";
          for (const auto& d : p["decisions"]) {
            std::cout << "  decision " << d.value("time", 0) << " attempt " << d.value("attempt", 0)
                      << ": " << d.value("courier", "") << " lane " << d.value("lane", 0) << " ("
                      << d.value("reason", "") << ")\n";
            for (const auto& c : d["candidates"].value("ranked", json::array()))
              std::cout << "     " << c.value("courier", "") << " score " << c.value("score", 0.0)
                        << " price " << c.value("price_fen", 0) << " fen, lane "
                        << c.value("lane", 0) << "\n";
            for (const auto& x : d["candidates"].value("excluded", json::array()))
              std::cout << "     " << x.value("courier", "")
                        << " excluded: " << x.value("reason", "") << "\n";
          }
          for (const auto& s : p["sort_commands"])
            std::cout << "  sort     " << s.value("time", 0) << " seq " << s.value("seq", 0)
                      << " chute " << s.value("chute", 0)
                      << (s["acked"].is_null() ? " (not acknowledged)" : " acknowledged") << "\n";
          for (const auto& c : p["confirmations"])
            std::cout << "  confirm  " << c.value("time", 0) << " " << c.value("outcome", "")
                      << " chute " << c.value("chute", 0) << "\n";
          for (const auto& l : p["labels"])
            std::cout << "  label    " << l.value("time", 0) << " job " << l.value("job_id", 0)
                      << " " << l.value("outcome", "") << " " << l.value("printer", "") << "\n";
        }
      });

  simple(
      app.add_subcommand("lanes", "lanes: courier, state, fill"),
      [] {
        return json{{"cmd", "lanes"}};
      },
      [](const json& r) {
        table({"lane", "chute", "kind", "courier", "state", "fill", "fill_g", "regions"},
              r["lanes"]);
      });
  simple(
      app.add_subcommand("couriers", "couriers: capacity used and left, cutoff"),
      [] {
        return json{{"cmd", "couriers"}};
      },
      [](const json& r) {
        table({"courier", "name", "used", "left", "daily_parcels", "cutoff", "minutes_to_cutoff"},
              r["couriers"]);
      });
  bool history = false;
  auto* alarms = app.add_subcommand("alarms", "raised alarms");
  alarms->add_flag("--history", history, "also the last raise/clear records");
  simple(
      alarms,
      [&] {
        return json{{"cmd", "alarms"}, {"history", history}};
      },
      [](const json& r) {
        table({"key", "severity", "text", "since", "acked_by"}, r["alarms"]);
        if (r.contains("history")) {
          std::cout << "\n";
          table({"time", "key", "raised", "severity", "text"}, r["history"]);
        }
      });
  std::string status_filter;
  std::int64_t limit = 100, offset = 0;
  auto* orders = app.add_subcommand("orders", "list orders");
  orders->add_option("--status", status_filter, "active, held or cancelled");
  orders->add_option("--limit", limit, "at most this many")->capture_default_str();
  orders->add_option("--offset", offset, "skip this many");
  simple(
      orders,
      [&] {
        json j = {{"cmd", "orders"}, {"limit", limit}, {"offset", offset}};
        if (!status_filter.empty()) j["status"] = status_filter;
        return j;
      },
      [](const json& r) {
        table({"order_id", "status", "province", "city", "weight_g", "service", "codes"},
              r["orders"]);
        std::cout << r.value("total", 0) << " orders\n";
      });

  // lane enable/disable/reassign
  int lane = 0;
  std::string courier;
  auto* lanecmd = app.add_subcommand("lane", "enable, disable or reassign a lane");
  lanecmd->require_subcommand(1);
  for (const char* what : {"enable", "disable"}) {
    auto* sc = lanecmd->add_subcommand(what, std::string(what) + " a lane");
    sc->add_option("lane", lane, "lane id")->required();
    simple(
        sc,
        [&, what] {
          return json{{"cmd", std::string("lane.") + what}, {"lane", lane}};
        },
        [&, what](const json&) { std::cout << "lane " << lane << " " << what << "d\n"; });
  }
  auto* reassign = lanecmd->add_subcommand("reassign", "give a lane to another courier");
  reassign->add_option("lane", lane, "lane id")->required();
  reassign->add_option("courier", courier, "courier id")->required();
  simple(
      reassign,
      [&] {
        return json{{"cmd", "lane.reassign"}, {"lane", lane}, {"courier", courier}};
      },
      [&](const json& r) {
        std::cout << "lane " << lane << ": " << r.value("previous", "") << " -> "
                  << r.value("courier", "") << "\n";
      });

  std::string key;
  auto* ack = app.add_subcommand("ack", "acknowledge an alarm");
  ack->add_option("key", key, "alarm key")->required();
  simple(
      ack,
      [&] {
        return json{{"cmd", "alarm.ack"}, {"key", key}};
      },
      [&](const json&) { std::cout << "alarm " << key << " acknowledged\n"; });

  auto* reprint = app.add_subcommand("reprint", "print a parcel's label again");
  reprint->add_option("parcel_id", parcel_id, "parcel id");
  reprint->add_option("--code", code, "a barcode of the parcel");
  // A parcel named by its id or by one of its codes (reprint, label).
  auto parcel_ref = [&](const char* cmd) {
    if (!code.empty()) return json{{"cmd", cmd}, {"code", code}};
    if (!parcel_id) throw Usage("give a parcel id or --code");
    return json{{"cmd", cmd}, {"parcel_id", parcel_id}};
  };
  simple(
      reprint, [&] { return parcel_ref("reprint"); },
      [](const json& r) {
        std::cout << "job " << r.value("job_id", 0) << ": parcel " << r.value("parcel_id", 0) << " "
                  << r.value("courier", "") << " lane " << r.value("lane", 0) << "\n";
      });

  std::string label_png, label_printer;
  bool label_source = false;
  auto* label = app.add_subcommand("label", "a parcel's label: its PNG preview or printer code");
  label->add_option("parcel_id", parcel_id, "parcel id");
  label->add_option("--code", code, "a barcode of the parcel");
  label->add_option("--printer", label_printer, "as this printer device prints it");
  label->add_option("-o,--output", label_png, "write the PNG preview to this file");
  label->add_flag("--source", label_source, "print the ZPL or TSPL the printer is sent");
  label->callback([&] {
    req = parcel_ref("label");
    if (!label_printer.empty()) req["printer"] = label_printer;
    show = [&](Client&, const json& r) {
      if (!label_png.empty()) {
        const std::string b64 = r.value("png", "");
        std::string png(b64.size(), '\0');
        std::size_t len = 0;
        if (sodium_base642bin(reinterpret_cast<unsigned char*>(png.data()), png.size(), b64.data(),
                              b64.size(), nullptr, &len, nullptr,
                              sodium_base64_VARIANT_ORIGINAL) != 0)
          throw std::runtime_error("the daemon's PNG is not valid base64");
        png.resize(len);
        std::ofstream f(label_png, std::ios::binary | std::ios::trunc);
        if (!(f << png)) throw Usage("cannot write " + label_png);
      }
      if (g.json_out) {
        json out = r;
        out.erase("png");  // written with -o, too long for a terminal
        std::cout << out.dump(2) << "\n";
      } else if (label_source) {
        std::cout << r.value("source", "");
      } else {
        std::cout << "parcel " << r.value("parcel_id", 0) << " " << r.value("courier", "")
                  << " lane " << r.value("lane", 0) << ": template " << r.value("template", "")
                  << ", printer " << r.value("printer", "") << " (" << r.value("language", "")
                  << ", " << r.value("width_mm", 0.0) << "x" << r.value("height_mm", 0.0) << " mm, "
                  << r.value("dpi", 0) << " dpi)"
                  << (label_png.empty() ? "" : ", written to " + label_png) << "\n";
      }
      return int(kOk);
    };
  });

  auto* order = app.add_subcommand("order", "cancel, hold or release an order");
  order->require_subcommand(1);
  for (const char* what : {"cancel", "hold", "release"}) {
    auto* sc = order->add_subcommand(what, std::string(what) + " an order");
    sc->add_option("order_id", order_id, "order id")->required();
    simple(
        sc,
        [&, what] {
          return json{{"cmd", std::string("order.") + what}, {"order_id", order_id}};
        },
        [](const json& r) {
          std::cout << r.value("order_id", "") << ": " << r.value("status", "") << "\n";
        });
  }

  // bag, manifest, handover (sortctl_bags.cpp)
  sortctl_bags::add_bag_commands(app, simple);

  std::string plan_file, record;
  auto* plan = app.add_subcommand("plan", "dry-run or activate a sort plan (station file)");
  plan->require_subcommand(1);
  auto* dry = plan->add_subcommand("dry-run", "replay recorded scans through a new plan");
  dry->add_option("config", plan_file, "station file (path on the daemon's machine)")->required();
  dry->add_option("--record", record, "recorded event file (sortd --record)")->required();
  simple(
      dry,
      [&] {
        return json{{"cmd", "plan.dry_run"},
                    {"config", fs::absolute(plan_file).string()},
                    {"record", fs::absolute(record).string()}};
      },
      [](const json& r) {
        std::cout << r.value("events", 0) << " events, " << r.value("parcels", 0) << " parcels, "
                  << r.value("changed", 0) << " would change\n\n";
        table({"courier", "before", "after"}, r["couriers"]);
        std::cout << "\n";
        table({"lane", "before", "after"}, r["lanes"]);
      });
  auto* act = plan->add_subcommand("activate", "make a station file the running plan");
  act->add_option("config", plan_file, "station file (path on the daemon's machine)")->required();
  simple(
      act,
      [&] {
        return json{{"cmd", "plan.activate"}, {"config", fs::absolute(plan_file).string()}};
      },
      [](const json& r) {
        std::cout << "activated " << r.value("source", "") << ": " << r.value("couriers", 0)
                  << " couriers, " << r.value("lanes", 0) << " lanes\n";
      });

  std::string what, format = "csv", out_file;
  std::int64_t since = -1, until = -1;
  auto* exp = app.add_subcommand("export", "export lanes, parcels or decisions");
  exp->add_option("what", what, "lanes, parcels or decisions")
      ->required()
      ->check(CLI::IsMember({"lanes", "parcels", "decisions"}));
  exp->add_option("--since", since, "from this time (ms since the epoch)");
  exp->add_option("--until", until, "until this time (ms since the epoch)");
  exp->add_option("--format", format, "csv or json")
      ->check(CLI::IsMember({"csv", "json"}))
      ->capture_default_str();
  exp->add_option("-o,--output", out_file, "write to this file (default: standard output)");
  exp->callback([&] {
    req = {{"cmd", "export"}, {"what", what}};
    if (since >= 0) req["since"] = since;
    if (until >= 0) req["until"] = until;
    show = [&](Client&, const json& r) {
      std::ofstream file;
      if (!out_file.empty()) {
        file.open(out_file, std::ios::trunc);
        if (!file) throw Usage("cannot write " + out_file);
      }
      std::ostream& out = out_file.empty() ? std::cout : file;
      if (format == "json" || g.json_out) {
        out << r["rows"].dump(2) << "\n";
      } else {
        std::string line;
        for (const auto& c : r["columns"]) line += (line.empty() ? "" : ",") + csv_cell(c);
        out << line << "\r\n";
        for (const auto& row : r["rows"]) {
          line.clear();
          bool first = true;
          for (const auto& c : r["columns"]) {
            line += (first ? "" : ",") + csv_cell(row.value(c.get<std::string>(), json()));
            first = false;
          }
          out << line << "\r\n";
        }
      }
      if (!out_file.empty())
        std::cerr << "sortctl: " << r["rows"].size() << " rows written to " << out_file << "\n";
      return int(kOk);
    };
  });

  sortctl::ReportArgs report;  // sortctl_report.cpp
  simple(
      sortctl::add_report_command(app, report), [&] { return sortctl::report_request(report); },
      [&](const json& r) { sortctl::print_report(report, r); });

  std::string audit_user;
  auto* audit = app.add_subcommand("audit", "the audit log of operator actions");
  audit->add_option("--limit", limit, "at most this many")->capture_default_str();
  audit->add_option("--user", audit_user, "only this user");
  simple(
      audit,
      [&] {
        json j = {{"cmd", "audit"}, {"limit", limit}};
        if (!audit_user.empty()) j["user"] = audit_user;
        return j;
      },
      [](const json& r) {
        table({"time", "user", "action", "detail"}, r["audit"]);
      });

  std::string cost = "interactive";
  auto* ph = app.add_subcommand("passwd-hash", "hash a password for the users file (stdin)");
  ph->add_option("--cost", cost, "interactive, moderate or min")
      ->check(CLI::IsMember({"interactive", "moderate", "min"}))
      ->capture_default_str();
  ph->callback([&] { req = {{"cmd", "passwd-hash"}}; });
  std::string prefix;
  auto* kg = app.add_subcommand("keygen", "write a CURVE key pair: PREFIX.key and PREFIX.pub");
  kg->add_option("prefix", prefix, "file prefix")->required();
  kg->callback([&] { req = {{"cmd", "keygen"}}; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kOk : kUsage;
  } catch (const Usage& e) {
    std::cerr << "sortctl: " << e.what() << "\n";
    return kUsage;
  }

  try {
    const std::string cmd = req.value("cmd", "");
    // Local commands.
    if (cmd == "passwd-hash") {
      std::string pw = read_password(!isatty(STDIN_FILENO));
      if (pw.empty()) throw Usage("empty password");
      std::cout << sortd::hash_password(pw, cost) << "\n";
      return kOk;
    }
    if (cmd == "keygen") {
      auto kp = sortd::write_key_files(prefix);
      std::cout << "wrote " << prefix << ".key (mode 0600) and " << prefix << ".pub\npublic "
                << kp.public_key << "\n";
      return kOk;
    }
    if (cmd == "report" && !report.db.empty()) return sortctl::report_from_file(report, g.json_out);
    Client client(g);
    if (cmd == "import") {
      std::vector<sortd::Order> all;
      std::size_t bad = 0;
      for (const auto& f : files) {
        sortd::ImportResult r = sortd::load_orders_file(f);
        for (const auto& e : r.errors) std::cerr << e.str() << "\n";
        bad += r.errors.size();
        for (auto& o : r.orders) all.push_back(std::move(o));
      }
      if (bad && all_or_nothing) {
        std::cerr << "sortctl: " << bad << " bad rows: nothing imported (--all-or-nothing)\n";
        return kRefused;
      }
      std::size_t imported = 0;
      const std::size_t batch = all_or_nothing ? 100000 : 10000;
      for (std::size_t i = 0; i < all.size(); i += batch) {
        json list = json::array();
        for (std::size_t k = i; k < std::min(all.size(), i + batch); ++k)
          list.push_back(sortd::to_json(all[k]));
        json r = client.call(
            {{"cmd", "orders.import"}, {"orders", list}, {"all_or_nothing", all_or_nothing}});
        if (!r.value("ok", false)) return report_error(r);
        imported += r["result"].value("imported", 0);
        for (const auto& x : r["result"]["refused"])
          std::cerr << "order #" << (i + x.value("index", 0)) << ": " << x.value("field", "")
                    << ": " << x.value("message", "") << "\n";
      }
      if (g.json_out)
        std::cout << json{{"imported", imported}, {"bad_rows", bad}}.dump() << "\n";
      else
        std::cout << imported << " orders imported, " << bad << " rows refused\n";
      return bad ? kRefused : kOk;
    }
    if (cmd == "watch") {
      zmq::context_t ctx;
      zmq::socket_t sub(ctx, zmq::socket_type::sub);
      apply_curve(sub, g);
      sub.set(zmq::sockopt::subscribe, "");
      sub.connect(g.pub);
      std::signal(SIGINT, [](int) { g_stop = 1; });
      std::int64_t shown = 0;
      while (!g_stop) {
        json snap = client.call({{"cmd", "snapshot"}});
        if (!snap.value("ok", false)) return report_error(snap);
        std::uint64_t seq = snap["result"].value("seq", std::uint64_t{0});
        const std::string inst = snap["result"].value("instance", "");
        if (g.json_out)
          std::cout << json{{"topic", "snapshot"}, {"body", snap["result"]}}.dump() << "\n";
        else
          std::cerr << "sortctl: snapshot at seq " << seq << " (instance " << inst << ")\n";
        auto last = std::chrono::steady_clock::now();
        bool resync = false;
        while (!g_stop && !resync) {
          zmq::pollitem_t it{sub.handle(), 0, ZMQ_POLLIN, 0};
          zmq::poll(&it, 1, std::chrono::milliseconds(200));
          if (std::chrono::steady_clock::now() - last > std::chrono::seconds(3)) {
            std::cerr << "sortctl: no heartbeat for 3 s: resync\n";
            resync = true;
            break;
          }
          if (!(it.revents & ZMQ_POLLIN)) continue;
          zmq::message_t t, b;
          if (!sub.recv(t) || !sub.recv(b)) continue;
          last = std::chrono::steady_clock::now();
          const std::string tp = t.to_string();
          json body = json::parse(b.to_string_view(), nullptr, false);
          if (body.is_discarded()) continue;
          const std::uint64_t s = body.value("seq", std::uint64_t{0});
          if (tp == "hb") {
            if (body.value("instance", "") != inst || s > seq) {
              std::cerr << "sortctl: daemon restarted or updates lost: resync\n";
              resync = true;
            }
            continue;
          }
          if (s <= seq) continue;
          if (s != seq + 1) {
            std::cerr << "sortctl: gap " << seq << " -> " << s << ": resync\n";
            resync = true;
            continue;
          }
          seq = s;
          if (tp == "config") resync = true;
          if (!topic.empty() && tp.rfind(topic, 0) != 0) continue;
          if (g.json_out)
            std::cout << json{{"topic", tp}, {"body", body}}.dump() << std::endl;
          else
            std::cout << s << " " << tp << " " << body.dump() << std::endl;
          if (watch_count && ++shown >= watch_count) return kOk;
        }
      }
      return kOk;
    }
    json r = client.call(req);
    if (!r.value("ok", false)) return report_error(r);
    return show(client, r["result"]);
  } catch (const Unreachable& e) {
    std::cerr << "sortctl: " << e.what() << "\n";
    return kUnreachable;
  } catch (const Usage& e) {
    std::cerr << "sortctl: " << e.what() << "\n";
    return kUsage;
  } catch (const std::exception& e) {
    std::cerr << "sortctl: " << e.what() << "\n";
    return kUsage;
  }
}
