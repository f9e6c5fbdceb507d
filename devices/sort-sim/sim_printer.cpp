// sort-sim printer: a ZPL / TSPL label printer on TCP (see devices/printer/printer_sim.h and
// docs/printers.md). Prints "READY port=<port> control=<port>" on stdout once it listens; takes
// control commands on stdin (and on --control-port): paper-out, paper-in, head-open, head-close,
// pause, resume, ribbon-out, ribbon-in, silent, answer, ok, status, jobs. Runs until SIGINT or
// SIGTERM.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

#include "printer/printer_sim.h"
#include "sim.h"

namespace sortd::dev::printer {

int printer_sim_main(int argc, char** argv) {
  CLI::App app{"sort-sim printer: a label printer on raw TCP (ZPL and TSPL)"};
  PrinterSimOptions o;
  o.dir = "printer-jobs";
  bool no_previews = false;
  app.add_option("--host", o.host, "IPv4 address to listen on");
  app.add_option("--port", o.port, "print port (0 = any free port)")->check(CLI::Range(0, 65535));
  app.add_option("--control-port", o.control_port, "control port (0 = any free, -1 = none)")
      ->check(CLI::Range(-1, 65535));
  app.add_option("--dir", o.dir, "folder for the received jobs (one file each) and previews");
  app.add_option("--dpi", o.dpi, "print resolution, for previews")
      ->check(CLI::IsMember({203, 300}));
  app.add_flag("--no-previews", no_previews, "do not draw PNG previews of ZPL jobs");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  o.previews = !no_previews;
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  try {
    PrinterSim sim(o);
    std::printf("READY port=%d control=%d\n", sim.port(), sim.control_port());
    std::fflush(stdout);
    std::thread([&sim] {
      std::string line;
      while (std::getline(std::cin, line)) {
        if (line.empty()) continue;
        std::printf("%s\n", sim.command(line).c_str());
        std::fflush(stdout);
      }
    }).detach();
    int sig = 0;
    sigwait(&sigs, &sig);
    std::fprintf(stderr, "sort-sim printer: %zu jobs received, stopping\n", sim.jobs().size());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sort-sim printer: %s\n", e.what());
    return 1;
  }
}

}  // namespace sortd::dev::printer

namespace {
sortd::sim::SimRegistrar reg("printer", "label printer on raw TCP 9100 (ZPL ~HS, TSPL <ESC>!?)",
                             sortd::dev::printer::printer_sim_main);
}
