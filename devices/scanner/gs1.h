// sortd scanners: GS1 element strings (GS1-128, GS1 DataMatrix, GS1 QR, DataBar), parsed well
// enough to pick the tracking number out of a read. See docs/scanners.md for the rule.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sortd::dev::scanner {

struct Gs1Element {
  std::string ai;     // "00", "401", "3103", ...
  std::string value;  // the data after the AI
  bool operator==(const Gs1Element&) const = default;
};

struct Gs1Result {
  bool ok = false;
  std::vector<Gs1Element> elements;
  std::string error;  // what and where, when !ok
};

constexpr char kFnc1 = '\x1d';  // FNC1 as transmitted: ASCII GS

// Raw element string as a scanner transmits it (symbology identifier already removed): AI + data
// concatenated, variable-length fields ended by GS (FNC1); a leading GS is allowed.
Gs1Result parse_gs1(std::string_view data);
// Human-readable form: "(00)123456789012345675(421)276 10115".
Gs1Result parse_gs1_hri(std::string_view text);
// Back to the human-readable form.
std::string gs1_hri(const std::vector<Gs1Element>& elements);
// The first element whose AI is listed in `priority` (in the order of `priority`).
std::optional<std::string> gs1_pick(const std::vector<Gs1Element>& elements,
                                    const std::vector<std::string>& priority);
// Mod-10 check digit of GS1 identification keys (GTIN, SSCC, GLN, GSIN): true when the last
// digit of `digits` matches.
bool gs1_check_digit_ok(std::string_view digits);

}  // namespace sortd::dev::scanner
