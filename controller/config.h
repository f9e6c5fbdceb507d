// sortd: the station configuration file (TOML). Checked in full at start-up: every problem is
// reported with the file, line and key, and nothing starts half-configured.
// The reference is docs/configuration.md; the demo station is config/demo-station.toml.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "model.h"

namespace sortd {

struct ConfigIssue {
  std::string file;
  int line = 0;  // 1-based; 0 when unknown
  int column = 0;
  std::string key;  // dotted path, e.g. "couriers[2].cutoff" or "lanes[7].chute"
  std::string message;
  std::string str() const;  // "file:line:column: key: message"
};

class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<ConfigIssue> issues);
  const std::vector<ConfigIssue>& issues() const { return issues_; }

 private:
  std::vector<ConfigIssue> issues_;
};

// Parse and check a whole station file. Throws ConfigError listing every problem found.
StationConfig parse_config(std::string_view toml_text, const std::string& source_name);
StationConfig load_config_file(const std::string& path);

// "HH:MM" -> minutes after midnight; nullopt when it is not a time of day.
std::optional<std::int32_t> parse_time_of_day(std::string_view s);

}  // namespace sortd
