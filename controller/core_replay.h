// sortd: record and replay. The daemon can record every event it hands to the core, with the
// time it was handed over; replaying the record through a fresh core gives exactly the same
// decisions. This is the base of the regression logs (tests/replay/*.events + *.expected) and
// of dry-running a new sort plan against recorded reads.
#pragma once

#include <cstdio>
#include <istream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "events.h"

namespace sortd {

// Appends one JSON line per event. The first line is a header that says which configuration
// and which orders the run started from: {"sortd_record":1,"config":"...","orders":{...}}.
class Recorder {
 public:
  Recorder(const std::string& path, const nlohmann::json& header);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;
  void write(TimeMs now, const Event& e);

 private:
  std::FILE* f_ = nullptr;
};

// One stable text line per decision, sort command and final parcel state in `fx`, in order.
// Replay compares these lines.
void describe_effects(const Effects& fx, std::vector<std::string>& out);

struct ReplayOptions {
  std::string config_override;  // replay against another station file (a plan dry-run)
  std::string base_dir;         // relative paths in the header are resolved against this
};

struct ReplayResult {
  std::vector<std::string> lines;
  std::size_t events = 0, parcels = 0, exceptions = 0;
};

// Replays a record through a fresh core (empty store state). Throws std::runtime_error with the
// line number on a bad record.
ReplayResult replay(std::istream& in, const ReplayOptions& opt = {});

}  // namespace sortd
