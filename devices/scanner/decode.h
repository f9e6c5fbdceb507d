// sortd scanners: from a frame's payload to a ScanRead. Recognises the no-read string, splits
// several codes on the separator, strips AIM symbology identifiers into Code::symbology, takes
// the PLC tracking id the reader echoes, and picks the tracking number out of GS1 reads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "events.h"

namespace sortd::dev::scanner {

enum class AimMode { Auto, On, Off };

struct DecodeConfig {
  std::string no_read = "NoRead";  // the reader's no-read message; empty = none
  std::string separator;           // between several codes of one read; empty = one code
  AimMode aim = AimMode::Auto;     // Auto: strip "]Xy" when present; On: expected; Off: keep
  bool gs1 = true;                 // decode GS1 element strings
  std::vector<std::string> gs1_ais = {"00", "402", "401"};  // tracking number AIs, by priority
  std::string tracking_sep;  // non-empty: a read starts with "<tracking id><tracking_sep>"
};

struct DecodeResult {
  bool ok = false;
  ScanRead read;                      // scanner name left empty: the driver fills it in
  std::string error;                  // why the frame was rejected, when !ok
  std::vector<std::string> warnings;  // accepted, but worth a log line
};

DecodeResult decode_read(std::string_view frame, const DecodeConfig& cfg);

// Splits "]C1rest" into symbology "C1" and "rest" when `text` starts with an AIM identifier.
bool split_aim(std::string_view text, std::string& symbology, std::string_view& rest);

// Is `symbology` (without ']') one that carries GS1 element strings?
bool gs1_symbology(std::string_view symbology);

}  // namespace sortd::dev::scanner
