// The printer drivers as the station sees them (registry entries printer/tcp and printer/usb):
// device options, the command format, and the driver thread around PrinterEngine.
#include <algorithm>
#include <charconv>
#include <set>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "codec.h"
#include "printer.h"

namespace sortd::dev::printer {

namespace {

const std::set<std::string> kCommon = {"language",
                                       "size",
                                       "dpi",
                                       "poll_ms",
                                       "status_timeout_ms",
                                       "failover",
                                       "failover_after_s",
                                       "templates",
                                       "connect_timeout_ms"};

std::optional<long> int_of(const std::string& s, int base = 10) {
  std::string_view v = s;
  if (base == 16 && (v.rfind("0x", 0) == 0 || v.rfind("0X", 0) == 0)) v.remove_prefix(2);
  long out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out, base);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty()) return std::nullopt;
  return out;
}

std::optional<labels::LabelSize> size_of(const std::string& s, int dpi) {
  auto x = s.find('x');
  if (x == std::string::npos) return std::nullopt;
  auto w = int_of(s.substr(0, x)), h = int_of(s.substr(x + 1));
  if (!w || !h || *w < 20 || *w > 220 || *h < 20 || *h > 600) return std::nullopt;
  return labels::LabelSize{static_cast<double>(*w), static_cast<double>(*h), dpi};
}

std::string opt(const StationConfig::Device& d, const std::string& key, std::string def = "") {
  auto it = d.options.find(key);
  return it == d.options.end() ? def : it->second;
}

}  // namespace

std::vector<std::string> check_options(const StationConfig::Device& d) {
  std::vector<std::string> problems;
  std::set<std::string> allowed = kCommon;
  if (d.driver == "tcp") allowed.insert({"host", "port"});
  if (d.driver == "usb") allowed.insert({"vid", "pid", "serial"});
  for (auto& [k, v] : d.options)
    if (!allowed.count(k))
      problems.push_back(k + ": unknown option for a " + d.driver + " printer");
  if (d.driver == "tcp") {
    if (opt(d, "host").empty()) problems.push_back("host: required (the printer's address)");
    auto port = int_of(opt(d, "port", "9100"));
    if (!port || *port < 1 || *port > 65535)
      problems.push_back("port: must be 1..65535, got '" + opt(d, "port") + "'");
  }
  if (d.driver == "usb") {
    for (const char* k : {"vid", "pid"}) {
      auto v = int_of(opt(d, k), 16);
      if (!v || *v < 0 || *v > 0xffff)
        problems.push_back(std::string(k) + ": must be a 4-digit hex USB id, got '" + opt(d, k) +
                           "'");
    }
  }
  if (!language_from(opt(d, "language", "zpl")))
    problems.push_back("language: must be zpl or tspl, got '" + opt(d, "language") + "'");
  auto dpi = int_of(opt(d, "dpi", "203"));
  if (!dpi || (*dpi != 203 && *dpi != 300))
    problems.push_back("dpi: must be 203 or 300, got '" + opt(d, "dpi") + "'");
  if (!size_of(opt(d, "size", "100x150"), 203))
    problems.push_back("size: must be <width>x<height> in mm (e.g. 100x150, 76x130), got '" +
                       opt(d, "size") + "'");
  for (const char* k : {"poll_ms", "status_timeout_ms", "failover_after_s", "connect_timeout_ms"})
    if (d.options.count(k)) {
      // At most a day: 86,400,000 ms, or 86,400 s (failover_after_s is in seconds and becomes
      // milliseconds in an int).
      const long max = std::string_view(k) == "failover_after_s" ? 86'400 : 86'400'000;
      auto v = int_of(opt(d, k));
      if (!v || *v < 0 || *v > max)
        problems.push_back(std::string(k) + ": must be a whole number from 0 to " +
                           std::to_string(max) + ", got '" + opt(d, k) + "'");
    }
  if (d.options.count("templates")) {
    try {
      labels::TemplateSet::load_dir(opt(d, "templates"));
    } catch (const labels::TemplateError& e) {
      problems.push_back(std::string("templates: ") + e.what());
    }
  }
  return problems;
}

LabelFormat label_format_of(const StationConfig::Device& d) {
  auto problems = check_options(d);
  if (!problems.empty()) throw std::invalid_argument(d.name + ": " + problems.front());
  return {d.name, *language_from(opt(d, "language", "zpl")),
          *size_of(opt(d, "size", "100x150"), static_cast<int>(*int_of(opt(d, "dpi", "203")))),
          opt(d, "templates", labels::TemplateSet::default_dir())};
}

PrinterSpec spec_from_device(const StationConfig::Device& d) {
  const LabelFormat f = label_format_of(d);
  PrinterSpec s;
  s.name = d.name;
  s.language = f.language;
  s.size = f.size;
  int connect_ms = static_cast<int>(int_of(opt(d, "connect_timeout_ms", "2000")).value_or(2000));
  if (d.driver == "tcp")
    s.transport = make_tcp_transport(opt(d, "host"),
                                     static_cast<int>(*int_of(opt(d, "port", "9100"))), connect_ms);
  else if (d.driver == "usb")
    s.transport = std::make_unique<UsbTransport>(
        static_cast<std::uint16_t>(*int_of(opt(d, "vid"), 16)),
        static_cast<std::uint16_t>(*int_of(opt(d, "pid"), 16)), opt(d, "serial"));
  else
    throw std::invalid_argument(d.name + ": driver '" + d.driver + "' is not a printer driver");
  return s;
}

EngineOptions engine_options_from_device(const StationConfig::Device& d) {
  EngineOptions o;
  if (auto v = int_of(opt(d, "poll_ms"))) o.poll_ms = static_cast<int>(*v);
  if (auto v = int_of(opt(d, "status_timeout_ms"))) o.status_timeout_ms = static_cast<int>(*v);
  if (auto v = int_of(opt(d, "failover_after_s")))
    o.failover_after_ms = static_cast<int>(std::clamp(*v, 0L, 86'400L) * 1000);
  return o;
}

Command command_from_json(std::string_view text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range (1e999)
    throw std::invalid_argument(std::string("printer command: not JSON: ") + e.what());
  }
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    throw std::invalid_argument("printer command: expected an object with a string \"type\"");
  const std::string type = j["type"];
  Command c;
  if (type == "print_job") {
    c.type = Command::Type::Print;
    c.job = print_job_from_json(j);
    if (j.contains("fields")) {
      if (!j["fields"].is_object())
        throw std::invalid_argument("print_job: \"fields\" must be an object of strings");
      for (auto& [k, v] : j["fields"].items()) {
        if (!v.is_string())
          throw std::invalid_argument("print_job: fields." + k + " must be a string");
        c.extra[k] = v.get<std::string>();
      }
    }
    return c;
  }
  if (type == "reprint" || type == "cancel") {
    c.type = type == "reprint" ? Command::Type::Reprint : Command::Type::Cancel;
    if (!j.contains("job_id") || !j["job_id"].is_number_unsigned())
      throw std::invalid_argument(type + ": \"job_id\" must be a job number");
    c.job_id = j["job_id"].get<std::uint64_t>();
    return c;
  }
  throw std::invalid_argument("printer command: unknown type '" + type +
                              "' (print_job, reprint, cancel)");
}

namespace {

class PrinterDriver : public Driver {
 public:
  PrinterDriver(StationConfig::Device device, const StationConfig& config)
      : device_(std::move(device)), config_(config) {}

  void run(DriverIo& io, std::stop_token stop) override {
    std::unique_ptr<PrinterEngine> engine;
    while (!engine && !stop.stop_requested()) {
      try {
        engine = make_engine(io);
      } catch (const std::exception& e) {
        spdlog::error("printer {}: {}", device_.name, e.what());
        io.emit(DeviceStatus{device_.name, DeviceKind::Printer, false, e.what()});
        for (int i = 0; i < 50 && !stop.stop_requested(); ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    if (!engine) return;
    run_engine(
        *engine,
        [&](int timeout_ms) -> std::optional<Command> {
          auto text = io.next_command(timeout_ms);
          if (!text) return std::nullopt;
          try {
            return command_from_json(*text);
          } catch (const std::exception& e) {
            spdlog::error("printer {}: bad command dropped: {} ({})", device_.name, e.what(),
                          text->substr(0, 200));
            return std::nullopt;
          }
        },
        stop);
  }

 private:
  std::unique_ptr<PrinterEngine> make_engine(DriverIo& io) {
    auto templates = std::make_shared<const labels::TemplateSet>(
        labels::TemplateSet::load_dir(label_format_of(device_).templates_dir));
    std::optional<PrinterSpec> backup;
    if (auto it = device_.options.find("failover"); it != device_.options.end()) {
      const StationConfig::Device* other = nullptr;
      for (auto& d : config_.devices)
        if (d.name == it->second && d.kind == "printer") other = &d;
      if (!other)
        throw std::invalid_argument("failover: no printer device named '" + it->second + "'");
      backup = spec_from_device(*other);
    }
    return std::make_unique<PrinterEngine>(engine_options_from_device(device_), templates, &config_,
                                           spec_from_device(device_), std::move(backup),
                                           [&io](const Event& e) { io.emit(e); });
  }

  StationConfig::Device device_;
  const StationConfig& config_;
};

std::vector<std::string> check_with_failover(const StationConfig::Device& d) {
  return check_options(d);
}

}  // namespace

std::vector<DriverInfo> printer_drivers() {
  auto make = [](const StationConfig::Device& d,
                 const StationConfig& c) -> std::unique_ptr<Driver> {
    return std::make_unique<PrinterDriver>(d, c);
  };
  return {
      {"printer", "tcp",
       "label printer on raw TCP (port 9100), ZPL or TSPL: host, port, language, size, dpi, "
       "poll_ms, status_timeout_ms, failover, failover_after_s, templates",
       make, check_with_failover},
      {"printer", "usb",
       "label printer on the USB printer class (libusb): vid, pid, serial, language, size, dpi, "
       "poll_ms, status_timeout_ms, failover, failover_after_s, templates",
       make, check_with_failover},
  };
}

}  // namespace sortd::dev::printer
