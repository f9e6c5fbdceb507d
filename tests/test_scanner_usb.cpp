// USB HID keyboard-wedge scanner: the real libusb driver against a fake HID scanner emulated by
// umockdev (sysfs device + usbfs ioctls answered here, the way libusb's own tests/umockdev.c
// does it). Covers enumerate, kernel driver detach, claim, SET_PROTOCOL, interrupt transfers
// carrying the boot reports of a GS1-128 code typed with shift and Ctrl+] (FNC1), unplug and
// replug. The binary re-executes itself under umockdev-wrapper (LD_PRELOAD of umockdev).
#define BOOST_TEST_MODULE scanner_usb
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <thread>

#include <linux/usbdevice_fs.h>
#include <sys/ioctl.h>
#include <umockdev.h>
#include <unistd.h>

#include "scanner/hid_keyboard.h"
#include "scanner_test_util.h"

using namespace sortd;
using namespace sortd::dev::scanner;
using namespace scanner_test;

namespace {

// Runs before Boost.Test's main: without umockdev's preload library, exec ourselves under it.
struct ReexecUnderUmockdev {
  ReexecUnderUmockdev() {
    const char* pre = std::getenv("LD_PRELOAD");
    if (pre && std::strstr(pre, "umockdev")) return;
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    char self[4096] = {};
    if (::readlink("/proc/self/exe", self, sizeof self - 1) <= 0) return;
    std::vector<std::string> args = {UMOCKDEV_WRAPPER, self};
    std::size_t start = all.find('\0');  // skip argv[0]
    while (start != std::string::npos && start + 1 < all.size()) {
      std::size_t end = all.find('\0', start + 1);
      args.push_back(all.substr(start + 1, end - start - 1));
      start = end;
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(UMOCKDEV_WRAPPER, argv.data());
    std::perror("exec umockdev-wrapper");  // fall through: the tests will fail, saying why
  }
} reexec;

constexpr std::uint16_t kVid = 0x05e0, kPid = 0x1200;

// Device, configuration, interface (HID boot keyboard), HID and endpoint (EP1 IN interrupt)
// descriptors of a keyboard-wedge scanner, as sysfs shows them in "descriptors".
const char* kDescriptors =
    "12010002000000"
    "08"
    "e005"
    "0012"
    "0001"
    "010203"
    "01"
    "09022200010100a032"
    "090400000103010100"
    "092111010001223f00"
    "0705810308000a";

// The fake scanner behind the usbfs node.
class FakeScanner {
 public:
  explicit FakeScanner(UMockdevTestbed* tb) : tb_(tb) {
    handler_ = umockdev_ioctl_base_new();
    g_signal_connect_after(handler_, "handle-ioctl", G_CALLBACK(&FakeScanner::on_ioctl), this);
  }
  ~FakeScanner() {
    for (auto* d : flying_) umockdev_ioctl_data_unref(d);
    for (auto* d : control_done_) umockdev_ioctl_data_unref(d);
    g_object_unref(handler_);
  }

  void plug_in_first_time() {
    GError* err = nullptr;
    BOOST_REQUIRE(umockdev_testbed_attach_ioctl(tb_, "/dev/bus/usb/001/001", handler_, &err));
    std::string dev = std::string(
                          "P: /devices/usb1\n"
                          "N: bus/usb/001/001\n"
                          "E: SUBSYSTEM=usb\n"
                          "E: DRIVER=usb\n"
                          "E: BUSNUM=001\n"
                          "E: DEVNUM=001\n"
                          "E: DEVNAME=/dev/bus/usb/001/001\n"
                          "E: DEVTYPE=usb_device\n"
                          "A: bConfigurationValue=1\\n\n"
                          "A: busnum=1\\n\n"
                          "A: devnum=1\\n\n"
                          "A: speed=12\\n\n"
                          "H: descriptors=") +
                      kDescriptors + "\n";
    BOOST_REQUIRE(umockdev_testbed_add_from_string(tb_, dev.c_str(), &err));
  }
  void unplug() {
    {
      std::lock_guard lock(mu_);
      unplugged_ = true;
    }
    umockdev_testbed_uevent(tb_, "/sys/devices/usb1", "remove");
  }
  void replug() {
    {
      std::lock_guard lock(mu_);
      unplugged_ = false;
      kernel_driver_ = true;  // usbhid binds again on replug
      reports_.clear();
    }
    umockdev_testbed_uevent(tb_, "/sys/devices/usb1", "add");
  }
  void push(const std::vector<std::vector<std::uint8_t>>& reports) {
    std::lock_guard lock(mu_);
    for (auto& r : reports) reports_.push_back(r);
  }
  bool drained() {
    std::lock_guard lock(mu_);
    return reports_.empty();
  }
  int detaches() {
    std::lock_guard lock(mu_);
    return detaches_;
  }
  int claims() {
    std::lock_guard lock(mu_);
    return claims_;
  }
  std::vector<int> control_requests() {
    std::lock_guard lock(mu_);
    return control_requests_;
  }

 private:
  static gboolean on_ioctl(UMockdevIoctlBase*, UMockdevIoctlClient* client, FakeScanner* self) {
    std::lock_guard lock(self->mu_);
    return self->handle(client);
  }

  gboolean handle(UMockdevIoctlClient* client) {
    gulong request = umockdev_ioctl_client_get_request(client);
    UMockdevIoctlData* arg = umockdev_ioctl_client_get_arg(client);
    switch (request) {
      case USBDEVFS_GET_CAPABILITIES: {
        UMockdevIoctlData* d = umockdev_ioctl_data_resolve(arg, 0, sizeof(guint32), nullptr);
        *reinterpret_cast<guint32*>(d->data) =
            USBDEVFS_CAP_BULK_CONTINUATION | USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
            USBDEVFS_CAP_REAP_AFTER_DISCONNECT | USBDEVFS_CAP_ZERO_PACKET;
        umockdev_ioctl_data_unref(d);
        umockdev_ioctl_client_complete(client, 0, 0);
        return TRUE;
      }
      case USBDEVFS_GETDRIVER: {
        if (unplugged_) return fail(client, ENODEV);
        if (!kernel_driver_) return fail(client, ENODATA);
        UMockdevIoctlData* d =
            umockdev_ioctl_data_resolve(arg, 0, sizeof(usbdevfs_getdriver), nullptr);
        auto* gd = reinterpret_cast<usbdevfs_getdriver*>(d->data);
        std::strcpy(gd->driver, "usbhid");
        umockdev_ioctl_data_unref(d);
        umockdev_ioctl_client_complete(client, 0, 0);
        return TRUE;
      }
      case USBDEVFS_IOCTL: {
        if (unplugged_) return fail(client, ENODEV);
        UMockdevIoctlData* d = umockdev_ioctl_data_resolve(arg, 0, sizeof(usbdevfs_ioctl), nullptr);
        auto* io = reinterpret_cast<usbdevfs_ioctl*>(d->data);
        int code = io->ioctl_code;
        umockdev_ioctl_data_unref(d);
        if (code == USBDEVFS_DISCONNECT) {
          if (!kernel_driver_) return fail(client, ENODATA);
          kernel_driver_ = false;
          ++detaches_;
        } else if (code == USBDEVFS_CONNECT) {
          kernel_driver_ = true;
        }
        umockdev_ioctl_client_complete(client, 0, 0);
        return TRUE;
      }
      case USBDEVFS_CLAIMINTERFACE:
        if (unplugged_) return fail(client, ENODEV);
        if (kernel_driver_) return fail(client, EBUSY);  // must be detached first
        ++claims_;
        umockdev_ioctl_client_complete(client, 0, 0);
        return TRUE;
      case USBDEVFS_RELEASEINTERFACE:
      case USBDEVFS_CLEAR_HALT:
      case USBDEVFS_RESET:
      case USBDEVFS_RESETEP:
        if (unplugged_) return fail(client, ENODEV);
        umockdev_ioctl_client_complete(client, 0, 0);
        return TRUE;
      case USBDEVFS_SUBMITURB: {
        if (unplugged_) return fail(client, ENODEV);
        UMockdevIoctlData* urb_data =
            umockdev_ioctl_data_resolve(arg, 0, sizeof(usbdevfs_urb), nullptr);
        auto* urb = reinterpret_cast<usbdevfs_urb*>(urb_data->data);
        if (urb->type == USBDEVFS_URB_TYPE_CONTROL) {
          UMockdevIoctlData* setup = umockdev_ioctl_data_resolve(
              urb_data, G_STRUCT_OFFSET(usbdevfs_urb, buffer), urb->buffer_length, nullptr);
          control_requests_.push_back(setup->data[1]);
          umockdev_ioctl_data_unref(setup);
          control_done_.push_back(urb_data);
        } else if (urb->type == USBDEVFS_URB_TYPE_INTERRUPT && (urb->endpoint & 0x80)) {
          flying_.push_back(urb_data);
        } else {
          umockdev_ioctl_data_unref(urb_data);
          return fail(client, EINVAL);
        }
        umockdev_ioctl_client_complete(client, 0, 0);
        return TRUE;
      }
      case USBDEVFS_DISCARDURB: {
        void* addr = *reinterpret_cast<void**>(arg->data);
        for (auto it = flying_.begin(); it != flying_.end(); ++it)
          if ((*it)->client_addr == reinterpret_cast<gulong>(addr)) {
            discarded_.push_back(*it);
            flying_.erase(it);
            umockdev_ioctl_client_complete(client, 0, 0);
            return TRUE;
          }
        return fail(client, EINVAL);
      }
      case USBDEVFS_REAPURB:
      case USBDEVFS_REAPURBNDELAY: {
        UMockdevIoctlData* done = nullptr;
        if (!discarded_.empty()) {
          done = discarded_.front();
          discarded_.pop_front();
          reinterpret_cast<usbdevfs_urb*>(done->data)->status = -ENOENT;
        } else if (!control_done_.empty()) {
          done = control_done_.front();
          control_done_.pop_front();
          auto* urb = reinterpret_cast<usbdevfs_urb*>(done->data);
          urb->status = 0;
          urb->actual_length = 0;
        } else if (unplugged_ && !flying_.empty()) {
          done = flying_.front();
          flying_.pop_front();
          reinterpret_cast<usbdevfs_urb*>(done->data)->status = -ENODEV;
        } else if (unplugged_) {
          return fail(client, ENODEV);
        } else if (!flying_.empty() && !reports_.empty()) {
          done = flying_.front();
          flying_.pop_front();
          auto* urb = reinterpret_cast<usbdevfs_urb*>(done->data);
          auto& r = reports_.front();
          int n = std::min<int>(static_cast<int>(r.size()), urb->buffer_length);
          // Same address space as the client (LD_PRELOAD): write the report where it reads.
          std::memcpy(urb->buffer, r.data(), static_cast<std::size_t>(n));
          urb->actual_length = n;
          urb->status = 0;
          reports_.pop_front();
        }
        if (!done) return fail(client, EAGAIN);
        UMockdevIoctlData* ptr = umockdev_ioctl_data_resolve(arg, 0, sizeof(gpointer), nullptr);
        umockdev_ioctl_data_set_ptr(ptr, 0, done);
        umockdev_ioctl_data_unref(ptr);
        umockdev_ioctl_data_unref(done);
        umockdev_ioctl_client_complete(client, 0, 0);
        return TRUE;
      }
      default:
        return FALSE;
    }
  }

  static gboolean fail(UMockdevIoctlClient* client, int err) {
    umockdev_ioctl_client_complete(client, -1, err);
    return TRUE;
  }

  UMockdevTestbed* tb_;
  UMockdevIoctlBase* handler_;
  std::mutex mu_;
  bool unplugged_ = false;
  bool kernel_driver_ = true;
  int detaches_ = 0, claims_ = 0;
  std::vector<int> control_requests_;
  std::deque<UMockdevIoctlData*> flying_, discarded_, control_done_;
  std::deque<std::vector<std::uint8_t>> reports_;
};

std::vector<std::vector<std::uint8_t>> typed(const std::string& text,
                                             KeyLayout layout = KeyLayout::US) {
  std::vector<std::vector<std::uint8_t>> reports;
  BOOST_REQUIRE(HidKeyboard::type(layout, text, reports));
  return reports;
}

UsbHidConfig usb_config(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> o = {{"vendor_id", "0x05e0"},
                                          {"product_id", "0x1200"},
                                          {"retry_min_ms", "20"},
                                          {"retry_max_ms", "200"},
                                          {"poll_ms", "200"}};
  for (auto& [k, v] : extra) o[k] = v;
  return config<UsbHidConfig>(device("usb-hid", o), read_usb_hid_config);
}

}  // namespace

BOOST_AUTO_TEST_CASE(keyboard_wedge_scanner_under_umockdev) {
  UMockdevTestbed* tb = umockdev_testbed_new();
  BOOST_REQUIRE(tb);
  BOOST_REQUIRE_MESSAGE(umockdev_in_mock_environment(), "not running under umockdev-wrapper");
  {
    FakeScanner fake(tb);
    fake.plug_in_first_time();
    Recorder rec;
    UsbHidScanner drv(usb_config());
    std::jthread t([&](std::stop_token st) { drv.run(rec.host, st); });

    // Enumerate, detach usbhid, claim, set the boot protocol.
    auto s = rec.next_status();
    BOOST_REQUIRE(s);
    BOOST_TEST_MESSAGE("status: " << s->up << " " << s->detail);
    BOOST_REQUIRE(s->up);
    BOOST_TEST(fake.detaches() == 1);
    BOOST_TEST(fake.claims() == 1);
    auto ctl = fake.control_requests();
    BOOST_TEST((std::find(ctl.begin(), ctl.end(), 0x0b) != ctl.end()));  // SET_PROTOCOL

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
  g_object_unref(tb);
}
