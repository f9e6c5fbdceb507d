// sortd scanners: USB HID boot keyboard reports -> text, with a keyboard layout, as a keyboard-
// wedge scanner types it. Handles shift / AltGr / Ctrl (Ctrl+] = GS, the FNC1 of GS1 codes),
// Alt+keypad codes (Alt+0029 = GS), key release and held keys (a key counts once per press).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sortd::dev::scanner {

enum class KeyLayout { US, UK, DE, FR };
std::optional<KeyLayout> key_layout_from(std::string_view name);  // "us" "uk" "de" "fr"
const char* to_string(KeyLayout l);

class HidKeyboard {
 public:
  explicit HidKeyboard(KeyLayout layout) : layout_(layout) {}

  // One input report: [modifiers, reserved, key1..key6] (8 bytes; shorter reports with at least
  // the modifier byte and one key are accepted). Appends the text typed to `out` (Enter as CR,
  // Tab as HT, UTF-8 for non-ASCII characters). Returns false when the report is unusable
  // (`why` says so); state is then unchanged.
  bool report(const std::uint8_t* data, std::size_t len, std::string& out, std::string* why);
  void reset();

  // The report that types `text` on `layout` (press reports each followed by a release report),
  // for simulators and tests. Characters the layout cannot type are skipped and returned false.
  static bool type(KeyLayout layout, std::string_view text,
                   std::vector<std::vector<std::uint8_t>>& reports);

 private:
  void press(std::uint8_t usage, std::uint8_t mods, std::string& out);

  KeyLayout layout_;
  std::uint8_t prev_keys_[6] = {};
  std::uint8_t prev_mods_ = 0;
  int alt_code_ = -1;  // digits typed on the keypad while Alt is held; -1 = none
};

}  // namespace sortd::dev::scanner
