// The sorter Driver: one thread, one PlcClient (one libmodbus context). Sort commands arrive
// from the core as JSON on the inproc PULL socket; events go back on the PUSH socket.
#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "codec.h"
#include "plc_client.h"
#include "sorter.h"

namespace sortd::dev::sorter {

namespace {

using sortd::sorter::PlcClient;
using sortd::sorter::PlcOptions;

class ModbusSorter : public Driver {
 public:
  explicit ModbusSorter(PlcOptions o) : opts_(std::move(o)) {}

  void run(DriverIo& io, std::stop_token stop) override {
    PlcClient client(opts_);
    spdlog::info("{}: Modbus {} sorter starting", opts_.name,
                 opts_.transport == PlcOptions::Transport::Tcp ? "TCP" : "RTU");
    while (!stop.stop_requested()) {
      int wait = std::clamp(client.next_poll_in_ms(), 0, 50);
      // Take every command waiting; block only for the first.
      for (auto text = io.next_command(wait); text; text = io.next_command(0)) {
        try {
          client.send_command(sort_command_from_json(nlohmann::json::parse(*text)));
        } catch (const std::exception& e) {
          spdlog::error("{}: bad command from the core ({}): {}", opts_.name, e.what(), *text);
        }
      }
      try {
        for (auto& e : client.poll()) io.emit(e);
      } catch (const std::exception& e) {  // never let the thread die
        spdlog::error("{}: {}", opts_.name, e.what());
      }
    }
    spdlog::info("{}: stopped ({} commands acknowledged, {} confirmations)", opts_.name,
                 client.counters().acks, client.counters().confirmations);
  }

 private:
  PlcOptions opts_;
};

DriverInfo make_info(const std::string& driver, const char* help) {
  DriverInfo d;
  d.kind = "sorter";
  d.driver = driver;
  d.help = help;
  d.check = [driver](const StationConfig::Device& dev) {
    std::vector<std::string> problems;
    sortd::sorter::plc_options_from(dev.name, driver, dev.options, problems);
    return problems;
  };
  d.make = [driver](const StationConfig::Device& dev,
                    const StationConfig&) -> std::unique_ptr<Driver> {
    std::vector<std::string> problems;
    auto o = sortd::sorter::plc_options_from(dev.name, driver, dev.options, problems);
    if (!problems.empty())
      throw std::invalid_argument(fmt::format("{}: {}", dev.name, fmt::join(problems, "; ")));
    auto boot = dev.resume.find("plc_boot"), next = dev.resume.find("conf_next");
    if (boot != dev.resume.end() && next != dev.resume.end())
      o.resume = PlcOptions::Resume{std::uint16_t(boot->second), std::uint16_t(next->second)};
    return std::make_unique<ModbusSorter>(std::move(o));
  };
  return d;
}

}  // namespace

std::vector<DriverInfo> sorter_drivers() {
  return {make_info("modbus-tcp", "sorter PLC over Modbus TCP (docs/register-map.md)"),
          make_info("modbus-rtu", "sorter PLC over Modbus RTU / RS-485 (docs/register-map.md)")};
}

}  // namespace sortd::dev::sorter
