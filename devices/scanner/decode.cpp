#include "scanner/decode.h"

#include <cstdint>

#include "scanner/framing.h"
#include "scanner/gs1.h"

namespace sortd::dev::scanner {

namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\r' || c == '\n' || c == '\0';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// Control bytes a barcode may legitimately carry: GS (FNC1), RS and EOT (ISO 15434 envelopes),
// FS, HT.
bool allowed_control(unsigned char c) {
  return c == 0x1d || c == 0x1e || c == 0x04 || c == 0x1c || c == 0x09;
}

// Replaces bytes that are not valid UTF-8 with U+FFFD; returns the offset of the first bad byte
// or npos.
std::size_t make_utf8(std::string& s) {
  std::string out;
  std::size_t first_bad = std::string::npos;
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xe  ? 3
                    : (c >> 3) == 0x1e ? 4
                                       : 0;
    bool good = n > 0 && i + n <= s.size();
    std::uint32_t cp = 0;
    if (good && n > 1) {
      cp = c & (0xff >> (n + 1));
      for (std::size_t k = 1; k < n; ++k) {
        auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xc0) != 0x80) {
          good = false;
          break;
        }
        cp = (cp << 6) | (cc & 0x3f);
      }
      // Overlong forms, surrogates and out-of-range code points are invalid too.
      if (good && ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
                   cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)))
        good = false;
    }
    if (good) {
      out.append(s, i, n);
      i += n;
    } else {
      if (first_bad == std::string::npos) first_bad = i;
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  if (first_bad != std::string::npos) s.swap(out);
  return first_bad;
}

}  // namespace

bool split_aim(std::string_view text, std::string& symbology, std::string_view& rest) {
  if (text.size() < 3 || text[0] != ']') return false;
  char f = text[1], m = text[2];
  bool flag = (f >= 'A' && f <= 'Z') || (f >= 'a' && f <= 'z');
  bool mod = (m >= '0' && m <= '9') || (m >= 'A' && m <= 'Z') || (m >= 'a' && m <= 'z');
  if (!flag || !mod) return false;
  symbology.assign(text.substr(1, 2));
  rest = text.substr(3);
  return true;
}

bool gs1_symbology(std::string_view s) {
  // GS1-128, GS1 DataBar, GS1 DataMatrix, GS1 QR Code, GS1 DotCode, GS1 Composite.
  return s == "C1" || s == "e0" || s == "d2" || s == "Q3" || s == "J1" || s == "e1" || s == "e2" ||
         s == "e3";
}

DecodeResult decode_read(std::string_view frame, const DecodeConfig& cfg) {
  DecodeResult r;
  std::string_view body = trim(frame);
  if (body.empty()) {
    r.error = "empty read";
    return r;
  }
  for (std::size_t i = 0; i < body.size(); ++i) {
    auto c = static_cast<unsigned char>(body[i]);
    if ((c < 0x20 || c == 0x7f) && !allowed_control(c) &&
        !(cfg.separator.find(static_cast<char>(c)) != std::string::npos)) {
      r.error = "control byte " + printable(body.substr(i, 1)) + " at offset " + std::to_string(i) +
                " in read '" + printable(body, 48) + "'";
      return r;
    }
  }
  if (!cfg.tracking_sep.empty()) {
    auto pos = body.find(cfg.tracking_sep);
    if (pos == std::string_view::npos) {
      r.error = "no tracking id: '" + printable(cfg.tracking_sep) + "' not found in '" +
                printable(body, 48) + "'";
      return r;
    }
    auto id = trim(body.substr(0, pos));
    std::uint64_t v = 0;
    if (id.empty() || id.size() > 10) {
      r.error = "tracking id '" + printable(id) + "' at offset 0 is not a 32-bit number";
      return r;
    }
    for (std::size_t i = 0; i < id.size(); ++i) {
      if (id[i] < '0' || id[i] > '9') {
        r.error =
            "tracking id '" + printable(id) + "' has a non-digit at offset " + std::to_string(i);
        return r;
      }
      v = v * 10 + static_cast<std::uint64_t>(id[i] - '0');
    }
    if (v > 0xffffffffull) {
      r.error = "tracking id " + std::string(id) + " does not fit in 32 bits";
      return r;
    }
    r.read.tracking_id = static_cast<std::uint32_t>(v);
    body = trim(body.substr(pos + cfg.tracking_sep.size()));
  }

  std::vector<std::string_view> parts;
  if (cfg.separator.empty()) {
    parts.push_back(body);
  } else {
    std::size_t start = 0;
    while (true) {
      auto pos = body.find(cfg.separator, start);
      parts.push_back(body.substr(start, pos == std::string_view::npos ? body.npos : pos - start));
      if (pos == std::string_view::npos) break;
      start = pos + cfg.separator.size();
    }
  }

  std::size_t no_reads = 0;
  for (auto part : parts) {
    part = trim(part);
    if (part.empty()) {
      if (parts.size() > 1) r.warnings.push_back("empty code between separators");
      continue;
    }
    Code code;
    std::string_view data = part;
    if (cfg.aim != AimMode::Off) {
      if (!split_aim(part, code.symbology, data) && cfg.aim == AimMode::On && part != cfg.no_read)
        r.warnings.push_back("no AIM symbology identifier on '" + printable(part, 32) + "'");
    }
    if (!cfg.no_read.empty() && data == cfg.no_read) {
      ++no_reads;
      continue;
    }
    if (data.empty()) {
      r.warnings.push_back("symbology identifier ]" + code.symbology + " without data");
      continue;
    }
    std::string text(data);
    if (cfg.gs1) {
      bool raw_gs1 = gs1_symbology(code.symbology) || data.front() == kFnc1;
      bool hri = !raw_gs1 && data.front() == '(' && data.size() > 4;
      if (raw_gs1 || hri) {
        Gs1Result g = raw_gs1 ? parse_gs1(data) : parse_gs1_hri(data);
        if (g.ok) {
          auto pick = gs1_pick(g.elements, cfg.gs1_ais);
          text = pick ? *pick : gs1_hri(g.elements);
        } else if (raw_gs1) {
          // Keep the read: the code may still be known as it is. Drop a leading FNC1 only.
          r.warnings.push_back("GS1 element string not understood (" + g.error +
                               "), kept as read: '" + printable(data, 48) + "'");
          if (!text.empty() && text.front() == kFnc1) text.erase(0, 1);
        }
        // An HRI-looking text that is not GS1 is just a code that starts with '('.
      }
    }
    if (auto bad = make_utf8(text); bad != std::string::npos)
      r.warnings.push_back("invalid UTF-8 at offset " + std::to_string(bad) +
                           " replaced with U+FFFD");
    code.text = std::move(text);
    r.read.codes.push_back(std::move(code));
  }
  if (r.read.codes.empty()) {
    if (no_reads == 0) {
      r.error = "read holds no code: '" + printable(body, 48) + "'";
      return r;
    }
    r.read.no_read = true;
  } else if (no_reads > 0) {
    r.warnings.push_back(std::to_string(no_reads) + " no-read part(s) beside " +
                         std::to_string(r.read.codes.size()) + " code(s) ignored");
  }
  r.ok = true;
  return r;
}

}  // namespace sortd::dev::scanner
