// A fake USB HID scanner for the libusb driver tests, emulated by umockdev: a sysfs device plus
// the usbfs ioctls answered here, the way libusb's own tests/umockdev.c does it. It keeps per
// interface whether the kernel driver (usbhid) is bound, answers GET_DESCRIPTOR(Report) with the
// interface's report descriptor, and delivers queued input reports on interrupt IN endpoints.
// A test binary that includes this header re-executes itself under umockdev-wrapper (umockdev's
// LD_PRELOAD library) before Boost.Test's main runs.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <linux/usbdevice_fs.h>
#include <sys/ioctl.h>
#include <umockdev.h>
#include <unistd.h>

#include "scanner_hid_descriptors.h"
#include "scanner_test_util.h"

namespace scanner_test {

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
};
inline ReexecUnderUmockdev reexec_under_umockdev;

// Hex of a little-endian 16-bit value, as sysfs "descriptors" strings spell them.
inline std::string hex16(std::size_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02zx%02zx", v & 0xff, (v >> 8) & 0xff);
  return buf;
}

// What the fake device is: its descriptors (device, configuration, interfaces, HID and
// endpoints, as sysfs shows them in "descriptors", hex) and each interface's report descriptor.
struct FakeDevice {
  std::string descriptors;
  std::map<int, std::vector<std::uint8_t>> report_descriptors;
};

// A keyboard-wedge scanner, 05e0:1200: device, configuration, interface (HID boot keyboard), HID
// and endpoint (EP1 IN interrupt, 8 bytes) descriptors; the boot keyboard report descriptor.
inline FakeDevice keyboard_scanner() {
  return {
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
      "0705810308000a",
      {{0, kBootKeyboardDescriptor}}};
}

class FakeScanner {
 public:
  FakeScanner(UMockdevTestbed* tb, FakeDevice dev) : tb_(tb), dev_(std::move(dev)) {
    for (const auto& [iface, desc] : dev_.report_descriptors) bound_.insert(iface);
    handler_ = umockdev_ioctl_base_new();
    g_signal_connect_after(handler_, "handle-ioctl", G_CALLBACK(&FakeScanner::on_ioctl), this);
  }
  ~FakeScanner() {
    for (auto* d : flying_) umockdev_ioctl_data_unref(d);
    for (auto& c : control_done_) umockdev_ioctl_data_unref(c.urb);
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
                      dev_.descriptors + "\n";
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
      for (const auto& [iface, desc] : dev_.report_descriptors)
        bound_.insert(iface);  // usbhid binds again on replug
      reports_.clear();
    }
    umockdev_testbed_uevent(tb_, "/sys/devices/usb1", "add");
  }
  // Input reports for the interrupt IN endpoint `ep`.
  void push(const std::vector<std::vector<std::uint8_t>>& reports, std::uint8_t ep = 0x81) {
    std::lock_guard lock(mu_);
    for (auto& r : reports) reports_[ep].push_back(r);
  }
  int detaches() {
    std::lock_guard lock(mu_);
    return detaches_;
  }
  int claims() {
    std::lock_guard lock(mu_);
    return static_cast<int>(claimed_.size());
  }
  // Interfaces claimed, in order.
  std::vector<int> claimed() {
    std::lock_guard lock(mu_);
    return claimed_;
  }
  bool kernel_driver_bound(int iface) {
    std::lock_guard lock(mu_);
    return bound_.count(iface) > 0;
  }
  // bRequest of every control transfer (0x06 GET_DESCRIPTOR, 0x0a SET_IDLE, 0x0b SET_PROTOCOL).
  std::vector<int> control_requests() {
    std::lock_guard lock(mu_);
    return control_requests_;
  }
  // GET_DESCRIPTOR(Report) requests: interface (wIndex) and wLength, in order.
  std::vector<std::pair<int, int>> report_descriptor_requests() {
    std::lock_guard lock(mu_);
    return descriptor_requests_;
  }
  bool requested(int b_request) {
    auto c = control_requests();
    return std::find(c.begin(), c.end(), b_request) != c.end();
  }

 private:
  struct Control {
    UMockdevIoctlData* urb;
    int status;
    int actual;
  };

  static gboolean on_ioctl(UMockdevIoctlBase*, UMockdevIoctlClient* client, FakeScanner* self) {
    std::lock_guard lock(self->mu_);
    return self->handle(client);
  }

  unsigned int uint_arg(UMockdevIoctlData* arg) {
    UMockdevIoctlData* d = umockdev_ioctl_data_resolve(arg, 0, sizeof(unsigned int), nullptr);
    unsigned int v = *reinterpret_cast<unsigned int*>(d->data);
    umockdev_ioctl_data_unref(d);
    return v;
  }

  // A control URB (setup packet first in its buffer); answers GET_DESCRIPTOR(Report).
  Control control(UMockdevIoctlData* urb_data, usbdevfs_urb* urb) {
    UMockdevIoctlData* setup = umockdev_ioctl_data_resolve(
        urb_data, G_STRUCT_OFFSET(usbdevfs_urb, buffer), urb->buffer_length, nullptr);
    const guint8* s = setup->data;
    int request_type = s[0], request = s[1];
    int value = s[2] | (s[3] << 8), index = s[4] | (s[5] << 8), length = s[6] | (s[7] << 8);
    umockdev_ioctl_data_unref(setup);
    control_requests_.push_back(request);
    if (request_type == 0x81 && request == 0x06 && value == 0x2200) {
      descriptor_requests_.emplace_back(index, length);
      auto it = dev_.report_descriptors.find(index);
      if (it == dev_.report_descriptors.end()) return {urb_data, -EPIPE, 0};
      int n = std::min<int>(length, static_cast<int>(it->second.size()));
      n = std::min(n, urb->buffer_length - 8);
      // Same address space as the client (LD_PRELOAD): write where libusb reads.
      std::memcpy(static_cast<std::uint8_t*>(urb->buffer) + 8, it->second.data(),
                  static_cast<std::size_t>(n));
      return {urb_data, 0, n};
    }
    return {urb_data, 0, 0};
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
        UMockdevIoctlData* d =
            umockdev_ioctl_data_resolve(arg, 0, sizeof(usbdevfs_getdriver), nullptr);
        auto* gd = reinterpret_cast<usbdevfs_getdriver*>(d->data);
        if (!bound_.count(static_cast<int>(gd->interface))) {
          umockdev_ioctl_data_unref(d);
          return fail(client, ENODATA);
        }
        std::strcpy(gd->driver, "usbhid");
        umockdev_ioctl_data_unref(d);
        umockdev_ioctl_client_complete(client, 0, 0);
        return TRUE;
      }
      case USBDEVFS_IOCTL: {
        if (unplugged_) return fail(client, ENODEV);
        UMockdevIoctlData* d = umockdev_ioctl_data_resolve(arg, 0, sizeof(usbdevfs_ioctl), nullptr);
        auto* io = reinterpret_cast<usbdevfs_ioctl*>(d->data);
        int code = io->ioctl_code, ifno = io->ifno;
        umockdev_ioctl_data_unref(d);
        if (code == USBDEVFS_DISCONNECT) {
          if (!bound_.count(ifno)) return fail(client, ENODATA);
          bound_.erase(ifno);
          ++detaches_;
        } else if (code == USBDEVFS_CONNECT) {
          bound_.insert(ifno);
        }
        umockdev_ioctl_client_complete(client, 0, 0);
        return TRUE;
      }
      case USBDEVFS_CLAIMINTERFACE: {
        if (unplugged_) return fail(client, ENODEV);
        int iface = static_cast<int>(uint_arg(arg));
        if (bound_.count(iface)) return fail(client, EBUSY);  // must be detached first
        claimed_.push_back(iface);
        umockdev_ioctl_client_complete(client, 0, 0);
        return TRUE;
      }
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
          control_done_.push_back(control(urb_data, urb));
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
          Control c = control_done_.front();
          control_done_.pop_front();
          done = c.urb;
          auto* urb = reinterpret_cast<usbdevfs_urb*>(done->data);
          urb->status = c.status;
          urb->actual_length = c.actual;
        } else if (unplugged_ && !flying_.empty()) {
          done = flying_.front();
          flying_.pop_front();
          reinterpret_cast<usbdevfs_urb*>(done->data)->status = -ENODEV;
        } else if (unplugged_) {
          return fail(client, ENODEV);
        } else {
          for (auto it = flying_.begin(); it != flying_.end(); ++it) {
            auto* urb = reinterpret_cast<usbdevfs_urb*>((*it)->data);
            auto& queue = reports_[urb->endpoint];
            if (queue.empty()) continue;
            done = *it;
            flying_.erase(it);
            auto& r = queue.front();
            int n = std::min<int>(static_cast<int>(r.size()), urb->buffer_length);
            // Same address space as the client (LD_PRELOAD): write the report where it reads.
            std::memcpy(urb->buffer, r.data(), static_cast<std::size_t>(n));
            urb->actual_length = n;
            urb->status = 0;
            queue.pop_front();
            break;
          }
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
  FakeDevice dev_;
  UMockdevIoctlBase* handler_;
  std::mutex mu_;
  bool unplugged_ = false;
  std::set<int> bound_;  // interfaces the kernel driver holds
  int detaches_ = 0;
  std::vector<int> claimed_;
  std::vector<int> control_requests_;
  std::vector<std::pair<int, int>> descriptor_requests_;
  std::deque<UMockdevIoctlData*> flying_, discarded_;
  std::deque<Control> control_done_;
  std::map<std::uint8_t, std::deque<std::vector<std::uint8_t>>> reports_;
};

// A testbed for one test case, released at the end.
class Testbed {
 public:
  Testbed() : tb_(umockdev_testbed_new()) {
    BOOST_REQUIRE(tb_);
    BOOST_REQUIRE_MESSAGE(umockdev_in_mock_environment(), "not running under umockdev-wrapper");
  }
  ~Testbed() { g_object_unref(tb_); }
  Testbed(const Testbed&) = delete;
  Testbed& operator=(const Testbed&) = delete;
  UMockdevTestbed* get() { return tb_; }

 private:
  UMockdevTestbed* tb_;
};

// The usb-hid driver's config with short retry and poll intervals.
inline sortd::dev::scanner::UsbHidConfig usb_config(std::string vid, std::string pid,
                                                    std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> o = {{"vendor_id", std::move(vid)},
                                          {"product_id", std::move(pid)},
                                          {"retry_min_ms", "20"},
                                          {"retry_max_ms", "200"},
                                          {"poll_ms", "200"}};
  for (auto& [k, v] : extra) o[k] = v;
  return config<sortd::dev::scanner::UsbHidConfig>(device("usb-hid", o),
                                                   sortd::dev::scanner::read_usb_hid_config);
}

}  // namespace scanner_test
