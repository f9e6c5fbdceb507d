// USB HID keyboard-wedge scanners through libusb: find by vendor/product id, detach the kernel's
// usbhid driver, claim the interface, read boot keyboard reports from the interrupt IN endpoint
// and type them into the read pipeline. Unplug / replug recover by themselves (libusb hotplug
// where the platform has it, polling the bus otherwise).
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>

#include <libusb.h>
#include <spdlog/spdlog.h>

#include "scanner/hid_keyboard.h"
#include "scanner/scanner.h"

namespace sortd::dev::scanner {

UsbHidConfig read_usb_hid_config(Options& o) {
  UsbHidConfig c;
  c.common = read_common(o, "cr");  // keyboard wedges end a read with Enter
  c.vendor_id = static_cast<std::uint16_t>(o.integer("vendor_id", 0, 0, 0xffff));
  c.product_id = static_cast<std::uint16_t>(o.integer("product_id", 0, 0, 0xffff));
  if (!o.has("vendor_id")) o.error("vendor_id", "missing (e.g. \"0x05e0\")");
  if (!o.has("product_id")) o.error("product_id", "missing (e.g. \"0x1200\")");
  c.serial = o.str("serial", "");
  c.interface = static_cast<int>(o.integer("interface", -1, -1, 255));
  c.layout = o.str("layout", "us");
  if (!key_layout_from(c.layout))
    o.error("layout", "'" + c.layout + "' is not one of us, uk, de, fr");
  c.poll_ms = static_cast<int>(o.integer("poll_ms", 1000, 50, 60000));
  if (!c.common.trigger.empty()) o.error("trigger", "a keyboard-wedge scanner takes no trigger");
  return c;
}

namespace {

struct Endpoint {
  int interface = -1;
  unsigned char address = 0;
  int max_packet = 8;
  bool boot = false;
};

// The HID interface to read and its interrupt IN endpoint.
bool find_endpoint(libusb_device* dev, int want_if, Endpoint& ep, std::string& why) {
  libusb_config_descriptor* cfg = nullptr;
  int rc = libusb_get_active_config_descriptor(dev, &cfg);
  if (rc != 0) rc = libusb_get_config_descriptor(dev, 0, &cfg);
  if (rc != 0) {
    why = std::string("no configuration descriptor: ") + libusb_error_name(rc);
    return false;
  }
  int best_score = -1;
  for (int i = 0; i < cfg->bNumInterfaces; ++i) {
    if (cfg->interface[i].num_altsetting < 1) continue;
    const libusb_interface_descriptor& alt = cfg->interface[i].altsetting[0];
    if (want_if >= 0 && alt.bInterfaceNumber != want_if) continue;
    if (alt.bInterfaceClass != LIBUSB_CLASS_HID && want_if < 0) continue;
    for (int e = 0; e < alt.bNumEndpoints; ++e) {
      const libusb_endpoint_descriptor& d = alt.endpoint[e];
      bool in = (d.bEndpointAddress & LIBUSB_ENDPOINT_DIR_MASK) == LIBUSB_ENDPOINT_IN;
      bool intr = (d.bmAttributes & LIBUSB_TRANSFER_TYPE_MASK) == LIBUSB_TRANSFER_TYPE_INTERRUPT;
      if (!in || !intr) continue;
      // Prefer a boot keyboard interface.
      int score = (alt.bInterfaceSubClass == 1 ? 2 : 0) + (alt.bInterfaceProtocol == 1 ? 4 : 0);
      if (score > best_score) {
        best_score = score;
        ep.interface = alt.bInterfaceNumber;
        ep.address = d.bEndpointAddress;
        ep.max_packet = d.wMaxPacketSize ? d.wMaxPacketSize : 8;
        ep.boot = alt.bInterfaceSubClass == 1;
      }
      break;
    }
  }
  libusb_free_config_descriptor(cfg);
  if (best_score < 0) {
    why = want_if >= 0 ? "interface " + std::to_string(want_if) + " has no interrupt IN endpoint"
                       : "no HID interface with an interrupt IN endpoint";
    return false;
  }
  return true;
}

struct Transfer {
  libusb_transfer* t = nullptr;
  unsigned char buf[64] = {};
  bool busy = false;
  std::deque<std::vector<std::uint8_t>> reports;
  libusb_transfer_status last = LIBUSB_TRANSFER_COMPLETED;
  bool failed = false;
};

void LIBUSB_CALL on_transfer(libusb_transfer* t) {
  auto* x = static_cast<Transfer*>(t->user_data);
  x->busy = false;
  x->last = t->status;
  if (t->status == LIBUSB_TRANSFER_COMPLETED) {
    x->reports.emplace_back(t->buffer, t->buffer + t->actual_length);
  } else if (t->status != LIBUSB_TRANSFER_TIMED_OUT && t->status != LIBUSB_TRANSFER_CANCELLED) {
    x->failed = true;
  }
}

const char* transfer_status_name(libusb_transfer_status s) {
  switch (s) {
    case LIBUSB_TRANSFER_COMPLETED:
      return "completed";
    case LIBUSB_TRANSFER_ERROR:
      return "transfer error";
    case LIBUSB_TRANSFER_TIMED_OUT:
      return "timed out";
    case LIBUSB_TRANSFER_CANCELLED:
      return "cancelled";
    case LIBUSB_TRANSFER_STALL:
      return "endpoint stalled";
    case LIBUSB_TRANSFER_NO_DEVICE:
      return "device unplugged";
    case LIBUSB_TRANSFER_OVERFLOW:
      return "overflow";
  }
  return "?";
}

int LIBUSB_CALL on_hotplug(libusb_context*, libusb_device*, libusb_hotplug_event, void* user) {
  static_cast<std::atomic<bool>*>(user)->store(true);
  return 0;  // stay registered
}

}  // namespace

void UsbHidScanner::run(Host& host, std::stop_token stop) {
  StatusReporter status(cfg_.common.name, host);
  ReadPipeline pipe(cfg_.common, host);
  HidKeyboard keyboard(key_layout_from(cfg_.layout).value_or(KeyLayout::US));
  Backoff backoff(cfg_.common.retry_min_ms, cfg_.common.retry_max_ms);
  char idbuf[16];
  std::snprintf(idbuf, sizeof idbuf, "%04x:%04x", cfg_.vendor_id, cfg_.product_id);
  const std::string id = idbuf;

  libusb_context* ctx = nullptr;
  while (!stop.stop_requested()) {
    int rc = libusb_init(&ctx);
    if (rc == 0) break;
    status.down(std::string("libusb_init: ") + libusb_error_name(rc));
    if (!backoff.wait(stop)) return;
  }
  if (!ctx) return;
  backoff.reset();

  std::atomic<bool> bus_changed{false};
  libusb_hotplug_callback_handle hp = 0;
  bool hotplug = false;
  if (libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG)) {
    int rc = libusb_hotplug_register_callback(
        ctx,
        static_cast<libusb_hotplug_event>(LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED |
                                          LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT),
        static_cast<libusb_hotplug_flag>(0), cfg_.vendor_id, cfg_.product_id,
        LIBUSB_HOTPLUG_MATCH_ANY, on_hotplug, &bus_changed, &hp);
    hotplug = rc == LIBUSB_SUCCESS;
    if (!hotplug)
      spdlog::info("scanner {}: no libusb hotplug ({}), polling the bus", cfg_.common.name,
                   libusb_error_name(rc));
  }

  // Waits for the bus to change (hotplug) or poll_ms (polling), handling libusb events.
  auto wait_bus = [&]() {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(cfg_.poll_ms);
    while (!stop.stop_requested() && std::chrono::steady_clock::now() < until) {
      if (bus_changed.exchange(false)) return;
      timeval tv{0, 50000};
      libusb_handle_events_timeout_completed(ctx, &tv, nullptr);
    }
  };

  while (!stop.stop_requested()) {
    // --- find the scanner ---
    libusb_device** list = nullptr;
    ssize_t n = libusb_get_device_list(ctx, &list);
    libusb_device_handle* h = nullptr;
    std::string why = "not found on the USB bus";
    Endpoint ep;
    for (ssize_t i = 0; i < n && !h; ++i) {
      libusb_device_descriptor d{};
      if (libusb_get_device_descriptor(list[i], &d) != 0) continue;
      if (d.idVendor != cfg_.vendor_id || d.idProduct != cfg_.product_id) continue;
      if (!find_endpoint(list[i], cfg_.interface, ep, why)) continue;
      int rc = libusb_open(list[i], &h);
      if (rc != 0) {
        why = std::string("cannot open: ") + libusb_error_name(rc) +
              (rc == LIBUSB_ERROR_ACCESS ? " (install the udev rule for the service user)" : "");
        h = nullptr;
        continue;
      }
      if (!cfg_.serial.empty()) {
        unsigned char sn[128] = {};
        int len = d.iSerialNumber
                      ? libusb_get_string_descriptor_ascii(h, d.iSerialNumber, sn, sizeof sn - 1)
                      : -1;
        if (len < 0 || cfg_.serial != reinterpret_cast<char*>(sn)) {
          why = "no device with serial number " + cfg_.serial;
          libusb_close(h);
          h = nullptr;
        }
      }
    }
    if (list) libusb_free_device_list(list, 1);
    if (!h) {
      status.down(id + " " + why);
      if (hotplug)
        wait_bus();
      else if (!sleep_for(stop, std::chrono::milliseconds(cfg_.poll_ms)))
        break;
      continue;
    }

    // --- take it from the kernel and claim it ---
    bool detached = false;
    int rc = libusb_kernel_driver_active(h, ep.interface);
    if (rc == 1) {
      rc = libusb_detach_kernel_driver(h, ep.interface);
      if (rc != 0) {
        status.down(id + " cannot detach the kernel driver: " + libusb_error_name(rc));
        libusb_close(h);
        if (!backoff.wait(stop)) break;
        continue;
      }
      detached = true;
      spdlog::info("scanner {}: detached the kernel driver from interface {}", cfg_.common.name,
                   ep.interface);
    }
    rc = libusb_claim_interface(h, ep.interface);
    if (rc != 0) {
      status.down(id + " cannot claim interface " + std::to_string(ep.interface) + ": " +
                  libusb_error_name(rc));
      if (detached) libusb_attach_kernel_driver(h, ep.interface);
      libusb_close(h);
      if (!backoff.wait(stop)) break;
      continue;
    }
    if (ep.boot) {
      // SET_PROTOCOL(boot) and SET_IDLE(0): plain 8-byte reports, sent on change only. A scanner
      // that refuses either still works in its report protocol as long as it is boot-shaped.
      int r1 = libusb_control_transfer(h, 0x21, 0x0b, 0, static_cast<std::uint16_t>(ep.interface),
                                       nullptr, 0, 500);
      int r2 = libusb_control_transfer(h, 0x21, 0x0a, 0, static_cast<std::uint16_t>(ep.interface),
                                       nullptr, 0, 500);
      if (r1 < 0 || r2 < 0)
        spdlog::debug("scanner {}: SET_PROTOCOL {} SET_IDLE {}", cfg_.common.name,
                      libusb_error_name(r1), libusb_error_name(r2));
    }
    backoff.reset();
    keyboard.reset();
    pipe.reset();
    status.up(id + " claimed, interface " + std::to_string(ep.interface));

    // --- read interrupt reports ---
    Transfer x;
    x.t = libusb_alloc_transfer(0);
    int len = ep.max_packet < static_cast<int>(sizeof x.buf) ? ep.max_packet : sizeof x.buf;
    libusb_fill_interrupt_transfer(x.t, h, ep.address, x.buf, len, on_transfer, &x, 0);
    std::string lost;
    auto last_data = std::chrono::steady_clock::now();
    bool pending = false;
    while (!stop.stop_requested()) {
      if (!x.busy && !x.failed) {
        rc = libusb_submit_transfer(x.t);
        if (rc != 0) {
          lost = rc == LIBUSB_ERROR_NO_DEVICE ? std::string("device unplugged")
                                              : std::string("submit: ") + libusb_error_name(rc);
          break;
        }
        x.busy = true;
      }
      timeval tv{0, 50000};
      rc = libusb_handle_events_timeout_completed(ctx, &tv, nullptr);
      if (rc != 0 && rc != LIBUSB_ERROR_INTERRUPTED) {
        lost = std::string("events: ") + libusb_error_name(rc);
        break;
      }
      auto now = std::chrono::steady_clock::now();
      while (!x.reports.empty()) {
        auto r = std::move(x.reports.front());
        x.reports.pop_front();
        std::string text, note;
        if (!keyboard.report(r.data(), r.size(), text, &note)) {
          spdlog::warn("scanner {}: {}", cfg_.common.name, note);
          continue;
        }
        if (!text.empty()) {
          pipe.text(text);
          last_data = now;
          pending = true;
        }
      }
      if (pending && now - last_data >= std::chrono::milliseconds(cfg_.common.idle_ms)) {
        pipe.idle();
        pending = false;
      }
      if (x.failed) {
        if (x.last == LIBUSB_TRANSFER_STALL) {
          libusb_clear_halt(h, ep.address);
          x.failed = false;
          continue;
        }
        lost = transfer_status_name(x.last);
        break;
      }
      if (bus_changed.exchange(false)) {
        // Something of ours left or arrived; the transfer tells us if it was this one.
      }
    }
    if (x.busy) {
      libusb_cancel_transfer(x.t);
      for (int i = 0; i < 40 && x.busy; ++i) {
        timeval tv{0, 50000};
        libusb_handle_events_timeout_completed(ctx, &tv, nullptr);
      }
    }
    if (!x.busy) libusb_free_transfer(x.t);  // else leaked on purpose: libusb still owns it
    pipe.idle();
    pipe.reset();
    libusb_release_interface(h, ep.interface);
    if (detached && lost.empty()) libusb_attach_kernel_driver(h, ep.interface);
    libusb_close(h);
    if (stop.stop_requested()) break;
    status.down(id + " " + lost);
    if (!backoff.wait(stop)) break;
  }
  if (hotplug) libusb_hotplug_deregister_callback(ctx, hp);
  libusb_exit(ctx);
}

}  // namespace sortd::dev::scanner
