// libFuzzer target: the HID report descriptor parser and the HID POS Scanned Data assembler
// (devices/scanner/hid_pos.h). Input: [descriptor length, 2 bytes LE][descriptor][reports...];
// the reports are cut at the Scanned Data report size the descriptor gives, and are also fed
// through the layout of a real POS scanner so that report fuzzing does not depend on a valid
// descriptor. Properties checked besides "no crash, no sanitizer report":
//  - a descriptor is either accepted or rejected with a reason;
//  - every field of an accepted layout lies inside its report;
//  - reads are bounded by max_read (plus the 3-byte AIM identifier), rejections carry a reason,
//    and what the decoder makes of a read is valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "scanner/decode.h"
#include "scanner/hid_pos.h"

using namespace sortd::dev::scanner;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

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

void check_layout(const HidPosLayout& L, const HidDescriptorInfo& info) {
  check(L.data_size > 0);
  check(L.data_offset + L.data_size <= L.report_size);
  if (L.byte_count) check(L.byte_count->offset + L.byte_count->size <= L.report_size * 8);
  if (L.more) check(L.more->offset + L.more->size <= L.report_size * 8);
  for (const auto& s : L.symbology)
    if (s) check(*s < L.report_size);
  check(info.max_input_report >= L.report_size);
}

void run_reports(const HidPosLayout& L, const std::uint8_t* data, std::size_t size,
                 std::size_t chunk) {
  constexpr std::size_t kMaxRead = 200;
  HidPosAssembler a(L, kMaxRead);
  for (std::size_t i = 0; i < size; i += chunk) {
    std::size_t n = size - i < chunk ? size - i : chunk;
    HidPosEvent ev = a.report(data + i, n);
    switch (ev.kind) {
      case HidPosEvent::Kind::Read: {
        check(!ev.text.empty() && ev.text.size() <= kMaxRead + 3);
        DecodeResult r = decode_read(ev.text, DecodeConfig{});
        if (r.ok)
          for (const auto& c : r.read.codes) check(valid_utf8(c.text));
        else
          check(!r.error.empty());
        break;
      }
      case HidPosEvent::Kind::Rejected:
        check(!ev.note.empty());
        break;
      default:
        break;
    }
    if (ev.dropped) check(!ev.note.empty());
  }
  HidPosEvent ev = a.idle();
  check(ev.kind == HidPosEvent::Kind::None || !ev.note.empty());
  check(!a.pending());
}

HidPosLayout honeywell_layout() {
  HidPosLayout L;
  L.report_id = 2;
  L.report_size = 64;
  L.byte_count = HidBits{8, 8};
  L.symbology = {2, 3, 4};
  L.data_offset = 5;
  L.data_size = 56;
  L.more = HidBits{504, 1};
  return L;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::size_t n = data[0] | (data[1] << 8);
  if (n > size - 2) n = size - 2;
  const std::uint8_t* desc = data + 2;
  const std::uint8_t* reports = desc + n;
  std::size_t rsize = size - 2 - n;

  HidDescriptorInfo info = parse_hid_report_descriptor(desc, n);
  check(info.ok ? info.error.empty() : !info.error.empty());
  check(info.ok || !info.pos);
  if (info.pos) {
    check_layout(*info.pos, info);
    run_reports(*info.pos, reports, rsize, info.pos->report_size);
  }
  hid_report_descriptor_length(desc, n);
  // The same report bytes through a real scanner's layout, cut in 64- and 37-byte reports.
  run_reports(honeywell_layout(), reports, rsize, 64);
  run_reports(honeywell_layout(), reports, rsize, 37);
  return 0;
}
