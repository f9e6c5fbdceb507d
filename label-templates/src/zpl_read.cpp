// Reads back the ZPL subset that to_zpl() writes, so that the printer simulator can draw a
// preview of what it received with the same PNG renderer. Anything outside that subset gives
// nullopt (no preview) rather than a wrong picture.
#include <cmath>
#include <cstdlib>

#include "label.h"

namespace sortd::labels {

namespace {

std::vector<std::string> params(std::string_view s) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == ',')
      out.emplace_back();
    else
      out.back() += c;
  }
  return out;
}

// ZPL's own range for positions, sizes and counts; to_zpl never writes more. A number outside it
// sets `bad` (not our subset), so that no arithmetic on it can overflow.
constexpr long kMaxDots = 32000;

int to_int(const std::vector<std::string>& p, std::size_t i, bool& bad, int def = 0) {
  if (i >= p.size() || p[i].empty()) return def;
  char* end = nullptr;
  long v = std::strtol(p[i].c_str(), &end, 10);
  if (*end) return def;
  if (v < 0 || v > kMaxDots) {
    bad = true;
    return def;
  }
  return static_cast<int>(v);
}

std::string unhex(std::string_view s, char esc) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == esc && i + 2 < s.size()) {
      out += static_cast<char>(std::strtol(std::string(s.substr(i + 1, 2)).c_str(), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::optional<Label> label_from_zpl(std::string_view zpl, int dpi) {
  auto start = zpl.find("^XA");
  auto end = zpl.rfind("^XZ");
  if (start == std::string_view::npos || end == std::string_view::npos || end < start)
    return std::nullopt;
  std::string_view body = zpl.substr(start + 3, end - start - 3);
  Label l;
  l.size.dpi = dpi;
  int pw = 0, ll = 0;
  Item cur;
  bool in_field = false, hex = false, reverse = false;
  int by_module = 2, by_height = 10;
  bool bad = false;  // a number out of range
  std::size_t i = 0;
  while (i < body.size()) {
    if (bad) return std::nullopt;
    if (body[i] == '\n' || body[i] == '\r') {
      ++i;
      continue;
    }
    if (body[i] != '^' || i + 3 > body.size()) return std::nullopt;  // "^" or "^X" at the end
    std::string cmd(body.substr(i + 1, 2));
    std::size_t next = body.find('^', i + 3);
    if (cmd == "FD") {  // data runs to ^FS
      next = body.find("^FS", i + 3);
      if (next == std::string_view::npos) return std::nullopt;
    }
    std::string_view arg =
        body.substr(i + 3, (next == std::string_view::npos ? body.size() : next) - i - 3);
    while (!arg.empty() && (arg.back() == '\n' || arg.back() == '\r')) arg.remove_suffix(1);
    auto p = params(arg);
    if (cmd == "CI" || cmd == "LH" || cmd == "PQ") {
    } else if (cmd == "PW") {
      pw = to_int(p, 0, bad);
    } else if (cmd == "LL") {
      ll = to_int(p, 0, bad);
    } else if (cmd == "FO") {
      cur = Item{};
      cur.x = to_int(p, 0, bad);
      cur.y = to_int(p, 1, bad);
      in_field = true;
      hex = reverse = false;
    } else if (cmd == "GB" && in_field) {
      cur.type = ElementType::Box;
      cur.w = to_int(p, 0, bad);
      cur.h = to_int(p, 1, bad);
      cur.thickness = to_int(p, 2, bad, 1);
      cur.fill = cur.thickness >= std::min(cur.w, cur.h);
    } else if (cmd == "A@" && in_field) {
      cur.type = ElementType::Text;
      cur.font = to_int(p, 1, bad);
    } else if (cmd == "FB" && in_field) {
      cur.w = to_int(p, 0, bad);
      cur.lines = std::max(1, to_int(p, 1, bad, 1));
    } else if (cmd == "FR") {
      reverse = true;
    } else if (cmd == "FH") {
      hex = true;
    } else if (cmd == "BY") {
      by_module = to_int(p, 0, bad, 2);
      by_height = to_int(p, 2, bad, 10);
    } else if (cmd == "BC" && in_field) {
      cur.type = ElementType::Code128;
      cur.module = by_module;
      cur.h = to_int(p, 1, bad, by_height);
    } else if (cmd == "BQ" && in_field) {
      cur.type = ElementType::Qr;
      cur.module = to_int(p, 2, bad, 2);
      cur.y += by_height;  // the ^BY height offset, as printers draw it
    } else if (cmd == "BX" && in_field) {
      cur.type = ElementType::DataMatrix;
      cur.module = to_int(p, 1, bad, 2);
    } else if (cmd == "FD" && in_field) {
      std::string data(arg);
      if (hex) data = unhex(data, '_');
      if (cur.type == ElementType::Code128) {
        if (data.rfind(">;>8", 0) == 0 || data.rfind(">:>8", 0) == 0) {
          // GS1: digits back into "(AI)" form is not possible without an AI table; show the
          // element string with its first AI as written by to_zpl for SSCC-style codes.
          cur.gs1 = true;
          std::string d = data.substr(4);
          if (d.size() < 2) return std::nullopt;  // to_zpl writes at least the AI
          data = "(" + d.substr(0, 2) + ")" + d.substr(2);
        } else {
          std::string plain;
          for (std::size_t k = 0; k < data.size(); ++k) {
            if (data[k] == '>' && k + 1 < data.size() && data[k + 1] == '<') ++k;
            plain += data[k];
          }
          data = plain;
        }
      }
      if (cur.type == ElementType::Qr) {
        if (data.size() < 3) return std::nullopt;
        data = data.substr(3);  // "MA,"
      }
      // A text block taller than ZPL's range is not what to_zpl writes (its reverse box would
      // not be ZPL either).
      if (cur.type == ElementType::Text && cur.font * cur.lines > kMaxDots) return std::nullopt;
      cur.text = data;
      cur.reverse = reverse && cur.type == ElementType::Text;
      if (cur.type == ElementType::Text && cur.reverse && !l.items.empty() &&
          l.items.back().type == ElementType::Box && l.items.back().x == cur.x &&
          l.items.back().y == cur.y)
        l.items.pop_back();  // to_zpl's black box under reversed text
      if (cur.type != ElementType::Box) {
        if (cur.type != ElementType::Text) cur.w = cur.w ? cur.w : pw - cur.x;
        l.items.push_back(cur);
      }
      in_field = false;
      next += 3;  // past ^FS
    } else if (cmd == "FS") {
      if (in_field && cur.type == ElementType::Box) l.items.push_back(cur);
      in_field = false;
    } else {
      return std::nullopt;
    }
    i = next == std::string_view::npos ? body.size() : next;
  }
  if (bad || pw <= 0 || ll <= 0) return std::nullopt;
  l.size.width_mm = pw / l.size.dots_per_mm();
  l.size.height_mm = ll / l.size.dots_per_mm();
  return l;
}

}  // namespace sortd::labels
