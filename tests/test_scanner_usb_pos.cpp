// USB HID POS bar code scanner: the real libusb driver against a fake scanner emulated by umockdev
// (scanner_usb_fake.h). The fake is a composite device like a Honeywell scanner in "HID POS"
// mode: interface 0 a boot keyboard, interface 1 the Bar Code Scanner (usage page 0x8C) with the
// Scanned Data report of scanner_hid_descriptors.h. Covers: auto mode reads the report
// descriptors and picks the POS interface (detach, claim), a GS1-128 code split over two
// reports, a Code 128 in one, a UTF-8 QR code, garbage between reads, unplug and replug; forced
// keyboard mode on the same device; forced POS mode on a keyboard-only scanner.
#define BOOST_TEST_MODULE scanner_usb_pos
#include <boost/test/unit_test.hpp>

#include <thread>

#include "scanner/hid_keyboard.h"
#include "scanner_hid_descriptors.h"
#include "scanner_usb_fake.h"

using namespace sortd;
using namespace sortd::dev::scanner;
using namespace scanner_test;

namespace {

constexpr std::uint8_t kKeyboardEp = 0x81, kPosEp = 0x82;

// Device, configuration (2 interfaces, 59 bytes), interface 0 (HID boot keyboard, EP 0x81, 8
// bytes) and interface 1 (HID, no boot protocol, EP 0x82, 64 bytes), each with its HID
// descriptor giving the report descriptor's length.
FakeDevice pos_scanner() {
  std::string d = std::string(
                      "12010002000000"
                      "40"
                      "e005"
                      "0013"
                      "0001"
                      "010203"
                      "01"
                      "09023b00020100a032"
                      "090400000103010100"
                      "09211101000122") +
                  hex16(kBootKeyboardDescriptor.size()) +
                  "0705810308000a"
                  "090401000103000000"
                  "09211101000122" +
                  hex16(kPosScannerDescriptor.size()) + "07058203400001";
  return {d, {{0, kBootKeyboardDescriptor}, {1, kPosScannerDescriptor}}};
}

const std::string kGs1 =
    "421156310000"
    "\x1d"
    "400PO-2026-11-22-00042"
    "\x1d"
    "00123456789012345675"
    "3103001250";

}  // namespace

BOOST_AUTO_TEST_CASE(hid_pos_scanner_under_umockdev) {
  Testbed tb;
  FakeScanner fake(tb.get(), pos_scanner());
  fake.plug_in_first_time();
  Recorder rec;
  UsbHidScanner drv(usb_config("0x05e0", "0x1300"));  // mode = "auto"
  std::jthread t([&](std::stop_token st) { drv.run(rec.host, st); });

  // Auto: the non-boot interface is asked for its report descriptor first, offers page 0x8C,
  // and is the one detached and claimed; the keyboard interface stays with the kernel.
  auto s = rec.next_status();
  BOOST_REQUIRE(s);
  BOOST_TEST_MESSAGE("status: " << s->up << " " << s->detail);
  BOOST_REQUIRE(s->up);
  BOOST_TEST(s->detail.find("interface 1, HID POS report 2") != std::string::npos, s->detail);
  BOOST_TEST(fake.detaches() == 1);
  BOOST_TEST(fake.claimed() == (std::vector<int>{1}));
  BOOST_TEST(fake.kernel_driver_bound(0));
  // GET_DESCRIPTOR(Report) to interface 1 only, wLength from its HID descriptor.
  auto asked = fake.report_descriptor_requests();
  BOOST_REQUIRE(asked.size() == 1u);
  BOOST_TEST(asked[0].first == 1);
  BOOST_TEST(asked[0].second == static_cast<int>(kPosScannerDescriptor.size()));
  BOOST_TEST(!fake.requested(0x0b));  // no SET_PROTOCOL: not a boot interface

  // GS1-128 with AIM ]C1 and GS separators, 66 bytes: two reports.
  auto gs1 = pos_reports("]C1", kGs1);
  BOOST_REQUIRE(gs1.size() == 2u);
  fake.push(gs1, kPosEp);
  auto r = rec.next_read();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->scanner == "scan-test");
  BOOST_TEST(texts(*r) == (std::vector<std::string>{"123456789012345675"}));
  BOOST_TEST(r->codes[0].symbology == "C1");

  // Garbage (a byte count past the data field, a cut report) is dropped; Code 128 in one report.
  auto bad = pos_report("]C0", "XX", false);
  bad[1] = 200;
  auto cut = pos_report("]C0", "YY", false);
  cut.resize(20);
  fake.push({bad, cut, pos_report("]C0", "SF1234567890123", false)}, kPosEp);
  r = rec.next_read();
  BOOST_REQUIRE(r);
  BOOST_TEST(texts(*r) == (std::vector<std::string>{"SF1234567890123"}));
  BOOST_TEST(r->codes[0].symbology == "C0");

  // QR with UTF-8 text.
  const std::string qr = "顺丰速运 SF1234567890123 浙江省杭州市萧山区";
  fake.push(pos_reports("]Q1", qr), kPosEp);
  r = rec.next_read();
  BOOST_REQUIRE(r);
  BOOST_TEST(texts(*r) == (std::vector<std::string>{qr}));
  BOOST_TEST(r->codes[0].symbology == "Q1");

  // Unplug: down; replug: found again, interface 1 detached and claimed again, reads flow.
  fake.unplug();
  s = rec.next_status();
  BOOST_REQUIRE(s);
  BOOST_TEST(!s->up);
  BOOST_TEST_MESSAGE("unplugged: " << s->detail);
  fake.replug();
  BOOST_REQUIRE(rec.wait_status(true));
  BOOST_TEST(fake.detaches() == 2);
  BOOST_TEST(fake.claimed() == (std::vector<int>{1, 1}));
  fake.push(pos_reports("]C0", "AFTER-REPLUG"), kPosEp);
  r = rec.next_read();
  BOOST_REQUIRE(r);
  BOOST_TEST(texts(*r) == (std::vector<std::string>{"AFTER-REPLUG"}));
  BOOST_TEST(rec.pending_reads() == 0u);

  t.request_stop();
  t.join();
  BOOST_TEST(fake.kernel_driver_bound(1));  // given back to usbhid on stop
}

// mode = "keyboard" on the same composite scanner: its keyboard interface, typed text.
BOOST_AUTO_TEST_CASE(forced_keyboard_mode_on_a_pos_scanner) {
  Testbed tb;
  FakeScanner fake(tb.get(), pos_scanner());
  fake.plug_in_first_time();
  Recorder rec;
  UsbHidScanner drv(usb_config("0x05e0", "0x1300", {{"mode", "keyboard"}}));
  std::jthread t([&](std::stop_token st) { drv.run(rec.host, st); });
  auto s = rec.next_status();
  BOOST_REQUIRE(s);
  BOOST_REQUIRE(s->up);
  BOOST_TEST(fake.claimed() == (std::vector<int>{0}));
  BOOST_TEST(!fake.requested(0x06));
  std::vector<std::vector<std::uint8_t>> keys;
  BOOST_REQUIRE(HidKeyboard::type(KeyLayout::US, "YT2001\r", keys));
  fake.push(keys, kKeyboardEp);
  auto r = rec.next_read();
  BOOST_REQUIRE(r);
  BOOST_TEST(texts(*r) == (std::vector<std::string>{"YT2001"}));
  t.request_stop();
  t.join();
}

// mode = "pos" on a keyboard-only scanner: down, saying why, and the interface given back.
BOOST_AUTO_TEST_CASE(forced_pos_mode_on_a_keyboard_scanner_says_why) {
  Testbed tb;
  FakeScanner fake(tb.get(), keyboard_scanner());
  fake.plug_in_first_time();
  Recorder rec;
  UsbHidScanner drv(usb_config("0x05e0", "0x1200", {{"mode", "pos"}}));
  std::jthread t([&](std::stop_token st) { drv.run(rec.host, st); });
  auto s = rec.next_status();
  BOOST_REQUIRE(s);
  BOOST_TEST(!s->up);
  BOOST_TEST_MESSAGE("status: " << s->detail);
  BOOST_TEST(s->detail.find("no HID POS interface (interface 0: no HID POS (usage page 0x8C) "
                            "collection)") != std::string::npos,
             s->detail);
  BOOST_TEST(fake.requested(0x06));
  t.request_stop();
  t.join();
  BOOST_TEST(fake.kernel_driver_bound(0));
  BOOST_TEST(rec.pending_reads() == 0u);
}
