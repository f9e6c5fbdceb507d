// HID POS bar code scanners: the report descriptor parser (a real POS scanner's descriptor, the
// boot keyboard one, a minimal layout, malformed ones) and the Scanned Data report assembler
// (reads over several reports, garbage), down to the decoded read.
#define BOOST_TEST_MODULE scanner_hidpos
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "scanner/decode.h"
#include "scanner/hid_pos.h"
#include "scanner_hid_descriptors.h"

using namespace sortd::dev::scanner;
using namespace scanner_test;
using Kind = HidPosEvent::Kind;

namespace {

HidDescriptorInfo parse(const std::vector<std::uint8_t>& d) {
  return parse_hid_report_descriptor(d.data(), d.size());
}

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

HidPosEvent feed(HidPosAssembler& a, const std::vector<std::uint8_t>& r) {
  return a.report(r.data(), r.size());
}

HidPosLayout pos_layout() {
  auto info = parse(kPosScannerDescriptor);
  BOOST_REQUIRE_MESSAGE(info.ok, info.error);
  BOOST_REQUIRE(info.pos);
  return *info.pos;
}

// A GS1-128 element string longer than one report: (421) ship-to postcode, (400) order number,
// (00) SSCC, (3103) net weight; GS (FNC1) after the variable-length fields.
const std::string kGs1 =
    "421156310000"
    "\x1d"
    "400PO-2026-11-22-00042"
    "\x1d"
    "00123456789012345675"
    "3103001250";

}  // namespace

BOOST_AUTO_TEST_SUITE(descriptor)

BOOST_AUTO_TEST_CASE(pos_scanner_scanned_data_report) {
  auto info = parse(kPosScannerDescriptor);
  BOOST_REQUIRE_MESSAGE(info.ok, info.error);
  BOOST_TEST(info.pos_page);
  BOOST_TEST(!info.keyboard);
  BOOST_REQUIRE(info.pos);
  const HidPosLayout& L = *info.pos;
  BOOST_TEST(L.report_id == 2);
  BOOST_TEST(L.report_size == 64u);
  BOOST_REQUIRE(L.byte_count);
  BOOST_TEST((*L.byte_count == HidBits{8, 8}));
  BOOST_TEST(L.symbology[0].value_or(0) == 2u);
  BOOST_TEST(L.symbology[1].value_or(0) == 3u);
  BOOST_TEST(L.symbology[2].value_or(0) == 4u);
  BOOST_TEST(L.data_offset == 5u);
  BOOST_TEST(L.data_size == 56u);
  BOOST_REQUIRE(L.more);
  BOOST_TEST((*L.more == HidBits{63 * 8, 1}));  // the first of the 8 bits
  BOOST_TEST(info.max_input_report == 64u);
}

BOOST_AUTO_TEST_CASE(boot_keyboard_has_no_pos_page) {
  auto info = parse(kBootKeyboardDescriptor);
  BOOST_REQUIRE_MESSAGE(info.ok, info.error);
  BOOST_TEST(info.keyboard);
  BOOST_TEST(!info.pos_page);
  BOOST_TEST(!info.pos);
  BOOST_TEST(info.max_input_report == 8u);
}

BOOST_AUTO_TEST_CASE(pos_page_without_decoded_data_says_why) {
  const std::vector<std::uint8_t> d = {
      0x05, 0x8c, 0x09, 0x02, 0xa1, 0x01,  // Bar Code Scanner application
      0x09, 0x14, 0xa1, 0x02, 0x85, 0x04,  // Trigger Report, ID 4
      0x75, 0x01, 0x95, 0x08, 0x09, 0x60, 0x91, 0x02, 0xc0, 0xc0};
  auto info = parse(d);
  BOOST_REQUIRE_MESSAGE(info.ok, info.error);
  BOOST_TEST(info.pos_page);
  BOOST_TEST(!info.pos);
  BOOST_TEST(contains(info.pos_problem, "Decoded Data"), info.pos_problem);
}

// No report IDs and no byte count; 4-byte usages carrying their page, a usage range for the
// symbology bytes, Push/Pop around the flag, and a long item (skipped).
BOOST_AUTO_TEST_CASE(minimal_layout_push_pop_long_item) {
  const std::vector<std::uint8_t> d = {
      0x05, 0x8c, 0x09, 0x02, 0xa1, 0x01,              // Bar Code Scanner application
      0xfe, 0x02, 0x10, 0xaa, 0xbb,                    // long item, 2 data bytes
      0x75, 0x08, 0x95, 0x03, 0x19, 0xfb, 0x29, 0xfd,  // 3 bytes: Symbology Identifier 1..3
      0x81, 0x02,                                      // Input
      0x95, 0x20,                                      // 32 bytes
      0x0b, 0xfe, 0x00, 0x8c, 0x00,                    // Usage 0x008C00FE (Decoded Data)
      0x81, 0x02,                                      // Input
      0xa4,                                            // Push
      0x75, 0x01, 0x95, 0x01, 0x09, 0xff, 0x81, 0x02,  // 1 bit: Decode Data Continued
      0x95, 0x07, 0x81, 0x03,                          // 7 bits of padding
      0xb4,                                            // Pop: 8-bit fields again
      0x95, 0x01, 0x09, 0x00, 0x81, 0x02,              // one more byte
      0xc0};
  auto info = parse(d);
  BOOST_REQUIRE_MESSAGE(info.ok, info.error);
  BOOST_REQUIRE(info.pos);
  const HidPosLayout& L = *info.pos;
  BOOST_TEST(L.report_id == 0);
  BOOST_TEST(!L.byte_count);
  BOOST_TEST(L.symbology[0].value_or(99) == 0u);
  BOOST_TEST(L.symbology[2].value_or(99) == 2u);
  BOOST_TEST(L.data_offset == 3u);
  BOOST_TEST(L.data_size == 32u);
  BOOST_REQUIRE(L.more);
  BOOST_TEST((*L.more == HidBits{35 * 8, 1}));
  BOOST_TEST(L.report_size == 37u);

  // Data padded with NULs, no byte count: the NULs are not part of the read.
  std::vector<std::uint8_t> r(37, 0);
  std::string code = "]E04006381333931";
  for (std::size_t i = 0; i < code.size(); ++i) r[i] = static_cast<std::uint8_t>(code[i]);
  HidPosAssembler a(L);
  auto ev = feed(a, r);
  BOOST_TEST(int(ev.kind) == int(Kind::Read));
  BOOST_TEST(ev.text == code);
}

// A Usage Page given after the usages it qualifies, before their Input item, applies to them (as
// the Linux HID core reads it); a 4-byte usage keeps its own page.
BOOST_AUTO_TEST_CASE(usage_page_after_its_usages) {
  const std::vector<std::uint8_t> d = {
      0x05, 0x8c, 0x09, 0x02, 0xa1, 0x01,        // Bar Code Scanner application
      0x05, 0x01, 0x75, 0x08, 0x95, 0x10,        // page Generic Desktop, 16 bytes
      0x09, 0xfe, 0x05, 0x8c, 0x81, 0x02,        // Usage (0xFE), then page 0x8C, Input
      0x95, 0x01, 0x0b, 0x3b, 0x00, 0x01, 0x00,  // Usage 0x0001003B (Byte Count)
      0x81, 0x02, 0xc0};
  auto info = parse(d);
  BOOST_REQUIRE_MESSAGE(info.ok, info.error);
  BOOST_REQUIRE(info.pos);
  BOOST_TEST(info.pos->data_offset == 0u);
  BOOST_TEST(info.pos->data_size == 16u);
  BOOST_REQUIRE(info.pos->byte_count);
  BOOST_TEST(info.pos->byte_count->offset == 128u);
}

BOOST_AUTO_TEST_CASE(malformed_descriptors_are_rejected_with_a_reason) {
  struct Case {
    std::vector<std::uint8_t> bytes;
    std::string why;
  };
  std::vector<std::uint8_t> deep_push(9, 0xa4);
  const std::vector<Case> cases = {
      {{}, "empty report descriptor"},
      {{0x05}, "item 0x05 at offset 0 needs 1 data byte(s), 0 left"},
      {{0x05, 0x8c, 0x26, 0xff}, "item 0x26 at offset 2 needs 2 data byte(s), 1 left"},
      {{0xfe, 0x05, 0x00, 0x01}, "long item at offset 0 needs 5 data byte(s), 1 left"},
      {{0xfe, 0x05}, "long item at offset 0 is truncated"},
      {{0xb4}, "Pop without a Push at offset 0"},
      {deep_push, "Push deeper than 8 at offset 8"},
      {{0xc0}, "End Collection without a Collection at offset 0"},
      {{0x05, 0x01, 0x09, 0x06, 0xa1, 0x01}, "1 collection(s) not closed"},
      {{0x85, 0x00}, "Report ID 0 not in 1..255"},
      {{0x86, 0x00, 0x01}, "Report ID 256 not in 1..255"},
      {{0x76, 0x01, 0x01}, "Report Size 257 bits over 256"},
      {{0x96, 0x01, 0x40}, "Report Count 16385 over 12288"},
      {{0xc5, 0x00}, "reserved global item tag 0xc at offset 0"},
      {{0x0c}, "reserved item type (item 0x0c) at offset 0"},
      {{0x07, 0x00, 0x00, 0x01, 0x00}, "usage page 0x00010000 out of range"},
      {{0x19, 0x10, 0x29, 0x05}, "Usage Maximum 0x00000005 does not follow Usage Minimum"},
      {{0x75, 0x08, 0x95, 0x01, 0x81, 0x02, 0x85, 0x01, 0x81, 0x02},
       "main items without a Report ID beside items with one (offset 4)"},
      {{0x76, 0x00, 0x01, 0x96, 0x00, 0x30, 0x81, 0x02},
       "input report 0 longer than 16384 bytes at offset 6"},
  };
  for (const auto& c : cases) {
    auto info = parse(c.bytes);
    BOOST_TEST(!info.ok);
    BOOST_TEST(!info.pos);
    BOOST_TEST(contains(info.error, c.why), "'" << info.error << "' lacks '" << c.why << "'");
  }
}

// Every cut of a good descriptor, and every byte flipped: no crash, a verdict either way.
BOOST_AUTO_TEST_CASE(cut_and_corrupted_descriptors) {
  const auto& d = kPosScannerDescriptor;
  for (std::size_t n = 1; n < d.size(); ++n) {
    auto info = parse_hid_report_descriptor(d.data(), n);
    BOOST_TEST((info.ok || !info.error.empty()));
  }
  for (std::size_t i = 0; i < d.size(); ++i)
    for (std::uint8_t x : {0x01, 0x80, 0xff}) {
      auto c = d;
      c[i] ^= x;
      auto info = parse(c);
      BOOST_TEST((info.ok || !info.error.empty()));
      if (info.pos)
        BOOST_TEST(info.pos->data_offset + info.pos->data_size <= info.pos->report_size);
    }
}

BOOST_AUTO_TEST_CASE(report_descriptor_length_from_the_hid_descriptor) {
  const std::vector<std::uint8_t> hid = {0x09, 0x21, 0x11, 0x01, 0x00, 0x01, 0x22, 0x3f, 0x00};
  BOOST_TEST(hid_report_descriptor_length(hid.data(), hid.size()) == 63u);
  // After another class descriptor, with two descriptors listed.
  const std::vector<std::uint8_t> two = {0x03, 0x24, 0x00, 0x0c, 0x21, 0x11, 0x01, 0x00,
                                         0x02, 0x23, 0x10, 0x00, 0x22, 0x22, 0x01};
  BOOST_TEST(hid_report_descriptor_length(two.data(), two.size()) == 0x122u);
  const std::vector<std::uint8_t> bad = {0x00, 0x21, 0x11};
  BOOST_TEST(hid_report_descriptor_length(bad.data(), bad.size()) == 0u);
  BOOST_TEST(hid_report_descriptor_length(hid.data(), 8) == 0u);
  BOOST_TEST(hid_report_descriptor_length(nullptr, 0) == 0u);
}

BOOST_AUTO_TEST_CASE(bit_fields) {
  const std::uint8_t r[] = {0xb4, 0x0f, 0x80};
  BOOST_TEST(hid_extract(r, 3, {0, 8}) == 0xb4u);
  BOOST_TEST(hid_extract(r, 3, {2, 3}) == 0x5u);
  BOOST_TEST(hid_extract(r, 3, {4, 8}) == 0xfbu);
  BOOST_TEST(hid_extract(r, 3, {23, 1}) == 1u);
  BOOST_TEST(hid_extract(r, 3, {0, 24}) == 0x800fb4u);
  BOOST_TEST(hid_extract(r, 3, {20, 8}) == 0u);  // past the end
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(assembler)

BOOST_AUTO_TEST_CASE(gs1_128_over_two_reports_to_the_tracking_number) {
  HidPosAssembler a(pos_layout());
  auto reports = pos_reports("]C1", kGs1);
  BOOST_REQUIRE(reports.size() == 2u);
  BOOST_TEST(reports[0][63] == 1);
  auto ev = feed(a, reports[0]);
  BOOST_TEST(int(ev.kind) == int(Kind::Partial));
  BOOST_TEST(a.pending());
  ev = feed(a, reports[1]);
  BOOST_REQUIRE(int(ev.kind) == int(Kind::Read));
  BOOST_TEST(ev.text == "]C1" + kGs1);
  BOOST_TEST(ev.note.empty());
  BOOST_TEST(!a.pending());

  auto r = decode_read(ev.text, DecodeConfig{});
  BOOST_REQUIRE_MESSAGE(r.ok, r.error);
  BOOST_REQUIRE(r.read.codes.size() == 1u);
  BOOST_TEST(r.read.codes[0].symbology == "C1");
  BOOST_TEST(r.read.codes[0].text == "123456789012345675");
}

BOOST_AUTO_TEST_CASE(code128_and_utf8_qr_in_one_report) {
  HidPosAssembler a(pos_layout());
  auto ev = feed(a, pos_report("]C0", "SF1234567890123", false));
  BOOST_REQUIRE(int(ev.kind) == int(Kind::Read));
  BOOST_TEST(ev.text == "]C0SF1234567890123");
  const std::string qr = "顺丰 SF1234 杭州市萧山区";
  ev = feed(a, pos_report("]Q1", qr, false));
  BOOST_REQUIRE(int(ev.kind) == int(Kind::Read));
  auto r = decode_read(ev.text, DecodeConfig{});
  BOOST_REQUIRE_MESSAGE(r.ok, r.error);
  BOOST_TEST(r.read.codes[0].symbology == "Q1");
  BOOST_TEST(r.read.codes[0].text == qr);
  BOOST_TEST(r.warnings.empty());
}

BOOST_AUTO_TEST_CASE(garbage_is_rejected_with_a_reason) {
  HidPosAssembler a(pos_layout());
  // Byte count larger than the data field.
  auto bad = pos_report("]C0", "ABC", false);
  bad[1] = 80;
  auto ev = feed(a, bad);
  BOOST_TEST(int(ev.kind) == int(Kind::Rejected));
  BOOST_TEST(contains(ev.note, "byte count 80 is more than the 56 bytes"), ev.note);
  // A report cut short before its flag byte.
  auto cut = pos_report("]C0", "ABC", false);
  cut.resize(30);
  ev = feed(a, cut);
  BOOST_TEST(int(ev.kind) == int(Kind::Rejected));
  BOOST_TEST(contains(ev.note, "cut short: 30 byte(s), its fields need 64"), ev.note);
  // The byte count points past the end of a short report.
  auto shortr = pos_report("]C0", std::string(40, 'x'), false);
  shortr.resize(20);
  a.reset();
  HidPosLayout no_flag = pos_layout();
  no_flag.more.reset();
  HidPosAssembler b(no_flag);
  ev = feed(b, shortr);
  BOOST_TEST(int(ev.kind) == int(Kind::Rejected));
  BOOST_TEST(contains(ev.note, "byte count 40, only 15 byte(s)"), ev.note);
  // A truncated report in the middle of a read drops the read.
  auto two = pos_reports("]C1", kGs1);
  BOOST_TEST(int(feed(a, two[0]).kind) == int(Kind::Partial));
  ev = feed(a, cut);
  BOOST_TEST(int(ev.kind) == int(Kind::Rejected));
  BOOST_TEST(contains(ev.note, "read in progress, 56 byte(s), dropped too"), ev.note);
  BOOST_TEST(!a.pending());
  // Another report ID: not ours, ignored.
  auto other = pos_report("]C0", "X", false);
  other[0] = 4;
  ev = feed(a, other);
  BOOST_TEST(int(ev.kind) == int(Kind::None));
  BOOST_TEST(contains(ev.note, "report 4 is not the Scanned Data report"), ev.note);
  // Nothing at all.
  ev = a.report(nullptr, 0);
  BOOST_TEST(int(ev.kind) == int(Kind::None));
  ev = feed(a, pos_report("", "", false));
  BOOST_TEST(int(ev.kind) == int(Kind::None));
  // And a good read still comes through.
  ev = feed(a, pos_report("]C0", "OK1", false));
  BOOST_TEST(ev.text == "]C0OK1");
}

BOOST_AUTO_TEST_CASE(a_read_that_never_ends_is_dropped_when_idle) {
  HidPosAssembler a(pos_layout());
  BOOST_TEST(int(feed(a, pos_report("]C1", "0012345", true)).kind) == int(Kind::Partial));
  auto ev = a.idle();
  BOOST_TEST(int(ev.kind) == int(Kind::Rejected));
  BOOST_TEST(contains(ev.note, "7 byte(s) ]C1 dropped"), ev.note);
  BOOST_TEST(int(a.idle().kind) == int(Kind::None));
}

BOOST_AUTO_TEST_CASE(a_new_symbology_mid_read_drops_the_cut_read) {
  HidPosAssembler a(pos_layout());
  feed(a, pos_report("]C1", "0012345", true));
  auto ev = feed(a, pos_report("]Q1", "NEXT", false));
  BOOST_TEST(ev.dropped);
  BOOST_TEST(contains(ev.note, "read cut short (]C1, 7 byte(s))"), ev.note);
  BOOST_REQUIRE(int(ev.kind) == int(Kind::Read));
  BOOST_TEST(ev.text == "]Q1NEXT");
}

BOOST_AUTO_TEST_CASE(over_long_read_is_dropped_whole) {
  HidPosAssembler a(pos_layout(), 100);
  auto reports = pos_reports("]Q1", std::string(150, 'z'));
  BOOST_REQUIRE(reports.size() == 3u);
  BOOST_TEST(int(feed(a, reports[0]).kind) == int(Kind::Partial));
  auto ev = feed(a, reports[1]);
  BOOST_TEST(int(ev.kind) == int(Kind::Rejected));
  BOOST_TEST(contains(ev.note, "longer than 100 bytes"), ev.note);
  BOOST_TEST(int(feed(a, reports[2]).kind) == int(Kind::None));  // the rest, discarded
  ev = feed(a, pos_report("]C0", "AFTER", false));
  BOOST_TEST(ev.text == "]C0AFTER");
}

BOOST_AUTO_TEST_CASE(symbology_bytes_that_are_not_aim) {
  HidPosAssembler a(pos_layout());
  auto ev = feed(a, pos_report("j\x01\x02", "CODE", false));
  BOOST_REQUIRE(int(ev.kind) == int(Kind::Read));
  BOOST_TEST(ev.text == "CODE");
  BOOST_TEST(contains(ev.note, "not an AIM identifier"), ev.note);
  ev = feed(a, pos_report(std::string(3, '\0'), "PLAIN", false));
  BOOST_TEST(ev.text == "PLAIN");
  BOOST_TEST(ev.note.empty());
}

BOOST_AUTO_TEST_SUITE_END()
