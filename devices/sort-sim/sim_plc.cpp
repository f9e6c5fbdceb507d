// sort-sim plc: the conveyor/PLC simulator as a command-line tool (see plc_sim.h and
// docs/simulators.md). Prints one line "READY modbus=<port> control=<port>" on stdout when it
// serves, then runs until SIGINT/SIGTERM.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "plc_sim.h"
#include "sim.h"

namespace sortd::sim {

int plc_sim_main(int argc, char** argv) {
  CLI::App app{"sort-sim plc: a loop-sorter PLC over Modbus TCP/RTU (docs/register-map.md)"};
  PlcSimOptions o;
  std::string parity = "N";
  app.add_option("--host", o.host, "address to listen on (Modbus TCP and control)");
  app.add_option("--port", o.port, "Modbus TCP port (0 = any free port)");
  app.add_option("--rtu", o.rtu_device, "serve Modbus RTU on this serial device instead of TCP");
  app.add_option("--baud", o.baud, "RTU baud rate");
  app.add_option("--parity", parity, "RTU parity N|E|O")->check(CLI::IsMember({"N", "E", "O"}));
  app.add_option("--unit", o.unit_id, "Modbus unit id")->check(CLI::Range(1, 247));
  app.add_option("--control-port", o.control_port, "control port (0 = any free, -1 = none)");
  app.add_option("--chutes", o.chutes, "number of chutes")->check(CLI::Range(1, 128));
  app.add_option("--exception-chute", o.exception_chute, "exception chute (0 = the last)");
  app.add_option("--capacity", o.capacity, "parcels until a chute is full (0 = no limit)");
  app.add_option("--speed", o.speed_mm_s, "belt speed, mm/s")->check(CLI::PositiveNumber);
  app.add_option("--decision-mm", o.decision_mm, "sort deadline position, mm after the scan zone");
  app.add_option("--first-chute-mm", o.first_chute_mm, "position of chute 1, mm");
  app.add_option("--chute-pitch-mm", o.chute_pitch_mm, "distance between chutes, mm");
  app.add_option("--loop-mm", o.loop_mm, "loop length, mm (0 = last chute + 2000)");
  app.add_option("--max-laps", o.max_laps, "recirculations before the fail-safe");
  app.add_flag("--manual-clock", o.manual_clock, "the belt moves only on 'advance <ms>'");
  app.add_option("--tick-ms", o.tick_ms, "simulation step, ms")->check(CLI::Range(1, 1000));
  app.add_option("--rate", o.rate_per_min, "automatic inductions per minute");
  app.add_option("--host-timeout-ms", o.host_timeout_ms, "host heartbeat timeout, ms");
  app.add_option("--journal", o.journal_path,
                 "append what the PLC saw and did to this file (commands, confirmations)");
  app.add_option("--command-base", o.map.command_base, "register map: command area");
  app.add_option("--status-base", o.map.status_base, "register map: status area");
  app.add_option("--confirm-base", o.map.confirm_base, "register map: confirmation ring");
  app.add_option("--induct-base", o.map.induct_base, "register map: induction ring");
  app.add_option("--measure-base", o.map.measure_base, "register map: measurement ring");
  app.add_option("--confirm-ring", o.map.confirm_ring, "confirmation ring entries (2^n, <=16)");
  app.add_option("--induct-ring", o.map.induct_ring, "induction ring entries (2^n, <=32)");
  app.add_option("--measure-ring", o.map.measure_ring, "measurement ring entries (2^n, <=8)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  o.parity = parity[0];
  try {
    PlcSim sim(o);
    // Signals are taken by sigwait() below; the serving thread inherits the blocked mask.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    sim.start();
    std::printf("READY modbus=%d control=%d\n", sim.modbus_port(), sim.control_port());
    std::fflush(stdout);
    std::fprintf(stderr, "sort-sim plc: Modbus %s%s%s, control port %d\n",
                 o.rtu_device.empty() ? "TCP " : "RTU ",
                 o.rtu_device.empty() ? (o.host + ":").c_str() : o.rtu_device.c_str(),
                 o.rtu_device.empty() ? std::to_string(sim.modbus_port()).c_str() : "",
                 sim.control_port());
    int sig = 0;
    sigwait(&sigs, &sig);
    sim.stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sort-sim plc: %s\n", e.what());
    return 1;
  }
  return 0;
}

static SimRegistrar registrar("plc", "loop-sorter PLC over Modbus TCP/RTU, with a control port",
                              plc_sim_main);

}  // namespace sortd::sim
