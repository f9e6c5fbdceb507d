// Fuzz target for the bus request parser and dispatcher: every input is handed to
// Bus::handle_request of a real daemon (the demo station without devices, a temp database, a
// logged-in admin session so that commands get past authorisation). Every input must get a reply
// that is a JSON object with "ok", and the daemon must keep serving.
// Built as a libFuzzer target with -DSORTD_FUZZ=ON (clang), as a corpus replay otherwise
// (tests/fuzz/fuzz.cmake, docs/fuzzing.md).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "daemon.h"
#include "daemon_bus.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct World {
  fs::path dir;
  std::unique_ptr<sortd::Daemon> daemon;
  std::unique_ptr<sortd::Bus> bus;
  std::string token;

  World() {
    spdlog::set_level(spdlog::level::off);
    dir = fs::temp_directory_path() / ("sortd-fuzz-request-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    // The demo station without its devices: nothing runs beside the fuzzer.
    std::ifstream in(SORTD_SOURCE_DIR "/config/demo-station.toml");
    std::stringstream s;
    s << in.rdbuf();
    std::string text = s.str();
    text = text.substr(0, text.find("[[devices]]"));
    std::ofstream(dir / "station.toml") << text;
    std::ofstream(dir / "users.toml")
        << "[[users]]\nname = \"fuzz\"\nrole = \"admin\"\npassword_hash = \""
        << sortd::hash_password("fuzz", "min") << "\"\n";
    std::ofstream(dir / "record.events") << json{{"sortd_record", 1},
                                                 {"config", (dir / "station.toml").string()},
                                                 {"orders", {{"demo", 100}, {"seed", 42}}}}
                                                .dump()
                                         << "\n";
    sortd::DaemonOptions o;
    o.clock_start = "09:30";  // the demo couriers are all before their cutoffs
    o.config_path = (dir / "station.toml").string();
    o.db_path = (dir / "sortd.db").string();
    o.demo_orders = 100;
    daemon = std::make_unique<sortd::Daemon>(o);
    daemon->start();
    sortd::BusOptions bo;
    bo.pub_endpoint = "inproc://fuzz-pub";
    bo.router_endpoint = "inproc://fuzz-router";
    bo.users_file = (dir / "users.toml").string();
    bus = std::make_unique<sortd::Bus>(*daemon, bo);
    json r = json::parse(bus->handle_request(R"({"cmd":"login","user":"fuzz","password":"fuzz"})"));
    token = r["result"]["token"];
  }
  ~World() {
    bus.reset();
    daemon.reset();
    fs::remove_all(dir);
  }
};

World& world() {
  static World w;
  return w;
}

void check_reply(const std::string& reply) {
  json r = json::parse(reply, nullptr, false);
  if (r.is_discarded() || !r.is_object() || !r.contains("ok") || !r["ok"].is_boolean()) {
    std::fprintf(stderr, "bad reply: %s\n", reply.c_str());
    std::abort();
  }
  if (r["ok"] == false && (!r["error"].is_object() || !r["error"]["code"].is_string() ||
                           r["error"]["code"].get<std::string>().empty())) {
    std::fprintf(stderr, "error reply without a code: %s\n", reply.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& w = world();
  std::string in(reinterpret_cast<const char*>(data), size);
  check_reply(w.bus->handle_request(in));
  // The same input with a session: commands get past authorisation into their handlers.
  json j = json::parse(in, nullptr, false);
  if (j.is_object() && !j.contains("token")) {
    j["token"] = w.token;
    // Never log the fuzzer's own session out, nor make it wait a minute.
    const json cmd = j.value("cmd", json());
    if (cmd != "logout" && cmd != "login") check_reply(w.bus->handle_request(j.dump()));
  }
  return 0;
}
