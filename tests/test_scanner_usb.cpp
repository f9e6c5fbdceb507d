// USB HID keyboard-wedge scanner: the real libusb driver against a fake HID scanner emulated by
// umockdev (scanner_usb_fake.h). Covers enumerate, kernel driver detach, claim, the report
// descriptor read in auto mode, SET_PROTOCOL, interrupt transfers carrying the boot reports of a
// GS1-128 code typed with shift and Ctrl+] (FNC1), unplug and replug; and forced keyboard mode.
#define BOOST_TEST_MODULE scanner_usb
#include <boost/test/unit_test.hpp>

#include <thread>

#include "scanner/hid_keyboard.h"
#include "scanner_hid_descriptors.h"
#include "scanner_usb_fake.h"

using namespace sortd;
using namespace sortd::dev::scanner;
using namespace scanner_test;

namespace {

std::vector<std::vector<std::uint8_t>> typed(const std::string& text,
                                             KeyLayout layout = KeyLayout::US) {
  std::vector<std::vector<std::uint8_t>> reports;
  BOOST_REQUIRE(HidKeyboard::type(layout, text, reports));
  return reports;
}

UsbHidConfig keyboard_config(std::map<std::string, std::string> extra = {}) {
  return usb_config("0x05e0", "0x1200", std::move(extra));
}

}  // namespace

BOOST_AUTO_TEST_CASE(keyboard_wedge_scanner_under_umockdev) {
  Testbed tb;
  {
    FakeScanner fake(tb.get(), keyboard_scanner());
    fake.plug_in_first_time();
    Recorder rec;
    UsbHidScanner drv(keyboard_config());
    std::jthread t([&](std::stop_token st) { drv.run(rec.host, st); });

    // Enumerate, detach usbhid, claim, set the boot protocol.
    auto s = rec.next_status();
    BOOST_REQUIRE(s);
    BOOST_TEST_MESSAGE("status: " << s->up << " " << s->detail);
    BOOST_REQUIRE(s->up);
    BOOST_TEST(fake.detaches() == 1);
    BOOST_TEST(fake.claims() == 1);
    // Auto mode looked for HID POS: GET_DESCRIPTOR(Report), wLength 63 from the HID descriptor.
    BOOST_TEST((fake.report_descriptor_requests() == std::vector<std::pair<int, int>>{{0, 63}}));
    BOOST_TEST(fake.requested(0x0b));  // SET_PROTOCOL
    BOOST_TEST(s->detail.find("keyboard") != std::string::npos);

    // A GS1-128 read typed by the scanner: AIM id, FNC1 as Ctrl+], shifted letters, Enter.
    fake.push(
        typed("]C1"
              "00123456789012345675"
              "\x1d"
              "421156200000"
              "\r"));
    auto r = rec.next_read();
    BOOST_REQUIRE(r);
    BOOST_TEST(r->scanner == "scan-test");
    BOOST_TEST(texts(*r) == (std::vector<std::string>{"123456789012345675"}));
    BOOST_TEST(r->codes[0].symbology == "C1");

    // Shift, held keys and a second read right behind the first.
    fake.push(typed("SF-Abc_123\rYT9\r"));
    r = rec.next_read();
    BOOST_REQUIRE(r);
    BOOST_TEST(texts(*r) == (std::vector<std::string>{"SF-Abc_123"}));
    r = rec.next_read();
    BOOST_REQUIRE(r);
    BOOST_TEST(texts(*r) == (std::vector<std::string>{"YT9"}));

    // Unplug: the driver reports the scanner down and waits for it.
    fake.unplug();
    s = rec.next_status();
    BOOST_REQUIRE(s);
    BOOST_TEST(!s->up);
    BOOST_TEST_MESSAGE("unplugged: " << s->detail);

    // Replug: found again (hotplug), usbhid detached again, claimed, reads flow.
    fake.replug();
    BOOST_REQUIRE(rec.wait_status(true));
    BOOST_TEST(fake.detaches() == 2);
    BOOST_TEST(fake.claims() == 2);
    fake.push(typed("AFTER-REPLUG\r"));
    r = rec.next_read();
    BOOST_REQUIRE(r);
    BOOST_TEST(texts(*r) == (std::vector<std::string>{"AFTER-REPLUG"}));

    t.request_stop();
    t.join();
  }
}

// mode = "keyboard": no report descriptor asked for, the boot keyboard interface read as before.
BOOST_AUTO_TEST_CASE(forced_keyboard_mode) {
  Testbed tb;
  FakeScanner fake(tb.get(), keyboard_scanner());
  fake.plug_in_first_time();
  Recorder rec;
  UsbHidScanner drv(keyboard_config({{"mode", "keyboard"}}));
  std::jthread t([&](std::stop_token st) { drv.run(rec.host, st); });
  BOOST_REQUIRE(rec.wait_status(true));
  BOOST_TEST(!fake.requested(0x06));
  BOOST_TEST(fake.requested(0x0b));
  fake.push(typed("]C0JD0146000012345\r"));
  auto r = rec.next_read();
  BOOST_REQUIRE(r);
  BOOST_TEST(texts(*r) == (std::vector<std::string>{"JD0146000012345"}));
  BOOST_TEST(r->codes[0].symbology == "C0");
  t.request_stop();
  t.join();
  BOOST_TEST(fake.kernel_driver_bound(0));  // given back to usbhid on stop
}
