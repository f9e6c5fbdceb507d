// The USB printer driver (libusb) against a fake USB printer under umockdev: a printer-class
// device (Zebra 0a5f:0164, interface class 7 protocol 2, bulk OUT 0x01, bulk IN 0x82) whose
// usbfs ioctls are answered here, the way libusb's own tests/umockdev.c does. Checked:
// enumeration by vid/pid, the IEEE 1284 device id through the class request GET_DEVICE_ID, a job
// through bulk OUT byte for byte, and ~HS status through bulk IN driving hold and resume.
// The test re-executes itself under umockdev-wrapper (LD_PRELOAD of libumockdev-preload).
#define BOOST_TEST_MODULE printer_usb
#include <boost/test/unit_test.hpp>

#include <linux/ioctl.h>
#include <linux/usbdevice_fs.h>
#include <sys/ioctl.h>
#include <umockdev.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>

#include "labels/cases.h"
#include "labels/printer_harness.h"
#include "printer/printer.h"

using namespace sortd;
using namespace sortd::dev::printer;
using namespace sortd::test;

namespace {

// Re-run under umockdev-wrapper when the preload library is not in place.
struct UnderUmockdev {
  UnderUmockdev() {
    const char* pre = std::getenv("LD_PRELOAD");
    if (pre && std::strstr(pre, "umockdev")) return;
    auto& m = boost::unit_test::framework::master_test_suite();
    std::vector<char*> argv;
    std::string wrapper = "umockdev-wrapper";
    argv.push_back(wrapper.data());
    for (int i = 0; i < m.argc; ++i) argv.push_back(m.argv[i]);
    argv.push_back(nullptr);
    execvp("umockdev-wrapper", argv.data());
    std::perror("exec umockdev-wrapper");
    std::_Exit(1);
  }
};
BOOST_TEST_GLOBAL_FIXTURE(UnderUmockdev);

const char* kDeviceId = "MFG:Zebra Technologies;CMD:ZPL;MDL:ZD421-203dpi;CLS:PRINTER;";

// The fake printer: what the host sent on bulk OUT, and what it answers on bulk IN.
struct FakePrinter {
  std::mutex mu;
  std::string received;  // bulk OUT, byte for byte
  std::string to_host;   // pending bulk IN data
  PrinterStatus status;  // what ~HS reports
  int device_id_requests = 0;
  std::deque<UMockdevIoctlData*> ready;    // URBs that can be reaped now
  std::deque<UMockdevIoctlData*> waiting;  // bulk IN URBs waiting for data
  std::deque<UMockdevIoctlData*> discarded;

  // Fills a waiting IN URB from to_host (caller holds mu).
  void feed_in() {
    while (!waiting.empty() && !to_host.empty()) {
      auto* d = waiting.front();
      waiting.pop_front();
      auto* urb = static_cast<usbdevfs_urb*>(static_cast<void*>(d->data));
      std::size_t n = std::min<std::size_t>(to_host.size(), urb->buffer_length);
      std::memcpy(urb->buffer, to_host.data(), n);  // shared address space (in-process)
      to_host.erase(0, n);
      urb->actual_length = static_cast<int>(n);
      urb->status = 0;
      ready.push_back(d);
    }
  }
};

gboolean handle_ioctl(UMockdevIoctlBase*, UMockdevIoctlClient* client, FakePrinter* f) {
  const gulong request = umockdev_ioctl_client_get_request(client);
  UMockdevIoctlData* arg = umockdev_ioctl_client_get_arg(client);
  std::lock_guard lock(f->mu);
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
    case USBDEVFS_CLAIMINTERFACE:
    case USBDEVFS_RELEASEINTERFACE:
    case USBDEVFS_SETINTERFACE:
    case USBDEVFS_CLEAR_HALT:
    case USBDEVFS_RESET:
    case USBDEVFS_RESETEP:
    case USBDEVFS_DISCONNECT_CLAIM:
    case USBDEVFS_IOCTL:
      umockdev_ioctl_client_complete(client, 0, 0);
      return TRUE;
    case USBDEVFS_GETDRIVER:
      umockdev_ioctl_client_complete(client, -1, ENODATA);  // no kernel driver bound
      return TRUE;
    case USBDEVFS_SUBMITURB: {
      UMockdevIoctlData* urb_data =
          umockdev_ioctl_data_resolve(arg, 0, sizeof(usbdevfs_urb), nullptr);
      auto* urb = static_cast<usbdevfs_urb*>(static_cast<void*>(urb_data->data));
      UMockdevIoctlData* buf = umockdev_ioctl_data_resolve(
          urb_data, G_STRUCT_OFFSET(usbdevfs_urb, buffer), urb->buffer_length, nullptr);
      const auto* bytes = reinterpret_cast<const unsigned char*>(buf->data);
      if (urb->type == USBDEVFS_URB_TYPE_CONTROL) {
        // Setup packet: bmRequestType 0xA1, bRequest 0 = GET_DEVICE_ID.
        if (bytes[0] == 0xA1 && bytes[1] == 0) {
          ++f->device_id_requests;
          std::string id = kDeviceId;
          std::size_t len = id.size() + 2;
          std::string reply;
          reply += static_cast<char>(len >> 8);
          reply += static_cast<char>(len & 0xff);
          reply += id;
          std::size_t n = std::min<std::size_t>(reply.size(), urb->buffer_length - 8);
          std::memcpy(static_cast<unsigned char*>(urb->buffer) + 8, reply.data(), n);
          urb->actual_length = static_cast<int>(n);
        } else {
          urb->actual_length = 0;
          urb->status = -EPIPE;  // stall anything else
        }
        f->ready.push_back(urb_data);
      } else if (urb->type == USBDEVFS_URB_TYPE_BULK && !(urb->endpoint & 0x80)) {
        std::string chunk(reinterpret_cast<const char*>(bytes), urb->buffer_length);
        f->received += chunk;
        if (chunk.find("~HS") != std::string::npos) f->to_host += format_zpl_host_status(f->status);
        urb->actual_length = urb->buffer_length;
        urb->status = 0;
        f->ready.push_back(urb_data);
        f->feed_in();
      } else if (urb->type == USBDEVFS_URB_TYPE_BULK) {
        f->waiting.push_back(urb_data);
        f->feed_in();
      } else {
        umockdev_ioctl_data_unref(buf);
        umockdev_ioctl_data_unref(urb_data);
        umockdev_ioctl_client_complete(client, -1, EINVAL);
        return TRUE;
      }
      umockdev_ioctl_data_unref(buf);
      umockdev_ioctl_client_complete(client, 0, 0);
      return TRUE;
    }
    case USBDEVFS_REAPURB:
    case USBDEVFS_REAPURBNDELAY: {
      UMockdevIoctlData* d = nullptr;
      if (!f->discarded.empty()) {
        d = f->discarded.front();
        f->discarded.pop_front();
        static_cast<usbdevfs_urb*>(static_cast<void*>(d->data))->status = -ENOENT;
      } else if (!f->ready.empty()) {
        d = f->ready.front();
        f->ready.pop_front();
      }
      if (!d) {
        umockdev_ioctl_client_complete(client, -1, EAGAIN);
        return TRUE;
      }
      UMockdevIoctlData* ptr = umockdev_ioctl_data_resolve(arg, 0, sizeof(gpointer), nullptr);
      umockdev_ioctl_data_set_ptr(ptr, 0, d);
      umockdev_ioctl_data_unref(ptr);
      umockdev_ioctl_data_unref(d);
      umockdev_ioctl_client_complete(client, 0, 0);
      return TRUE;
    }
    case USBDEVFS_DISCARDURB: {
      auto addr = reinterpret_cast<gulong>(*reinterpret_cast<void**>(arg->data));
      for (auto it = f->waiting.begin(); it != f->waiting.end(); ++it)
        if ((*it)->client_addr == addr) {
          f->discarded.push_back(*it);
          f->waiting.erase(it);
          umockdev_ioctl_client_complete(client, 0, 0);
          return TRUE;
        }
      umockdev_ioctl_client_complete(client, -1, EINVAL);
      return TRUE;
    }
    default:
      return FALSE;
  }
}

struct Testbed {
  FakePrinter printer;
  UMockdevTestbed* bed = nullptr;
  UMockdevIoctlBase* handler = nullptr;
  Testbed() {
    bed = umockdev_testbed_new();
    handler = umockdev_ioctl_base_new();
    g_signal_connect(handler, "handle-ioctl", G_CALLBACK(handle_ioctl), &printer);
    BOOST_REQUIRE(umockdev_testbed_attach_ioctl(bed, "/dev/bus/usb/001/002", handler, nullptr));
    // Device: USB 2.0, vendor 0a5f (Zebra), product 0164, one configuration. Configuration 1:
    // one interface, class 7 (printer) subclass 1 protocol 2 (bidirectional), bulk OUT 0x01 and
    // bulk IN 0x82 of 512 bytes.
    BOOST_REQUIRE(
        umockdev_testbed_add_from_string(bed,
                                         "P: /devices/pci0000:00/usb1/1-1\n"
                                         "N: bus/usb/001/002\n"
                                         "E: SUBSYSTEM=usb\n"
                                         "E: DEVTYPE=usb_device\n"
                                         "E: DEVNAME=/dev/bus/usb/001/002\n"
                                         "E: BUSNUM=001\n"
                                         "E: DEVNUM=002\n"
                                         "A: busnum=1\\n\n"
                                         "A: devnum=2\\n\n"
                                         "A: speed=480\\n\n"
                                         "A: bConfigurationValue=1\\n\n"
                                         "A: bNumConfigurations=1\\n\n"
                                         "A: idVendor=0a5f\\n\n"
                                         "A: idProduct=0164\\n\n"
                                         "H: descriptors=12010002000000405f0a6401000101020301"
                                         "09022000010100c001"
                                         "090400000207010200"
                                         "07050102000200"
                                         "07058202000200\n",
                                         nullptr));
  }
  ~Testbed() {
    g_clear_object(&handler);
    g_clear_object(&bed);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(enumerate_device_id_and_bulk_out) {
  Testbed tb;
  {
    UsbTransport wrong(0x0a5f, 0x9999);
    std::string err;
    BOOST_TEST(!wrong.open(err));
    BOOST_TEST(err == "usb 0a5f:9999: no such device");
  }
  UsbTransport usb(0x0a5f, 0x0164);
  std::string err;
  BOOST_REQUIRE_MESSAGE(usb.open(err), err);
  BOOST_TEST(usb.device_id() == kDeviceId);
  BOOST_TEST(tb.printer.device_id_requests == 1);
  auto id = parse_device_id(usb.device_id());
  BOOST_TEST(id.at("MFG") == "Zebra Technologies");
  BOOST_TEST(id.at("MDL") == "ZD421-203dpi");
  BOOST_TEST((language_from_device_id(id) == Language::Zpl));

  // A whole label through bulk OUT, byte for byte.
  auto set = labels::TemplateSet::load_dir(labels::TemplateSet::default_dir());
  auto station = label_station();
  auto c = label_cases()[0];
  std::string zpl = labels::to_zpl(labels::fill(
      *set.find("parcel", c.job.courier), labels::data_from_job(c.job, &station), {100, 150, 203}));
  BOOST_REQUIRE_MESSAGE(usb.write(zpl, 2000, err), err);
  std::lock_guard lock(tb.printer.mu);
  BOOST_TEST(tb.printer.received == zpl);
}

BOOST_AUTO_TEST_CASE(status_over_bulk_in_holds_and_resumes) {
  Testbed tb;
  {
    std::lock_guard lock(tb.printer.mu);
    tb.printer.status.paper_out = true;
  }
  Events events;
  PrinterSpec spec;
  spec.name = "usb-zebra";
  spec.language = Language::Zpl;
  spec.size = {100, 150, 203};
  spec.transport = std::make_unique<UsbTransport>(0x0a5f, 0x0164);
  EngineOptions o;
  o.poll_ms = 50;
  o.status_timeout_ms = 500;
  auto templates = std::make_shared<const labels::TemplateSet>(
      labels::TemplateSet::load_dir(labels::TemplateSet::default_dir()));
  static const StationConfig station = label_station();
  auto engine =
      std::make_unique<PrinterEngine>(o, templates, &station, std::move(spec), std::nullopt,
                                      [&events](const Event& e) { events(e); });
  PrinterEngine* raw = engine.get();
  PrinterWorker worker(std::move(engine));
  BOOST_REQUIRE(
      events.wait([](auto& ev) { return Events::last_status_is(ev, false, "paper out"); }));
  auto c = label_cases()[3];
  Command cmd;
  cmd.job = c.job;
  cmd.job.job_id = 5;
  worker.post(cmd);
  BOOST_REQUIRE(events.wait([](auto& ev) { return Events::count(ev, 5, JobOutcome::Held) == 1; }));
  {
    std::lock_guard lock(tb.printer.mu);
    tb.printer.status = PrinterStatus{};
  }
  BOOST_REQUIRE(
      events.wait([](auto& ev) { return Events::count(ev, 5, JobOutcome::Printed) == 1; }));
  std::string expected = raw->render(cmd.job, {}, Language::Zpl, {100, 150, 203});
  std::lock_guard lock(tb.printer.mu);
  // Everything sent is status requests and then the job, once.
  std::string r = tb.printer.received;
  auto at = r.find(expected);
  BOOST_REQUIRE(at != std::string::npos);
  BOOST_TEST(r.find(expected, at + 1) == std::string::npos);
  std::string rest = r.substr(0, at) + r.substr(at + expected.size());
  for (std::size_t i = 0; i < rest.size(); i += 3) BOOST_TEST(rest.substr(i, 3) == "~HS");
}
