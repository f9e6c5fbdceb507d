// sort-sim scanner: a fixed-mount / serial barcode reader that plays reads over TCP (as the
// server the daemon's tcp-client connects to, or as a client of the daemon's tcp-server) or a
// pty (for the serial driver), from a script or at random, with no-reads, multi-reads, split
// frames and garbage on purpose. Prints "READY <how>" on stdout once it can be reached.
// The player itself is sortd::dev::scanner::SimReader (devices/scanner/sim_reader.h), which the
// demo also uses in-process. Script format: docs/scanners.md.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>

#include "scanner/decode.h"
#include "scanner/framing.h"
#include "scanner/scanner.h"
#include "scanner/sim_reader.h"
#include "sim.h"

namespace sortd::sim {

namespace {

using dev::scanner::SimFraming;
using dev::scanner::SimReader;

std::atomic<bool> g_stop{false};
void on_signal(int) {
  g_stop = true;
}

bool nap(int ms) {
  for (int waited = 0; waited < ms && !g_stop; waited += 10)
    std::this_thread::sleep_for(std::chrono::milliseconds(ms - waited < 10 ? ms - waited : 10));
  return !g_stop;
}

struct Step {
  int delay_ms = 0;
  std::string verb;  // read | noread | split | garbage | raw | drop
  ScanRead read;
  std::size_t split_at = 0;
  std::string bytes;
  int line = 0;
};

Code code_of(const std::string& token) {
  Code c;
  std::string_view rest;
  if (dev::scanner::split_aim(token, c.symbology, rest))
    c.text = std::string(rest);
  else
    c.text = token;
  return c;
}

// Parses the whole script first: a bad line stops the simulator before it plays anything.
bool parse_script(std::istream& in, const std::string& name, std::vector<Step>& steps) {
  std::string line;
  int n = 0;
  bool ok = true;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto hash = line.find_first_not_of(" \t");
    if (hash == std::string::npos || line[hash] == '#') continue;
    std::istringstream ls(line);
    Step s;
    s.line = n;
    std::string delay;
    ls >> delay >> s.verb;
    auto bad = [&](const std::string& what) {
      std::fprintf(stderr, "sort-sim scanner: %s:%d: %s\n", name.c_str(), n, what.c_str());
      ok = false;
    };
    try {
      std::size_t used = 0;
      s.delay_ms = std::stoi(delay, &used);
      if (used != delay.size() || s.delay_ms < 0) throw std::invalid_argument(delay);
    } catch (const std::exception&) {
      bad("'" + delay + "' is not a delay in ms (a line is: <delay_ms> <verb> [args])");
      continue;
    }
    std::vector<std::string> args;
    for (std::string a; ls >> a;) {
      std::string bytes, err;
      if (!dev::scanner::parse_escaped(a, bytes, err)) {
        bad("argument '" + a + "': " + err);
        bytes = a;
      }
      args.push_back(bytes);
    }
    // tid=N sets the PLC tracking id the reader echoes.
    if (!args.empty() && args[0].rfind("tid=", 0) == 0) {
      try {
        s.read.tracking_id = static_cast<std::uint32_t>(std::stoul(args[0].substr(4)));
      } catch (const std::exception&) {
        bad("'" + args[0] + "' is not tid=<number>");
      }
      args.erase(args.begin());
    }
    if (s.verb == "read" || s.verb == "split") {
      if (s.verb == "split") {
        if (args.empty()) {
          bad("split needs the byte offset to split at, then the codes");
          continue;
        }
        try {
          s.split_at = std::stoul(args[0]);
        } catch (const std::exception&) {
          bad("'" + args[0] + "' is not a byte offset");
        }
        args.erase(args.begin());
      }
      if (args.empty()) bad(s.verb + " needs at least one code");
      for (auto& a : args) s.read.codes.push_back(code_of(a));
    } else if (s.verb == "noread") {
      s.read.no_read = true;
    } else if (s.verb == "garbage" || s.verb == "raw") {
      for (auto& a : args) s.bytes += a;
      if (s.bytes.empty()) bad(s.verb + " needs bytes");
    } else if (s.verb == "drop") {
    } else {
      bad("unknown verb '" + s.verb + "' (read, noread, split, garbage, raw, drop)");
      continue;
    }
    steps.push_back(std::move(s));
  }
  return ok;
}

bool split_host_port(const std::string& s, std::string& host, int& port) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  host = s.substr(0, colon);
  try {
    port = std::stoi(s.substr(colon + 1));
  } catch (const std::exception&) {
    return false;
  }
  return port >= 0 && port <= 65535;
}

}  // namespace

int scanner_sim_main(int argc, char** argv) {
  CLI::App app{"sort-sim scanner: a barcode reader playing reads over TCP or a pty"};
  std::string listen, connect, pty, framing = "crlf", prefix, suffix, separator = ",",
                                    no_read = "NoRead", symbology = "C0", tracking_sep, script,
                                    codes, on_trigger;
  bool aim = false, loop = false;
  int count = 0, interval_ms = 1000, wait_ms = 30000;
  double no_read_rate = 0.05, multi_rate = 0.05, split_rate = 0.1, garbage_rate = 0.02;
  unsigned seed = 1;
  auto* g = app.add_option_group("transport", "where the reads go");
  g->add_option("--listen", listen, "HOST:PORT to listen on (the daemon's tcp-client connects)");
  g->add_option("--connect", connect, "HOST:PORT of the daemon's tcp-server");
  g->add_option("--pty", pty, "path of a symlink to a new pty (the daemon's serial driver)");
  g->require_option(1);
  app.add_option("--framing", framing, "crlf | cr | lf | stx-etx (prefix/suffix override)")
      ->check(CLI::IsMember({"crlf", "cr", "lf", "stx-etx"}));
  app.add_option("--prefix", prefix, "frame prefix (escapes: \\r \\n \\xHH <STX> ...)");
  app.add_option("--suffix", suffix, "frame suffix");
  app.add_option("--separator", separator, "between the codes of a multi-read");
  app.add_option("--no-read", no_read, "the no-read message");
  app.add_flag("--aim", aim, "prefix each code with its AIM symbology identifier");
  app.add_option("--symbology", symbology, "AIM symbology of codes that have none (with --aim)");
  app.add_option("--tracking-sep", tracking_sep, "start reads with '<tracking id><sep>'");
  app.add_option("--script", script, "play this script (- = stdin); see docs/scanners.md");
  app.add_flag("--loop", loop, "play the script again and again");
  app.add_option("--codes", codes, "random mode: codes, comma separated, or @file (one a line)");
  app.add_option("--count", count, "random mode: reads to play (0 = until stopped)");
  app.add_option("--interval-ms", interval_ms, "random mode: time between reads");
  app.add_option("--no-read-rate", no_read_rate, "random mode: share of no-reads")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--multi-rate", multi_rate, "random mode: share of two-code reads")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--split-rate", split_rate, "share of reads sent in two packets")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--garbage-rate", garbage_rate, "share of reads preceded by garbage")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--seed", seed, "random seed");
  app.add_option("--on-trigger", on_trigger,
                 "wait for these bytes from the daemon before each read");
  app.add_option("--wait-ms", wait_ms, "how long to wait for the daemon to connect");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  SimFraming f;
  dev::scanner::FramingConfig preset;
  dev::scanner::framing_preset(framing, preset);
  f.prefix = preset.prefix;
  f.suffix = preset.suffix;
  std::string err;
  auto escaped = [&](const std::string& what, const std::string& in, std::string& out) {
    if (!dev::scanner::parse_escaped(in, out, err)) {
      std::fprintf(stderr, "sort-sim scanner: --%s: %s\n", what.c_str(), err.c_str());
      return false;
    }
    return true;
  };
  if ((!prefix.empty() && !escaped("prefix", prefix, f.prefix)) ||
      (!suffix.empty() && !escaped("suffix", suffix, f.suffix)) ||
      !escaped("separator", separator, f.separator) ||
      !escaped("tracking-sep", tracking_sep, f.tracking_sep))
    return 2;
  std::string trigger;
  if (!on_trigger.empty() && !escaped("on-trigger", on_trigger, trigger)) return 2;
  f.no_read = no_read;
  f.aim = aim;
  f.default_symbology = symbology;

  std::vector<Step> steps;
  std::vector<std::string> pool;
  if (!script.empty()) {
    std::ifstream file;
    std::istream* in = &std::cin;
    if (script != "-") {
      file.open(script);
      if (!file) {
        std::fprintf(stderr, "sort-sim scanner: cannot open script %s\n", script.c_str());
        return 2;
      }
      in = &file;
    }
    if (!parse_script(*in, script, steps)) return 2;
  } else {
    if (codes.empty()) {
      std::fprintf(stderr, "sort-sim scanner: give --script or --codes\n");
      return 2;
    }
    if (codes[0] == '@') {
      std::ifstream file(codes.substr(1));
      if (!file) {
        std::fprintf(stderr, "sort-sim scanner: cannot open %s\n", codes.c_str() + 1);
        return 2;
      }
      for (std::string l; std::getline(file, l);)
        if (!l.empty() && l[0] != '#') pool.push_back(l);
    } else {
      std::stringstream ss(codes);
      for (std::string c; std::getline(ss, c, ',');)
        if (!c.empty()) pool.push_back(c);
    }
    if (pool.empty()) {
      std::fprintf(stderr, "sort-sim scanner: --codes holds no code\n");
      return 2;
    }
  }

  std::unique_ptr<SimReader> sim;
  try {
    std::string host;
    int port = 0;
    if (!listen.empty()) {
      if (!split_host_port(listen, host, port)) {
        std::fprintf(stderr, "sort-sim scanner: --listen wants HOST:PORT, got '%s'\n",
                     listen.c_str());
        return 2;
      }
      sim = SimReader::listen(host, port, f);
      std::printf("READY listen=%s:%d\n", host.c_str(), sim->port());
    } else if (!connect.empty()) {
      if (!split_host_port(connect, host, port) || port == 0) {
        std::fprintf(stderr, "sort-sim scanner: --connect wants HOST:PORT, got '%s'\n",
                     connect.c_str());
        return 2;
      }
      sim = SimReader::connect(host, port, f);
      std::printf("READY connect=%s:%d\n", host.c_str(), port);
    } else {
      sim = SimReader::pty(pty, f);
      std::printf("READY pty=%s path=%s\n", pty.c_str(), sim->pty_path().c_str());
    }
    std::fflush(stdout);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sort-sim scanner: %s\n", e.what());
    return 1;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);

  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  auto send = [&](const std::string& bytes) {
    // Wait for the daemon when nobody is connected: reads are not lost while it starts.
    for (int waited = 0; !g_stop; waited += 100) {
      if (sim->wait_connected(std::chrono::milliseconds(100))) {
        if (!trigger.empty()) {
          std::string got;
          while (!g_stop && got.find(trigger) == std::string::npos)
            got += sim->take_received(std::chrono::milliseconds(100));
        }
        bool split = uni(rng) < split_rate && bytes.size() > 1;
        if (split ? sim->send_split(bytes, 1 + rng() % (bytes.size() - 1),
                                    std::chrono::milliseconds(20))
                  : sim->send_raw(bytes))
          return true;
      }
      if (waited >= wait_ms) {
        std::fprintf(stderr, "sort-sim scanner: nobody to send to, read dropped\n");
        return false;
      }
    }
    return false;
  };
  auto maybe_garbage = [&]() {
    // Between frames: with a prefix the parser skips it; without one it must end like a frame,
    // or it would spoil the read behind it.
    if (uni(rng) < garbage_rate)
      sim->send_raw(std::string("\x07#?garbage\x7f") + (f.prefix.empty() ? f.suffix : ""));
  };

  int played = 0;
  std::uint32_t tid = 0;
  if (!steps.empty()) {
    do {
      for (const auto& s : steps) {
        if (!nap(s.delay_ms)) break;
        if (s.verb == "read" || s.verb == "noread") {
          send(sim->encode(s.read));
        } else if (s.verb == "split") {
          std::string bytes = sim->encode(s.read);
          if (sim->wait_connected(std::chrono::milliseconds(wait_ms)))
            sim->send_split(bytes, s.split_at, std::chrono::milliseconds(20));
        } else if (s.verb == "garbage" || s.verb == "raw") {
          if (sim->wait_connected(std::chrono::milliseconds(wait_ms))) sim->send_raw(s.bytes);
        } else if (s.verb == "drop") {
          sim->drop_connection();
        }
        ++played;
      }
    } while (loop && !g_stop);
  } else {
    while (!g_stop && (count == 0 || played < count)) {
      ScanRead r;
      if (!tracking_sep.empty()) r.tracking_id = ++tid;
      double x = uni(rng);
      if (x < no_read_rate) {
        r.no_read = true;
      } else {
        r.codes.push_back(code_of(pool[rng() % pool.size()]));
        if (x < no_read_rate + multi_rate && pool.size() > 1) {
          Code second;
          do second = code_of(pool[rng() % pool.size()]);
          while (second.text == r.codes[0].text);
          r.codes.push_back(second);
        }
      }
      maybe_garbage();
      send(sim->encode(r));
      ++played;
      if (count == 0 || played < count) nap(interval_ms);
    }
  }
  std::fprintf(stderr, "sort-sim scanner: played %d step(s)\n", played);
  nap(200);  // let the last bytes leave before the socket closes
  return 0;
}

namespace {
SimRegistrar reg("scanner", "a barcode reader: reads over TCP or a pty, scripted or random",
                 scanner_sim_main);
}

}  // namespace sortd::sim
