#include "scanner/hid_keyboard.h"

#include <array>
#include <cstdio>
#include <cstring>

namespace sortd::dev::scanner {

namespace {

constexpr std::uint8_t kLCtrl = 0x01, kLShift = 0x02, kLAlt = 0x04, kRCtrl = 0x10, kRShift = 0x20,
                       kRAlt = 0x40;
constexpr std::uint8_t kEnter = 0x28, kTab = 0x2b, kKpEnter = 0x58;

struct Key {
  const char* normal = nullptr;
  const char* shift = nullptr;
  const char* altgr = nullptr;
};
using Table = std::array<Key, 0x68>;

void set(Table& t, std::uint8_t u, const char* n, const char* s, const char* g = nullptr) {
  t[u] = {n, s, g};
}

Table base_us() {
  Table t{};
  static const char* lower[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m",
                                "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z"};
  static const char* upper[] = {"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M",
                                "N", "O", "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z"};
  for (int i = 0; i < 26; ++i) set(t, static_cast<std::uint8_t>(0x04 + i), lower[i], upper[i]);
  static const char* digits[] = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "0"};
  static const char* shifted[] = {"!", "@", "#", "$", "%", "^", "&", "*", "(", ")"};
  for (int i = 0; i < 10; ++i) set(t, static_cast<std::uint8_t>(0x1e + i), digits[i], shifted[i]);
  set(t, 0x2c, " ", " ");
  set(t, 0x2d, "-", "_");
  set(t, 0x2e, "=", "+");
  set(t, 0x2f, "[", "{");
  set(t, 0x30, "]", "}");
  set(t, 0x31, "\\", "|");
  set(t, 0x32, "#", "~");
  set(t, 0x33, ";", ":");
  set(t, 0x34, "'", "\"");
  set(t, 0x35, "`", "~");
  set(t, 0x36, ",", "<");
  set(t, 0x37, ".", ">");
  set(t, 0x38, "/", "?");
  set(t, 0x64, "\\", "|");
  // Keypad (Num Lock on, as scanners assume).
  set(t, 0x54, "/", "/");
  set(t, 0x55, "*", "*");
  set(t, 0x56, "-", "-");
  set(t, 0x57, "+", "+");
  static const char* kp[] = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "0"};
  for (int i = 0; i < 10; ++i) set(t, static_cast<std::uint8_t>(0x59 + i), kp[i], kp[i]);
  set(t, 0x63, ".", ".");
  return t;
}

Table make(KeyLayout l) {
  Table t = base_us();
  switch (l) {
    case KeyLayout::US:
      break;
    case KeyLayout::UK:
      set(t, 0x1f, "2", "\"");
      set(t, 0x20, "3", "\xC2\xA3");  // £
      set(t, 0x34, "'", "@");
      set(t, 0x32, "#", "~");
      set(t, 0x35, "`", "\xC2\xAC");  // ¬
      break;
    case KeyLayout::DE:
      set(t, 0x1c, "z", "Z");
      set(t, 0x1d, "y", "Y");
      set(t, 0x14, "q", "Q", "@");
      set(t, 0x08, "e", "E", "\xE2\x82\xAC");  // €
      set(t, 0x1e, "1", "!");
      set(t, 0x1f, "2", "\"", "\xC2\xB2");
      set(t, 0x20, "3", "\xC2\xA7", "\xC2\xB3");  // §
      set(t, 0x21, "4", "$");
      set(t, 0x22, "5", "%");
      set(t, 0x23, "6", "&");
      set(t, 0x24, "7", "/", "{");
      set(t, 0x25, "8", "(", "[");
      set(t, 0x26, "9", ")", "]");
      set(t, 0x27, "0", "=", "}");
      set(t, 0x2d, "\xC3\x9F", "?", "\\");  // ß
      set(t, 0x2e, "\xC2\xB4", "`");
      set(t, 0x2f, "\xC3\xBC", "\xC3\x9C");  // ü Ü
      set(t, 0x30, "+", "*", "~");
      set(t, 0x31, "#", "'");
      set(t, 0x32, "#", "'");
      set(t, 0x33, "\xC3\xB6", "\xC3\x96");  // ö Ö
      set(t, 0x34, "\xC3\xA4", "\xC3\x84");  // ä Ä
      set(t, 0x35, "^", "\xC2\xB0");
      set(t, 0x36, ",", ";");
      set(t, 0x37, ".", ":");
      set(t, 0x38, "-", "_");
      set(t, 0x64, "<", ">", "|");
      break;
    case KeyLayout::FR:
      set(t, 0x04, "q", "Q");
      set(t, 0x14, "a", "A");
      set(t, 0x1a, "z", "Z");
      set(t, 0x1d, "w", "W");
      set(t, 0x33, "m", "M");
      set(t, 0x10, ",", "?");
      set(t, 0x08, "e", "E", "\xE2\x82\xAC");
      set(t, 0x1e, "&", "1");
      set(t, 0x1f, "\xC3\xA9", "2", "~");  // é
      set(t, 0x20, "\"", "3", "#");
      set(t, 0x21, "'", "4", "{");
      set(t, 0x22, "(", "5", "[");
      set(t, 0x23, "-", "6", "|");
      set(t, 0x24, "\xC3\xA8", "7", "`");  // è
      set(t, 0x25, "_", "8", "\\");
      set(t, 0x26, "\xC3\xA7", "9", "^");  // ç
      set(t, 0x27, "\xC3\xA0", "0", "@");  // à
      set(t, 0x2d, ")", "\xC2\xB0", "]");
      set(t, 0x2e, "=", "+", "}");
      set(t, 0x2f, "^", "\xC2\xA8");
      set(t, 0x30, "$", "\xC2\xA3");
      set(t, 0x31, "*", "\xC2\xB5");
      set(t, 0x32, "*", "\xC2\xB5");
      set(t, 0x34, "\xC3\xB9", "%");  // ù
      set(t, 0x35, "\xC2\xB2", nullptr);
      set(t, 0x36, ";", ".");
      set(t, 0x37, ":", "/");
      set(t, 0x38, "!", "\xC2\xA7");
      set(t, 0x64, "<", ">");
      break;
  }
  return t;
}

const Table& table(KeyLayout l) {
  static const Table us = make(KeyLayout::US), uk = make(KeyLayout::UK), de = make(KeyLayout::DE),
                     fr = make(KeyLayout::FR);
  switch (l) {
    case KeyLayout::UK:
      return uk;
    case KeyLayout::DE:
      return de;
    case KeyLayout::FR:
      return fr;
    default:
      return us;
  }
}

void append_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

int keypad_digit(std::uint8_t u) {
  if (u >= 0x59 && u <= 0x61) return u - 0x59 + 1;
  if (u == 0x62) return 0;
  return -1;
}

}  // namespace

std::optional<KeyLayout> key_layout_from(std::string_view n) {
  if (n == "us") return KeyLayout::US;
  if (n == "uk" || n == "gb") return KeyLayout::UK;
  if (n == "de") return KeyLayout::DE;
  if (n == "fr") return KeyLayout::FR;
  return std::nullopt;
}

const char* to_string(KeyLayout l) {
  switch (l) {
    case KeyLayout::US:
      return "us";
    case KeyLayout::UK:
      return "uk";
    case KeyLayout::DE:
      return "de";
    case KeyLayout::FR:
      return "fr";
  }
  return "?";
}

void HidKeyboard::reset() {
  std::memset(prev_keys_, 0, sizeof prev_keys_);
  prev_mods_ = 0;
  alt_code_ = -1;
}

void HidKeyboard::press(std::uint8_t u, std::uint8_t mods, std::string& out) {
  bool alt = mods & kLAlt;
  bool ctrl = mods & (kLCtrl | kRCtrl);
  bool shift = mods & (kLShift | kRShift);
  bool altgr = (mods & kRAlt) || (ctrl && alt);
  if (alt && !ctrl) {
    int d = keypad_digit(u);
    if (d >= 0) {
      alt_code_ = (alt_code_ < 0 ? 0 : alt_code_) * 10 + d;
      if (alt_code_ > 0xffff) alt_code_ = 0xffff;
      return;
    }
  }
  if (u == kEnter || u == kKpEnter) {
    out += '\r';
    return;
  }
  if (u == kTab) {
    out += '\t';
    return;
  }
  if (u >= table(layout_).size()) return;  // function keys, arrows...: not text
  const Key& k = table(layout_)[u];
  const char* s = altgr ? k.altgr : (shift ? k.shift : k.normal);
  if (ctrl && !altgr) {
    // Ctrl+key: the ASCII control character of the key's character (Ctrl+] = GS = FNC1).
    const char* base = shift ? k.shift : k.normal;
    if (base && base[0] && !base[1]) {
      char c = base[0];
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      if (c >= '@' && c <= '_') out += static_cast<char>(c & 0x1f);
    }
    return;
  }
  if (s) out += s;
}

bool HidKeyboard::report(const std::uint8_t* data, std::size_t len, std::string& out,
                         std::string* why) {
  if (len < 3) {
    if (why) *why = "keyboard report of " + std::to_string(len) + " byte(s), expected 8";
    return false;
  }
  std::uint8_t mods = data[0];
  std::uint8_t keys[6] = {};
  std::size_t n = len - 2 < 6 ? len - 2 : 6;
  for (std::size_t i = 0; i < n; ++i) keys[i] = data[2 + i];
  for (std::size_t i = 0; i < n; ++i)
    if (keys[i] >= 0x01 && keys[i] <= 0x03) {  // ErrorRollOver / POSTFail / ErrorUndefined
      if (why) *why = "keyboard reports an error state (rollover), report ignored";
      return false;
    }
  for (std::size_t i = 0; i < n; ++i) {
    std::uint8_t u = keys[i];
    if (u == 0) continue;
    bool held = false;
    for (auto p : prev_keys_)
      if (p == u) held = true;
    if (!held) press(u, mods, out);  // a key still down from the last report is not typed again
  }
  // Releasing Alt ends an Alt+keypad code.
  if ((prev_mods_ & kLAlt) && !(mods & kLAlt) && alt_code_ >= 0) {
    int cp = alt_code_;
    alt_code_ = -1;
    if (cp > 0) append_utf8(out, static_cast<unsigned>(cp));
  }
  std::memcpy(prev_keys_, keys, sizeof prev_keys_);
  prev_mods_ = mods;
  return true;
}

bool HidKeyboard::type(KeyLayout layout, std::string_view text,
                       std::vector<std::vector<std::uint8_t>>& reports) {
  const Table& t = table(layout);
  bool all = true;
  auto key = [&](std::uint8_t mods, std::uint8_t u) {
    reports.push_back({mods, 0, u, 0, 0, 0, 0, 0});
    reports.push_back({0, 0, 0, 0, 0, 0, 0, 0});
  };
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    std::string ch(text.substr(i, n));
    i += n;
    if (ch == "\r") {
      key(0, kEnter);
      continue;
    }
    if (ch == "\t") {
      key(0, kTab);
      continue;
    }
    if (c < 0x20) {
      if (layout == KeyLayout::US && c == 0x1d) {
        key(kLCtrl, 0x30);  // Ctrl+]
      } else {
        // Alt + keypad decimal code, e.g. Alt+0029 for GS.
        char digits[8];
        std::snprintf(digits, sizeof digits, "%04u", static_cast<unsigned>(c));
        reports.push_back({kLAlt, 0, 0, 0, 0, 0, 0, 0});
        for (const char* d = digits; *d; ++d) {
          std::uint8_t u = *d == '0' ? 0x62 : static_cast<std::uint8_t>(0x59 + (*d - '1'));
          reports.push_back({kLAlt, 0, u, 0, 0, 0, 0, 0});
          reports.push_back({kLAlt, 0, 0, 0, 0, 0, 0, 0});
        }
        reports.push_back({0, 0, 0, 0, 0, 0, 0, 0});
      }
      continue;
    }
    bool found = false;
    // Prefer the main block over the keypad (keypad keys start at 0x54).
    for (std::uint8_t u = 0x04; u < 0x54 && !found; ++u) {
      if (t[u].normal && ch == t[u].normal)
        key(0, u), found = true;
      else if (t[u].shift && ch == t[u].shift)
        key(kLShift, u), found = true;
      else if (t[u].altgr && ch == t[u].altgr)
        key(kRAlt, u), found = true;
    }
    for (std::uint8_t u = 0x64; u < t.size() && !found; ++u) {
      if (t[u].normal && ch == t[u].normal)
        key(0, u), found = true;
      else if (t[u].shift && ch == t[u].shift)
        key(kLShift, u), found = true;
      else if (t[u].altgr && ch == t[u].altgr)
        key(kRAlt, u), found = true;
    }
    if (!found) all = false;
  }
  return all;
}

}  // namespace sortd::dev::scanner
