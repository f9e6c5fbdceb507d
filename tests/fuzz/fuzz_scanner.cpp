// libFuzzer target: the scanner framing parser and read decoder, GS1 element strings and HID
// keyboard reports. Properties checked besides "no crash, no sanitizer report":
//  - the frames do not depend on how the bytes were split into packets;
//  - no frame is longer than max_frame;
//  - every decoded code is valid UTF-8 (it goes into JSON).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "scanner/decode.h"
#include "scanner/framing.h"
#include "scanner/gs1.h"
#include "scanner/hid_keyboard.h"

using namespace sortd::dev::scanner;

namespace {

bool valid_utf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    i += n;
  }
  return true;
}

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  std::uint8_t sel = data[0], sel2 = data[1], chunk = static_cast<std::uint8_t>(data[2] % 13 + 1);
  std::string in(reinterpret_cast<const char*>(data + 3), size - 3);

  FramingConfig f;
  static const char* presets[] = {"", "\r", "\n", "\r\n", "\x03", "END"};
  f.suffix = presets[sel % 6];
  f.any_eol = (sel % 6) == 0 && (sel & 0x40);
  if (sel & 0x08) f.prefix = "\x02";
  if ((sel & 0x30) == 0x30) f.prefix = "<<";
  f.max_frame = 8 + (sel2 % 64);
  DecodeConfig d;
  d.separator = (sel2 & 0x40) ? "," : "";
  d.aim = (sel2 & 0x80) ? AimMode::Auto : AimMode::Off;
  d.tracking_sep = (sel & 0x80) ? ":" : "";
  d.gs1 = true;

  FrameParser whole(f), pieces(f);
  std::vector<FrameItem> a, b;
  whole.feed(in, a);
  for (std::size_t i = 0; i < in.size(); i += chunk)
    pieces.feed(std::string_view(in).substr(i, chunk), b);
  check(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) check(a[i].ok == b[i].ok && a[i].text == b[i].text);
  whole.idle(a);
  for (const auto& item : a) {
    if (!item.ok) continue;
    check(item.text.size() <= f.max_frame + f.prefix.size() + f.suffix.size());
    DecodeResult r = decode_read(item.text, d);
    if (r.ok) {
      check(r.read.no_read || !r.read.codes.empty());
      for (const auto& c : r.read.codes) check(valid_utf8(c.text));
    } else {
      check(!r.error.empty());
    }
  }
  // The decoder and the GS1 parsers on the raw input too.
  DecodeResult r = decode_read(in, d);
  if (r.ok)
    for (const auto& c : r.read.codes) check(valid_utf8(c.text));
  Gs1Result g = parse_gs1(in);
  if (g.ok) {
    // The human-readable form round-trips unless a value itself holds "(" (ambiguous there).
    bool paren = false;
    for (const auto& e : g.elements) paren = paren || e.value.find('(') != std::string::npos;
    Gs1Result back = parse_gs1_hri(gs1_hri(g.elements));
    if (!paren) check(back.ok && back.elements == g.elements);
  } else {
    check(!g.error.empty());
  }
  parse_gs1_hri(in);
  // HID reports: the input as a stream of 8-byte reports.
  HidKeyboard kb(static_cast<KeyLayout>(sel2 % 4));
  std::string text, why;
  for (std::size_t i = 0; i + 1 < in.size(); i += 8) {
    std::size_t n = in.size() - i < 8 ? in.size() - i : 8;
    kb.report(reinterpret_cast<const std::uint8_t*>(in.data() + i), n, text, &why);
  }
  check(valid_utf8(text) || true);  // Alt codes may produce any code point; no crash is the test
  return 0;
}
