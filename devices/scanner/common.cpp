// What every scanner driver shares: options, the read pipeline, status, backoff, trigger.
#include <condition_variable>
#include <mutex>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "scanner/scanner.h"

namespace sortd::dev::scanner {

// --- Options -----------------------------------------------------------------------------------

void Options::error(const std::string& key, const std::string& message) {
  errors_.push_back(key + ": " + message);
}

std::string Options::str(const std::string& key, const std::string& def) {
  used_.insert(key);
  auto it = dev_.options.find(key);
  return it == dev_.options.end() ? def : it->second;
}

std::int64_t Options::integer(const std::string& key, std::int64_t def, std::int64_t min,
                              std::int64_t max) {
  used_.insert(key);
  auto it = dev_.options.find(key);
  if (it == dev_.options.end()) return def;
  const std::string& s = it->second;
  std::int64_t v = 0;
  bool neg = false;
  std::size_t i = 0;
  int base = 10;
  if (!s.empty() && s[0] == '-') neg = true, i = 1;
  if (s.size() > i + 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) base = 16, i += 2;
  if (i >= s.size()) {
    error(key, "'" + s + "' is not a number");
    return def;
  }
  for (; i < s.size(); ++i) {
    int d = -1;
    char c = s[i];
    if (c >= '0' && c <= '9') d = c - '0';
    if (base == 16 && c >= 'a' && c <= 'f') d = c - 'a' + 10;
    if (base == 16 && c >= 'A' && c <= 'F') d = c - 'A' + 10;
    if (d < 0) {
      error(key, "'" + s + "' is not a number (bad character at position " + std::to_string(i + 1) +
                     ")");
      return def;
    }
    v = v * base + d;
    if (v > (std::int64_t{1} << 40)) {
      error(key, "'" + s + "' is too large");
      return def;
    }
  }
  if (neg) v = -v;
  if (v < min || v > max) {
    error(key, std::to_string(v) + " is out of range " + std::to_string(min) + ".." +
                   std::to_string(max));
    return def;
  }
  return v;
}

bool Options::flag(const std::string& key, bool def) {
  auto v =
      choice(key, def ? "true" : "false", {"true", "false", "yes", "no", "on", "off", "1", "0"});
  return v == "true" || v == "yes" || v == "on" || v == "1";
}

std::string Options::bytes(const std::string& key, const std::string& def) {
  used_.insert(key);
  auto it = dev_.options.find(key);
  if (it == dev_.options.end()) return def;
  std::string out, err;
  if (!parse_escaped(it->second, out, err)) {
    error(key, err);
    return def;
  }
  return out;
}

std::string Options::choice(const std::string& key, const std::string& def,
                            const std::vector<std::string>& allowed) {
  std::string v = str(key, def);
  for (const auto& a : allowed)
    if (a == v) return v;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  error(key, "'" + v + "' is not one of " + list);
  return def;
}

std::vector<std::string> Options::finish() {
  for (const auto& [k, v] : dev_.options)
    if (!used_.count(k)) errors_.push_back(k + ": unknown option for driver '" + dev_.driver + "'");
  return errors_;
}

// --- shared options ----------------------------------------------------------------------------

bool framing_preset(std::string_view name, FramingConfig& f) {
  f.prefix.clear();
  f.any_eol = false;
  if (name == "line")
    f.any_eol = true, f.suffix.clear();
  else if (name == "cr")
    f.suffix = "\r";
  else if (name == "lf")
    f.suffix = "\n";
  else if (name == "crlf")
    f.suffix = "\r\n";
  else if (name == "stx-etx")
    f.prefix = "\x02", f.suffix = "\x03";
  else if (name == "none")
    f.suffix.clear();
  else
    return false;
  return true;
}

namespace {
// Words accepted for prefix / suffix besides escaped bytes.
std::string terminator_word(Options& o, const std::string& key, const std::string& def,
                            bool& any_eol) {
  std::string v = o.str(key, "\x01unset");
  if (v == "\x01unset") return def;
  if (v == "enter" || v == "cr") return "\r";
  if (v == "tab") return "\t";
  if (v == "lf") return "\n";
  if (v == "crlf") return "\r\n";
  if (v == "line" && key == "suffix") {
    any_eol = true;
    return "";
  }
  if (v == "none") return "";
  return o.bytes(key, def);
}
}  // namespace

CommonConfig read_common(Options& o, const std::string& default_framing) {
  CommonConfig c;
  c.name = o.name();
  // What its reads are to the station core: parcels (and lane close barcodes), or bag labels
  // scanned at handover (docs/bags.md). The core reads the option from the configuration.
  o.choice("role", "sort", {"sort", "handover"});
  auto preset =
      o.choice("framing", default_framing, {"line", "cr", "lf", "crlf", "stx-etx", "none"});
  framing_preset(preset, c.framing);
  bool any_eol = false;
  if (o.has("prefix"))
    c.framing.prefix = terminator_word(o, "prefix", c.framing.prefix, any_eol);
  else
    o.str("prefix", "");
  if (o.has("suffix")) {
    c.framing.suffix = terminator_word(o, "suffix", c.framing.suffix, any_eol);
    c.framing.any_eol = any_eol;
  } else {
    o.str("suffix", "");
  }
  c.framing.max_frame = static_cast<std::size_t>(o.integer("max_frame", 4096, 16, 1 << 20));
  for (char ch : c.framing.prefix)
    if (ch == '\r' || ch == '\n') o.error("prefix", "a prefix cannot hold CR or LF");
  if (!c.framing.prefix.empty() && c.framing.prefix == c.framing.suffix)
    o.error("suffix", "prefix and suffix must differ");
  c.idle_ms = static_cast<int>(o.integer("idle_ms", 500, 10, 60000));
  c.decode.no_read = o.str("no_read", "NoRead");
  c.decode.separator = o.bytes("separator", "");
  auto aim = o.choice("aim", "auto", {"auto", "on", "off"});
  c.decode.aim = aim == "on" ? AimMode::On : aim == "off" ? AimMode::Off : AimMode::Auto;
  c.decode.gs1 = o.flag("gs1", true);
  auto ais = o.str("gs1_ais", "00,402,401");
  c.decode.gs1_ais.clear();
  std::size_t start = 0;
  while (start <= ais.size()) {
    auto end = ais.find(',', start);
    if (end == std::string::npos) end = ais.size();
    std::string ai = ais.substr(start, end - start);
    bool digits = ai.size() >= 2 && ai.size() <= 4;
    for (char ch : ai)
      if (ch < '0' || ch > '9') digits = false;
    if (!digits)
      o.error("gs1_ais", "'" + ai + "' is not a GS1 AI (2 to 4 digits)");
    else
      c.decode.gs1_ais.push_back(ai);
    start = end + 1;
  }
  c.decode.tracking_sep = o.bytes("tracking_sep", "");
  if (!c.decode.separator.empty()) {
    if (c.decode.separator == c.framing.suffix || c.decode.separator == c.framing.prefix)
      o.error("separator", "the separator cannot be the frame prefix or suffix");
    if (c.decode.separator == "\x1d" && c.decode.gs1)
      o.error("separator", "GS is the GS1 FNC1; use another separator or set gs1 = \"false\"");
  }
  c.retry_min_ms = static_cast<int>(o.integer("retry_min_ms", 200, 10, 60000));
  c.retry_max_ms = static_cast<int>(o.integer("retry_max_ms", 5000, 10, 600000));
  if (c.retry_max_ms < c.retry_min_ms) o.error("retry_max_ms", "smaller than retry_min_ms");
  c.trigger = o.bytes("trigger", "");
  c.trigger_on = o.choice("trigger_on", "command", {"connect", "command", "interval"});
  c.trigger_interval_ms = static_cast<int>(o.integer("trigger_interval_ms", 1000, 20, 3600000));
  if (c.trigger.empty() && o.has("trigger_on")) o.error("trigger_on", "set without a trigger");
  return c;
}

// --- pipeline ----------------------------------------------------------------------------------

ReadPipeline::ReadPipeline(const CommonConfig& cfg, Host& host)
    : cfg_(cfg), host_(host), parser_(cfg.framing) {}

void ReadPipeline::bytes(std::string_view data) {
  items_.clear();
  parser_.feed(data, items_);
  handle(items_);
}

void ReadPipeline::idle() {
  items_.clear();
  parser_.idle(items_);
  handle(items_);
}

void ReadPipeline::frame(std::string_view payload) {
  items_.clear();
  items_.push_back(FrameItem{true, std::string(payload)});
  handle(items_);
}

void ReadPipeline::reject(const std::string& reason) {
  items_.clear();
  items_.push_back(FrameItem{false, reason});
  handle(items_);
}

void ReadPipeline::reset() {
  parser_.reset();
}

void ReadPipeline::handle(std::vector<FrameItem>& items) {
  for (auto& it : items) {
    if (!it.ok) {
      ++rejected_;
      spdlog::warn("scanner {}: {}", cfg_.name, it.text);
      continue;
    }
    DecodeResult r = decode_read(it.text, cfg_.decode);
    for (const auto& w : r.warnings) spdlog::warn("scanner {}: {}", cfg_.name, w);
    if (!r.ok) {
      ++rejected_;
      spdlog::warn("scanner {}: read rejected: {}", cfg_.name, r.error);
      continue;
    }
    ++reads_;
    r.read.scanner = cfg_.name;
    if (host_.emit) host_.emit(Event{std::move(r.read)});
  }
}

// --- status, backoff, trigger ------------------------------------------------------------------

void StatusReporter::up(const std::string& detail) {
  if (last_ && *last_) return;
  last_ = true;
  spdlog::info("scanner {}: up ({})", device_, detail);
  if (host_.emit) host_.emit(Event{DeviceStatus{device_, DeviceKind::Scanner, true, detail}});
}

void StatusReporter::down(const std::string& detail) {
  if (last_ && !*last_ && detail == last_detail_) return;
  bool was_down = last_ && !*last_;
  last_ = false;
  last_detail_ = detail;
  if (was_down) {
    spdlog::debug("scanner {}: still down ({})", device_, detail);
    return;  // one event per outage; the reason may change while retrying
  }
  spdlog::warn("scanner {}: down ({})", device_, detail);
  if (host_.emit) host_.emit(Event{DeviceStatus{device_, DeviceKind::Scanner, false, detail}});
}

bool sleep_for(std::stop_token stop, std::chrono::milliseconds d) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

bool Backoff::wait(std::stop_token stop) {
  int d = next_;
  next_ = next_ * 2 > max_ ? max_ : next_ * 2;
  return sleep_for(stop, std::chrono::milliseconds(d));
}

std::string Trigger::on_connect() {
  if (cfg_.trigger.empty() || cfg_.trigger_on != "connect") return {};
  return cfg_.trigger;
}

std::string Trigger::on_command(const std::string& text) {
  if (cfg_.trigger.empty()) return {};
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    spdlog::warn("scanner {}: command is not a JSON object with a \"type\": {}", cfg_.name,
                 printable(text, 80));
    return {};
  }
  if (j["type"] != "trigger") {
    spdlog::warn("scanner {}: unknown command type '{}'", cfg_.name, j["type"].get<std::string>());
    return {};
  }
  std::string out = cfg_.trigger;
  // "{id}" in the trigger is replaced by the tracking id the command carries (or 0).
  std::uint32_t id = 0;
  if (j.contains("tracking_id") && j["tracking_id"].is_number_unsigned())
    id = j["tracking_id"].get<std::uint32_t>();
  for (auto pos = out.find("{id}"); pos != std::string::npos; pos = out.find("{id}"))
    out.replace(pos, 4, std::to_string(id));
  return out;
}

std::string Trigger::on_tick(std::chrono::steady_clock::time_point now) {
  if (cfg_.trigger.empty() || cfg_.trigger_on != "interval") return {};
  if (now - last_ < std::chrono::milliseconds(cfg_.trigger_interval_ms)) return {};
  last_ = now;
  return cfg_.trigger;
}

}  // namespace sortd::dev::scanner
