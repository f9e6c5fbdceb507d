// USB printer class (USB Device Class Definition for Printing Devices 1.1) through libusb:
// interface class 7, bulk OUT for print data, bulk IN (bidirectional, protocol 2) for status,
// and the class request GET_DEVICE_ID (bRequest 0) for the IEEE 1284 device id.
#include <libusb.h>

#include <cstring>

#include "printer.h"

namespace sortd::dev::printer {

struct UsbTransport::Impl {
  libusb_context* ctx = nullptr;
  libusb_device_handle* h = nullptr;
  int iface = -1, alt = 0, config_index = 0;
  unsigned char ep_out = 0, ep_in = 0;
  int in_packet = 64;
};

namespace {
std::string usb_error(int rc) {
  return libusb_strerror(static_cast<libusb_error>(rc));
}
}  // namespace

UsbTransport::UsbTransport(std::uint16_t vid, std::uint16_t pid, std::string serial)
    : impl_(std::make_unique<Impl>()), vid_(vid), pid_(pid), serial_(std::move(serial)) {}

UsbTransport::~UsbTransport() {
  close();
  if (impl_->ctx) libusb_exit(impl_->ctx);
}

std::string UsbTransport::describe() const {
  char buf[64];
  std::snprintf(buf, sizeof buf, "usb %04x:%04x", vid_, pid_);
  return buf + (serial_.empty() ? std::string() : " serial " + serial_);
}

bool UsbTransport::is_open() const {
  return impl_->h != nullptr;
}

bool UsbTransport::open(std::string& error) {
  close();
  if (!impl_->ctx) {
    int rc = libusb_init(&impl_->ctx);
    if (rc != 0) {
      impl_->ctx = nullptr;
      error = "libusb: " + usb_error(rc);
      return false;
    }
  }
  libusb_device** list = nullptr;
  ssize_t n = libusb_get_device_list(impl_->ctx, &list);
  if (n < 0) {
    error = "libusb: cannot list devices: " + usb_error(static_cast<int>(n));
    return false;
  }
  error = describe() + ": no such device";
  for (ssize_t i = 0; i < n && !impl_->h; ++i) {
    libusb_device* dev = list[i];
    libusb_device_descriptor dd{};
    if (libusb_get_device_descriptor(dev, &dd) != 0) continue;
    if (dd.idVendor != vid_ || dd.idProduct != pid_) continue;
    libusb_config_descriptor* cfg = nullptr;
    if (libusb_get_active_config_descriptor(dev, &cfg) != 0 &&
        libusb_get_config_descriptor(dev, 0, &cfg) != 0)
      continue;
    // The printer-class interface and its bulk endpoints.
    int iface = -1, alt = 0;
    unsigned char out = 0, in = 0;
    int in_packet = 64;
    for (int k = 0; k < cfg->bNumInterfaces && iface < 0; ++k)
      for (int a = 0; a < cfg->interface[k].num_altsetting; ++a) {
        const libusb_interface_descriptor& id = cfg->interface[k].altsetting[a];
        if (id.bInterfaceClass != LIBUSB_CLASS_PRINTER) continue;
        unsigned char o = 0, ii = 0;
        int ip = 64;
        for (int e = 0; e < id.bNumEndpoints; ++e) {
          const libusb_endpoint_descriptor& ed = id.endpoint[e];
          if ((ed.bmAttributes & 3) != LIBUSB_TRANSFER_TYPE_BULK) continue;
          if (ed.bEndpointAddress & LIBUSB_ENDPOINT_IN) {
            ii = ed.bEndpointAddress;
            ip = ed.wMaxPacketSize;
          } else {
            o = ed.bEndpointAddress;
          }
        }
        if (!o) continue;
        iface = id.bInterfaceNumber;
        alt = id.bAlternateSetting;
        out = o;
        in = ii;
        in_packet = ip;
        if (id.bInterfaceProtocol == 2) break;  // prefer bidirectional
      }
    int config_index = 0;
    for (int c = 0; c < dd.bNumConfigurations; ++c) {
      libusb_config_descriptor* cc = nullptr;
      if (libusb_get_config_descriptor(dev, static_cast<std::uint8_t>(c), &cc) == 0) {
        if (cc->bConfigurationValue == cfg->bConfigurationValue) config_index = c;
        libusb_free_config_descriptor(cc);
      }
    }
    libusb_free_config_descriptor(cfg);
    if (iface < 0) {
      error = describe() + ": has no printer-class interface with a bulk OUT endpoint";
      continue;
    }
    libusb_device_handle* h = nullptr;
    int rc = libusb_open(dev, &h);
    if (rc != 0) {
      error = describe() + ": open: " + usb_error(rc);
      continue;
    }
    if (!serial_.empty()) {
      unsigned char sn[256] = {};
      int len = dd.iSerialNumber
                    ? libusb_get_string_descriptor_ascii(h, dd.iSerialNumber, sn, sizeof sn - 1)
                    : -1;
      if (len < 0 || serial_ != std::string(reinterpret_cast<char*>(sn), len)) {
        libusb_close(h);
        error = describe() + ": no device with that serial number";
        continue;
      }
    }
    libusb_set_auto_detach_kernel_driver(h, 1);  // usblp
    rc = libusb_claim_interface(h, iface);
    if (rc != 0) {
      error = describe() + ": claim interface " + std::to_string(iface) + ": " + usb_error(rc);
      libusb_close(h);
      continue;
    }
    if (alt != 0) libusb_set_interface_alt_setting(h, iface, alt);
    impl_->h = h;
    impl_->iface = iface;
    impl_->alt = alt;
    impl_->config_index = config_index;
    impl_->ep_out = out;
    impl_->ep_in = in;
    impl_->in_packet = in_packet > 0 ? in_packet : 64;
  }
  libusb_free_device_list(list, 1);
  if (!impl_->h) return false;
  // GET_DEVICE_ID: IN | class | interface, bRequest 0, wValue = configuration index,
  // wIndex = interface << 8 | alternate setting. The answer starts with its length (big endian,
  // counting those two bytes).
  unsigned char id[1024] = {};
  int rc = libusb_control_transfer(
      impl_->h, 0xA1 /* IN | class | interface */, 0 /* GET_DEVICE_ID */,
      static_cast<std::uint16_t>(impl_->config_index),
      static_cast<std::uint16_t>((impl_->iface << 8) | impl_->alt), id, sizeof id - 1, 2000);
  device_id_.clear();
  if (rc >= 2) {
    int len = (id[0] << 8) | id[1];
    if (len > rc || len < 2) len = rc;  // some printers get the length wrong
    device_id_.assign(reinterpret_cast<char*>(id) + 2, static_cast<std::size_t>(len - 2));
  }
  error.clear();
  return true;
}

void UsbTransport::close() {
  if (!impl_->h) return;
  libusb_release_interface(impl_->h, impl_->iface);
  libusb_close(impl_->h);
  impl_->h = nullptr;
}

bool UsbTransport::write(std::string_view bytes, int timeout_ms, std::string& error) {
  if (!impl_->h) {
    error = "not connected";
    return false;
  }
  std::size_t done = 0;
  while (done < bytes.size()) {
    int chunk = static_cast<int>(std::min<std::size_t>(bytes.size() - done, 16384));
    int sent = 0;
    int rc = libusb_bulk_transfer(
        impl_->h, impl_->ep_out,
        reinterpret_cast<unsigned char*>(const_cast<char*>(bytes.data() + done)), chunk, &sent,
        static_cast<unsigned>(timeout_ms));
    done += static_cast<std::size_t>(sent > 0 ? sent : 0);
    if (rc != 0 && !(rc == LIBUSB_ERROR_TIMEOUT && sent > 0)) {
      error = describe() + ": bulk OUT: " + usb_error(rc);
      close();
      return false;
    }
  }
  return true;
}

bool UsbTransport::read_some(std::string& out, int timeout_ms, std::string& error) {
  if (!impl_->h) {
    error = "not connected";
    return false;
  }
  if (!impl_->ep_in) {
    error = describe() + ": the printer has no bulk IN endpoint (status cannot be read)";
    return false;
  }
  std::vector<unsigned char> buf(static_cast<std::size_t>(impl_->in_packet) * 8);
  int got = 0;
  int rc = libusb_bulk_transfer(impl_->h, impl_->ep_in, buf.data(), static_cast<int>(buf.size()),
                                &got, static_cast<unsigned>(timeout_ms > 0 ? timeout_ms : 1));
  if (got > 0) out.append(reinterpret_cast<char*>(buf.data()), static_cast<std::size_t>(got));
  if (rc == 0 || rc == LIBUSB_ERROR_TIMEOUT) return true;
  error = describe() + ": bulk IN: " + usb_error(rc);
  close();
  return false;
}

}  // namespace sortd::dev::printer
