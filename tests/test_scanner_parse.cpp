// Scanner framing parser, read decoder, GS1 element strings, HID keyboard reports and option
// checking: every framing option and edge case, on the real parser code.
#define BOOST_TEST_MODULE scanner_parse
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>
#include <vector>

#include "scanner/decode.h"
#include "scanner/framing.h"
#include "scanner/gs1.h"
#include "scanner/hid_keyboard.h"
#include "scanner/scanner.h"

namespace sortd {
std::ostream& operator<<(std::ostream& os, const Code& c) {
  return os << "]" << c.symbology << " " << c.text;
}
namespace dev::scanner {
std::ostream& operator<<(std::ostream& os, const Gs1Element& e) {
  return os << "(" << e.ai << ")" << e.value;
}
}  // namespace dev::scanner
}  // namespace sortd

using namespace sortd;
using namespace sortd::dev::scanner;

namespace {

struct Out {
  std::vector<std::string> frames, drops;
};

Out run(FrameParser& p, const std::vector<std::string>& packets, bool idle = false) {
  std::vector<FrameItem> items;
  for (const auto& pk : packets) p.feed(pk, items);
  if (idle) p.idle(items);
  Out o;
  for (auto& i : items) (i.ok ? o.frames : o.drops).push_back(i.text);
  return o;
}

FramingConfig preset(const char* name) {
  FramingConfig f;
  BOOST_REQUIRE(framing_preset(name, f));
  return f;
}

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(framing)

BOOST_AUTO_TEST_CASE(crlf_split_over_packets_and_many_per_packet) {
  FrameParser p(preset("crlf"));
  auto o = run(p, {"ABC", "123\r", "\nDEF\r\nGHI\r\n", "J"});
  BOOST_TEST(o.frames == (std::vector<std::string>{"ABC123", "DEF", "GHI"}));
  BOOST_TEST(o.drops.empty());
  BOOST_TEST(p.pending());  // "J" waits for its terminator
  o = run(p, {"KL\r\n"});
  BOOST_TEST(o.frames == (std::vector<std::string>{"JKL"}));
}

BOOST_AUTO_TEST_CASE(cr_and_lf_terminators) {
  FrameParser cr(preset("cr"));
  auto o = run(cr, {"A1\rB2\r\r"});
  BOOST_TEST(o.frames == (std::vector<std::string>{"A1", "B2"}));  // empty line skipped
  FrameParser lf(preset("lf"));
  o = run(lf, {"X\nY", "\n"});
  BOOST_TEST(o.frames == (std::vector<std::string>{"X", "Y"}));
}

BOOST_AUTO_TEST_CASE(line_accepts_cr_lf_and_crlf) {
  FrameParser p(preset("line"));
  auto o = run(p, {"A\rB\nC\r", "\nD\r\n\r\n"});
  BOOST_TEST(o.frames == (std::vector<std::string>{"A", "B", "C", "D"}));
  BOOST_TEST(o.drops.empty());
}

BOOST_AUTO_TEST_CASE(stx_etx_with_garbage_between_frames) {
  FrameParser p(preset("stx-etx"));
  auto o = run(p, {"noise\x02", "ABC\x03\r\n", "\x02", "DEF\x03zz\x02GH", "I\x03"});
  BOOST_TEST(o.frames == (std::vector<std::string>{"ABC", "DEF", "GHI"}));
  BOOST_REQUIRE_EQUAL(o.drops.size(), 2u);  // CR LF after ETX is not garbage
  BOOST_TEST(contains(o.drops[0], "5 byte(s) of garbage"));
  BOOST_TEST(contains(o.drops[0], "noise"));
  BOOST_TEST(contains(o.drops[1], "2 byte(s) of garbage"));
}

BOOST_AUTO_TEST_CASE(frame_restarted_before_its_end) {
  FrameParser p(preset("stx-etx"));
  auto o = run(p, {"\x02"
                   "ABC\x02"
                   "DEF\x03"});
  BOOST_TEST(o.frames == (std::vector<std::string>{"DEF"}));
  BOOST_REQUIRE_EQUAL(o.drops.size(), 1u);
  BOOST_TEST(contains(o.drops[0], "restarted"));
  BOOST_TEST(contains(o.drops[0], "ABC"));
}

BOOST_AUTO_TEST_CASE(multi_byte_prefix_and_suffix_split_anywhere) {
  FramingConfig f;
  f.prefix = "<S>";
  f.suffix = "<E>\r\n";
  std::string stream = "xx<S>CODE1<E>\r\n<<S>CODE2<E>\r\n";
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    FrameParser p(f);
    auto o = run(p, {stream.substr(0, cut), stream.substr(cut)});
    BOOST_TEST(o.frames == (std::vector<std::string>{"CODE1", "CODE2"}), "cut at " << cut);
    BOOST_TEST(o.drops.size() == 2u, "cut at " << cut);  // "xx" and "<"
  }
}

BOOST_AUTO_TEST_CASE(byte_at_a_time_equals_all_at_once) {
  FramingConfig f = preset("stx-etx");
  std::string stream =
      "\x02]C1\x1d"
      "00123456789012345675\x03\r\n\x02NoRead\x03junk\x02Q\x03";
  FrameParser a(f), b(f);
  auto whole = run(a, {stream});
  std::vector<std::string> bytes;
  for (char c : stream) bytes.emplace_back(1, c);
  auto single = run(b, bytes);
  BOOST_TEST(whole.frames == single.frames);
  BOOST_TEST(whole.drops == single.drops);
  BOOST_TEST(whole.frames.size() == 3u);
}

BOOST_AUTO_TEST_CASE(over_long_frame_is_dropped_and_the_parser_resyncs) {
  FramingConfig f = preset("crlf");
  f.max_frame = 16;
  FrameParser p(f);
  auto o = run(p, {std::string(40, 'X'), std::string(1000, 'Y'), "\r\nOK\r\n"});
  BOOST_TEST(o.frames == (std::vector<std::string>{"OK"}));
  BOOST_REQUIRE_EQUAL(o.drops.size(), 1u);
  BOOST_TEST(contains(o.drops[0], "longer than 16 bytes"));

  // With a prefix the parser hunts for the next frame start.
  FramingConfig g = preset("stx-etx");
  g.max_frame = 8;
  FrameParser q(g);
  o = run(q, {"\x02"
              "0123456789ABCDEF",
              "more\x03",
              "\x02"
              "SHORT\x03"});
  BOOST_TEST(o.frames == (std::vector<std::string>{"SHORT"}));
  BOOST_TEST(contains(o.drops.at(0), "longer than 8 bytes"));
}

BOOST_AUTO_TEST_CASE(endless_garbage_is_reported_in_bounded_chunks) {
  FramingConfig f = preset("stx-etx");
  f.max_frame = 100;
  FrameParser p(f);
  auto o = run(p, {std::string(1000, 'g')});
  BOOST_TEST(o.frames.empty());
  BOOST_TEST(o.drops.size() >= 9u);  // reported as it goes, nothing kept without bound
}

BOOST_AUTO_TEST_CASE(idle_ends_a_frame_without_terminator_or_drops_an_incomplete_one) {
  FrameParser none(preset("none"));
  auto o = run(none, {"ABC", "DEF"}, true);
  BOOST_TEST(o.frames == (std::vector<std::string>{"ABCDEF"}));

  FrameParser crlf(preset("crlf"));
  o = run(crlf, {"HALF"}, true);
  BOOST_TEST(o.frames.empty());
  BOOST_REQUIRE_EQUAL(o.drops.size(), 1u);
  BOOST_TEST(contains(o.drops[0], "incomplete frame"));
  o = run(crlf, {"NEXT\r\n"});  // the cut frame does not glue onto the next one
  BOOST_TEST(o.frames == (std::vector<std::string>{"NEXT"}));
}

BOOST_AUTO_TEST_CASE(prefix_only_frames_end_at_the_next_prefix) {
  FramingConfig f;
  f.prefix = "\x02";
  f.suffix = "";
  FrameParser p(f);
  auto o = run(p,
               {"\x02"
                "A1\x02"
                "B2\x02"
                "C3"},
               true);
  BOOST_TEST(o.frames == (std::vector<std::string>{"A1", "B2", "C3"}));
}

BOOST_AUTO_TEST_CASE(escapes_and_printable) {
  std::string out, err;
  BOOST_TEST(parse_escaped("<STX>ab\\r\\n\\x1D<gs>\\\\", out, err));
  BOOST_TEST(out == std::string("\x02"
                                "ab\r\n\x1d\x1d\\"));
  BOOST_TEST(!parse_escaped("ab\\q", out, err));
  BOOST_TEST(contains(err, "unknown escape '\\q' at position 3"));
  BOOST_TEST(!parse_escaped("<FOO>", out, err));
  BOOST_TEST(contains(err, "unknown control name <FOO>"));
  BOOST_TEST(!parse_escaped("\\x4", out, err));
  BOOST_TEST(!parse_escaped("<STX", out, err));
  BOOST_TEST(printable("\x02"
                       "A\x1d\xff") == "<STX>A<GS>\\xFF");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(decoder)

BOOST_AUTO_TEST_CASE(single_code_with_and_without_aim) {
  DecodeConfig c;
  auto r = decode_read("]C0SF1234567890", c);
  BOOST_REQUIRE(r.ok);
  BOOST_REQUIRE_EQUAL(r.read.codes.size(), 1u);
  BOOST_TEST(r.read.codes[0].text == "SF1234567890");
  BOOST_TEST(r.read.codes[0].symbology == "C0");
  r = decode_read("  YT9876543210 ", c);
  BOOST_REQUIRE(r.ok);
  BOOST_TEST(r.read.codes[0].text == "YT9876543210");
  BOOST_TEST(r.read.codes[0].symbology == "");
  c.aim = AimMode::Off;
  r = decode_read("]C0SF1", c);
  BOOST_TEST(r.read.codes[0].text == "]C0SF1");
  c.aim = AimMode::On;
  r = decode_read("SF1", c);
  BOOST_REQUIRE(r.ok);
  BOOST_TEST(r.warnings.size() == 1u);
}

BOOST_AUTO_TEST_CASE(aim_identifiers) {
  std::string sym;
  std::string_view rest;
  for (const char* id : {"]C1", "]Q1", "]d2", "]E0", "]A0", "]e0", "]I1", "]L2", "]z0", "]Q3"}) {
    std::string s = std::string(id) + "DATA";
    BOOST_TEST(split_aim(s, sym, rest), id);
    BOOST_TEST(sym == std::string(id + 1));
    BOOST_TEST(rest == "DATA");
  }
  BOOST_TEST(!split_aim("]1ABC", sym, rest));
  BOOST_TEST(!split_aim("]C", sym, rest));
  BOOST_TEST(!split_aim("C1ABC", sym, rest));
}

BOOST_AUTO_TEST_CASE(no_read_and_multi_read) {
  DecodeConfig c;
  c.separator = ",";
  auto r = decode_read("NoRead", c);
  BOOST_REQUIRE(r.ok);
  BOOST_TEST(r.read.no_read);
  BOOST_TEST(r.read.codes.empty());
  r = decode_read("NoRead,NoRead", c);
  BOOST_TEST(r.read.no_read);
  r = decode_read("]C0AAA,]Q1BBB,NoRead", c);
  BOOST_REQUIRE(r.ok);
  BOOST_TEST(!r.read.no_read);
  BOOST_REQUIRE_EQUAL(r.read.codes.size(), 2u);
  BOOST_TEST(r.read.codes[0] == (Code{"AAA", "C0"}));
  BOOST_TEST(r.read.codes[1] == (Code{"BBB", "Q1"}));
  BOOST_TEST(r.warnings.size() == 1u);
  c.no_read = "NR";
  r = decode_read("NR", c);
  BOOST_TEST(r.read.no_read);
  r = decode_read("NoRead", c);
  BOOST_TEST(!r.read.no_read);  // now an ordinary code
}

BOOST_AUTO_TEST_CASE(multi_char_separator_and_empty_parts) {
  DecodeConfig c;
  c.separator = "||";
  auto r = decode_read("A||||B", c);
  BOOST_REQUIRE(r.ok);
  BOOST_REQUIRE_EQUAL(r.read.codes.size(), 2u);
  BOOST_TEST(r.read.codes[1].text == "B");
  BOOST_TEST(!r.warnings.empty());
}

BOOST_AUTO_TEST_CASE(tracking_id_echoed_by_the_reader) {
  DecodeConfig c;
  c.tracking_sep = ":";
  c.separator = ",";
  auto r = decode_read("4711:AAA,BBB", c);
  BOOST_REQUIRE(r.ok);
  BOOST_TEST(r.read.tracking_id == 4711u);
  BOOST_TEST(r.read.codes.size() == 2u);
  r = decode_read("4711:NoRead", c);
  BOOST_TEST(r.read.no_read);
  BOOST_TEST(r.read.tracking_id == 4711u);
  r = decode_read("47a1:AAA", c);
  BOOST_TEST(!r.ok);
  BOOST_TEST(contains(r.error, "non-digit at offset 2"));
  r = decode_read("99999999999:AAA", c);
  BOOST_TEST(!r.ok);
  r = decode_read("AAA", c);
  BOOST_TEST(!r.ok);
  BOOST_TEST(contains(r.error, "no tracking id"));
}

BOOST_AUTO_TEST_CASE(garbage_is_rejected_with_what_and_where) {
  DecodeConfig c;
  auto r = decode_read(
      "AB\x07"
      "CD",
      c);
  BOOST_TEST(!r.ok);
  BOOST_TEST(contains(r.error, "control byte <BEL> at offset 2"));
  r = decode_read("   ", c);
  BOOST_TEST(!r.ok);
  BOOST_TEST(contains(r.error, "empty"));
  r = decode_read("]C0", c);
  BOOST_TEST(!r.ok);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_replaced_not_passed_on) {
  DecodeConfig c;
  auto r = decode_read(
      "AB\xff\xfe"
      "C",
      c);
  BOOST_REQUIRE(r.ok);
  BOOST_TEST(r.read.codes[0].text ==
             "AB\xEF\xBF\xBD\xEF\xBF\xBD"
             "C");
  r = decode_read("\xe4\xb8\xad\xe6\x96\x87", c);  // valid UTF-8 (Chinese) stays as it is
  BOOST_TEST(r.read.codes[0].text == "\xe4\xb8\xad\xe6\x96\x87");
  BOOST_TEST(r.warnings.empty());
}

BOOST_AUTO_TEST_CASE(gs1_128_tracking_number_by_rule) {
  DecodeConfig c;
  // SSCC wins over the rest.
  auto r = decode_read(
      "]C1"
      "00123456789012345675"
      "\x1d"
      "421276D10115",
      c);
  BOOST_REQUIRE(r.ok);
  BOOST_TEST(r.read.codes[0].text == "123456789012345675");
  BOOST_TEST(r.read.codes[0].symbology == "C1");
  // No SSCC: GSIN (402) before GINC (401).
  r = decode_read(
      "]C1"
      "401"
      "SHIPX123"
      "\x1d"
      "40212345678901234560",
      c);
  BOOST_REQUIRE(r.ok);
  BOOST_TEST(r.read.codes[0].text == "12345678901234560");
  r = decode_read(
      "]C1"
      "401"
      "CN-GINC-77"
      "\x1d"
      "420"
      "100086",
      c);
  BOOST_TEST(r.read.codes[0].text == "CN-GINC-77");
  // No tracking AI: the human-readable element string.
  r = decode_read(
      "]C1"
      "0109501101020917"
      "17250101"
      "10ABC",
      c);
  BOOST_TEST(r.read.codes[0].text == "(01)09501101020917(17)250101(10)ABC");
  // FNC1 sent as a leading GS without AIM identifier (keyboard wedge).
  r = decode_read(
      "\x1d"
      "00123456789012345675",
      c);
  BOOST_TEST(r.read.codes[0].text == "123456789012345675");
  // HRI form.
  r = decode_read("(00)123456789012345675(420)100086", c);
  BOOST_TEST(r.read.codes[0].text == "123456789012345675");
  // Configured priority.
  c.gs1_ais = {"420"};
  r = decode_read(
      "]C1"
      "00123456789012345675"
      "420"
      "100086",
      c);
  BOOST_TEST(r.read.codes[0].text == "100086");
  // GS1 decoding off: the raw text.
  c.gs1 = false;
  r = decode_read(
      "]C1"
      "00123456789012345675",
      c);
  BOOST_TEST(r.read.codes[0].text == "00123456789012345675");
}

BOOST_AUTO_TEST_CASE(broken_gs1_is_kept_as_read_with_a_warning) {
  DecodeConfig c;
  auto r = decode_read(
      "]C1"
      "00123456789012345670",
      c);  // wrong check digit
  BOOST_REQUIRE(r.ok);
  BOOST_TEST(r.read.codes[0].text == "00123456789012345670");
  BOOST_REQUIRE_EQUAL(r.warnings.size(), 1u);
  BOOST_TEST(contains(r.warnings[0], "wrong check digit"));
  // A code that merely starts with '(' is not GS1 and not a problem.
  r = decode_read("(HELLO)", c);
  BOOST_TEST(r.read.codes[0].text == "(HELLO)");
  BOOST_TEST(r.warnings.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gs1)

BOOST_AUTO_TEST_CASE(fixed_and_variable_fields) {
  auto g = parse_gs1(
      "\x1d"
      "0109501101020917"
      "3103000123"
      "10LOT7"
      "\x1d"
      "21SER9");
  BOOST_REQUIRE_MESSAGE(g.ok, g.error);
  BOOST_TEST(g.elements ==
             (std::vector<Gs1Element>{
                 {"01", "09501101020917"}, {"3103", "000123"}, {"10", "LOT7"}, {"21", "SER9"}}));
  BOOST_TEST(gs1_hri(g.elements) == "(01)09501101020917(3103)000123(10)LOT7(21)SER9");
  g = parse_gs1(
      "421"
      "156"
      "200000"
      "\x1d"
      "00123456789012345675");
  BOOST_REQUIRE_MESSAGE(g.ok, g.error);
  BOOST_TEST(g.elements[0] == (Gs1Element{"421", "156200000"}));
}

BOOST_AUTO_TEST_CASE(errors_say_what_and_where) {
  auto g = parse_gs1("0012345");
  BOOST_TEST(!g.ok);
  BOOST_TEST(contains(g.error, "needs 18 characters"));
  g = parse_gs1(
      "00123456789012345675"
      "55XX");
  BOOST_TEST(!g.ok);
  BOOST_TEST(contains(g.error, "no GS1 AI starts with '55' (offset 20)"));
  g = parse_gs1(
      "401"
      "\x1d");
  BOOST_TEST(!g.ok);
  g = parse_gs1(
      "421"
      "ABC123");
  BOOST_TEST(!g.ok);
  BOOST_TEST(contains(g.error, "start with 3 digits"));
  g = parse_gs1("10" + std::string(21, 'A'));
  BOOST_TEST(!g.ok);
  BOOST_TEST(contains(g.error, "expected 1..20"));
  g = parse_gs1_hri("(00)123(");
  BOOST_TEST(!g.ok);
  g = parse_gs1_hri("(5)ABC");
  BOOST_TEST(!g.ok);
}

BOOST_AUTO_TEST_CASE(check_digits) {
  BOOST_TEST(gs1_check_digit_ok("123456789012345675"));  // SSCC
  BOOST_TEST(!gs1_check_digit_ok("123456789012345676"));
  BOOST_TEST(gs1_check_digit_ok("09501101020917"));  // GTIN-14
  BOOST_TEST(gs1_check_digit_ok("4006381333931"));   // EAN-13
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(hid_keyboard)

std::string type_and_read(KeyLayout l, const std::string& text) {
  std::vector<std::vector<std::uint8_t>> reports;
  BOOST_REQUIRE(HidKeyboard::type(l, text, reports));
  HidKeyboard kb(l);
  std::string out, why;
  for (auto& r : reports) BOOST_REQUIRE(kb.report(r.data(), r.size(), out, &why));
  return out;
}

BOOST_AUTO_TEST_CASE(us_layout_with_shift_and_enter) {
  HidKeyboard kb(KeyLayout::US);
  std::string out, why;
  // 'S' (shift + s), release, 'f', '1', Enter.
  std::vector<std::vector<std::uint8_t>> r = {
      {0x02, 0, 0x16, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0},    {0, 0, 0x09, 0, 0, 0, 0, 0},
      {0, 0, 0, 0, 0, 0, 0, 0},       {0, 0, 0x1e, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0},
      {0x20, 0, 0x1f, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0},    {0, 0, 0x28, 0, 0, 0, 0, 0},
      {0, 0, 0, 0, 0, 0, 0, 0}};
  for (auto& x : r) BOOST_REQUIRE(kb.report(x.data(), x.size(), out, &why));
  BOOST_TEST(out == "Sf1@\r");
}

BOOST_AUTO_TEST_CASE(held_key_counts_once_and_rollover_is_ignored) {
  HidKeyboard kb(KeyLayout::US);
  std::string out, why;
  std::uint8_t a[8] = {0, 0, 0x04, 0, 0, 0, 0, 0};
  std::uint8_t ab[8] = {0, 0, 0x04, 0x05, 0, 0, 0, 0};
  std::uint8_t rollover[8] = {0, 0, 1, 1, 1, 1, 1, 1};
  std::uint8_t none[8] = {};
  kb.report(a, 8, out, &why);
  kb.report(a, 8, out, &why);   // still held: no repeat
  kb.report(ab, 8, out, &why);  // b pressed while a held
  BOOST_TEST(!kb.report(rollover, 8, out, &why));
  BOOST_TEST(contains(why, "rollover"));
  kb.report(none, 8, out, &why);
  kb.report(a, 8, out, &why);  // pressed again after release
  BOOST_TEST(out == "aba");
  BOOST_TEST(!kb.report(a, 2, out, &why));  // too short
}

BOOST_AUTO_TEST_CASE(ctrl_bracket_and_alt_codes_give_gs) {
  HidKeyboard kb(KeyLayout::US);
  std::string out, why;
  std::uint8_t ctrl_rb[8] = {0x01, 0, 0x30, 0, 0, 0, 0, 0};
  std::uint8_t none[8] = {};
  kb.report(ctrl_rb, 8, out, &why);
  kb.report(none, 8, out, &why);
  BOOST_TEST(out == "\x1d");
  BOOST_TEST(type_and_read(KeyLayout::DE, std::string("00\x1d"
                                                      "401X\r")) == std::string("00\x1d"
                                                                                "401X\r"));
}

BOOST_AUTO_TEST_CASE(layouts_round_trip) {
  const std::string ascii = "SF1234567890 abc-XYZ_(00)/.;:@#\r";
  BOOST_TEST(type_and_read(KeyLayout::US, ascii) == ascii);
  BOOST_TEST(type_and_read(KeyLayout::UK, ascii) == ascii);
  BOOST_TEST(type_and_read(KeyLayout::DE, ascii) == ascii);
  BOOST_TEST(type_and_read(KeyLayout::FR, ascii) == ascii);
  // The same key codes mean different text on different layouts (QWERTZ: y/z swapped).
  std::vector<std::vector<std::uint8_t>> reports;
  HidKeyboard::type(KeyLayout::US, "zy1", reports);
  HidKeyboard de(KeyLayout::DE), fr(KeyLayout::FR);
  std::string de_out, fr_out, why;
  for (auto& r : reports) {
    de.report(r.data(), r.size(), de_out, &why);
    fr.report(r.data(), r.size(), fr_out, &why);
  }
  BOOST_TEST(de_out == "yz1");
  BOOST_TEST(fr_out == "wy&");  // AZERTY: digits need shift
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(options)

StationConfig::Device dev(const std::string& driver, std::map<std::string, std::string> opts) {
  StationConfig::Device d;
  d.name = "scan1";
  d.kind = "scanner";
  d.driver = driver;
  d.options = std::move(opts);
  return d;
}

// The same reading the registry's check functions do (devices/scanner/drivers.cpp).
std::vector<std::string> check(const StationConfig::Device& d) {
  Options o(d);
  if (d.driver == "usb-hid")
    read_usb_hid_config(o);
  else if (d.driver == "serial")
    read_serial_config(o);
  else if (d.driver == "tcp-client")
    read_tcp_config(o, false);
  else if (d.driver == "tcp-server")
    read_tcp_config(o, true);
  else
    BOOST_FAIL("no driver " + d.driver);
  return o.finish();
}

BOOST_AUTO_TEST_CASE(good_options_pass) {
  BOOST_TEST(check(dev("tcp-client", {{"host", "10.0.0.5"},
                                      {"port", "2001"},
                                      {"framing", "stx-etx"},
                                      {"separator", ","},
                                      {"no_read", "NR"},
                                      {"aim", "on"}}))
                 .empty());
  BOOST_TEST(check(dev("tcp-server", {{"port", "0"}, {"trigger", "<STX>T<ETX>"}})).empty());
  BOOST_TEST(check(dev("serial", {{"device", "/dev/ttyACM0"},
                                  {"baud", "115200"},
                                  {"parity", "even"},
                                  {"data_bits", "7"},
                                  {"suffix", "crlf"}}))
                 .empty());
  BOOST_TEST(check(dev("usb-hid", {{"vendor_id", "0x05e0"},
                                   {"product_id", "0x1200"},
                                   {"layout", "de"},
                                   {"suffix", "tab"}}))
                 .empty());
  for (const char* mode : {"auto", "keyboard", "pos"})
    BOOST_TEST(
        check(dev("usb-hid", {{"vendor_id", "0x05e0"}, {"product_id", "0x1300"}, {"mode", mode}}))
            .empty());
}

BOOST_AUTO_TEST_CASE(usb_hid_mode) {
  auto cfg = [](std::map<std::string, std::string> o) {
    o["vendor_id"] = "1504";
    o["product_id"] = "0x1300";
    StationConfig::Device d = dev("usb-hid", o);
    Options opts(d);
    return read_usb_hid_config(opts);
  };
  BOOST_TEST(int(cfg({}).mode) == int(UsbHidMode::Auto));
  BOOST_TEST(int(cfg({{"mode", "keyboard"}}).mode) == int(UsbHidMode::Keyboard));
  BOOST_TEST(int(cfg({{"mode", "pos"}}).mode) == int(UsbHidMode::Pos));
  auto p = check(
      dev("usb-hid", {{"vendor_id", "0x05e0"}, {"product_id", "0x1300"}, {"mode", "hidpos"}}));
  BOOST_REQUIRE_EQUAL(p.size(), 1u);
  BOOST_TEST(p[0] == "mode: 'hidpos' is not one of auto, keyboard, pos");
  // A HID POS scanner sends text: a keyboard layout with mode = "pos" is a mistake.
  p = check(
      dev("usb-hid",
          {{"vendor_id", "0x05e0"}, {"product_id", "0x1300"}, {"mode", "pos"}, {"layout", "de"}}));
  BOOST_REQUIRE_EQUAL(p.size(), 1u);
  BOOST_TEST(contains(p[0], "layout: a HID POS scanner sends text, not keys"));
}

BOOST_AUTO_TEST_CASE(bad_options_get_clear_messages) {
  auto p = check(dev(
      "serial", {{"baud", "9601"}, {"parity", "mark"}, {"prefix", "<BOGUS>"}, {"colour", "red"}}));
  auto has = [&](const std::string& what) {
    for (const auto& m : p)
      if (contains(m, what)) return true;
    BOOST_TEST_MESSAGE("missing: " << what);
    return false;
  };
  BOOST_TEST(has("device: missing"));
  BOOST_TEST(has("baud: 9601 is not a supported rate"));
  BOOST_TEST(has("parity: 'mark' is not one of"));
  BOOST_TEST(has("prefix: unknown control name <BOGUS>"));
  BOOST_TEST(has("colour: unknown option"));
  p = check(dev("usb-hid", {{"vendor_id", "0xZZ"}, {"layout", "klingon"}}));
  BOOST_TEST(has("vendor_id: '0xZZ' is not a number"));
  BOOST_TEST(has("product_id: missing"));
  BOOST_TEST(has("layout: 'klingon'"));
  p = check(dev("tcp-client", {{"port", "70000"}, {"separator", "<GS>"}}));
  BOOST_TEST(has("host: missing"));
  BOOST_TEST(has("port: 70000 is out of range"));
  BOOST_TEST(has("separator: GS is the GS1 FNC1"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gs1_hri_form)

// Found by the fuzzer: a '(' inside a value is part of the value, not the start of an AI.
BOOST_AUTO_TEST_CASE(parenthesis_inside_a_value) {
  auto g = parse_gs1("7290127(");
  BOOST_REQUIRE_MESSAGE(g.ok, g.error);
  auto back = parse_gs1_hri(gs1_hri(g.elements));
  BOOST_REQUIRE_MESSAGE(back.ok, back.error);
  BOOST_TEST(back.elements == g.elements);
  back = parse_gs1_hri("(401)A(B)C(00)123456789012345675");
  BOOST_REQUIRE_MESSAGE(back.ok, back.error);
  BOOST_TEST(back.elements[0].value == "A(B)C");
  BOOST_TEST(back.elements[1].ai == "00");
}

BOOST_AUTO_TEST_SUITE_END()
