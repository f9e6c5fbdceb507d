// USB HID scanners through libusb: find by vendor/product id, detach the kernel's usbhid driver,
// claim the interface, read input reports from the interrupt IN endpoint. Keyboard-wedge
// scanners: boot keyboard reports typed into the read pipeline. HID POS scanners (usage page
// 0x8C, found in the interface's report descriptor): Scanned Data reports assembled into reads
// (hid_pos.h). Unplug / replug recover by themselves (libusb hotplug where the platform has it,
// polling the bus otherwise).
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>

#include <libusb.h>
#include <spdlog/spdlog.h>

#include "scanner/hid_keyboard.h"
#include "scanner/hid_pos.h"
#include "scanner/scanner.h"

namespace sortd::dev::scanner {

UsbHidConfig read_usb_hid_config(Options& o) {
  UsbHidConfig c;
  c.common = read_common(o, "cr");  // keyboard wedges end a read with Enter
  auto mode = o.choice("mode", "auto", {"auto", "keyboard", "pos"});
  c.mode = mode == "keyboard" ? UsbHidMode::Keyboard
           : mode == "pos"    ? UsbHidMode::Pos
                              : UsbHidMode::Auto;
  c.vendor_id = static_cast<std::uint16_t>(o.integer("vendor_id", 0, 0, 0xffff));
  c.product_id = static_cast<std::uint16_t>(o.integer("product_id", 0, 0, 0xffff));
  if (!o.has("vendor_id")) o.error("vendor_id", "missing (e.g. \"0x05e0\")");
  if (!o.has("product_id")) o.error("product_id", "missing (e.g. \"0x1200\")");
  c.serial = o.str("serial", "");
  c.interface = static_cast<int>(o.integer("interface", -1, -1, 255));
  c.layout = o.str("layout", "us");
  if (!key_layout_from(c.layout))
    o.error("layout", "'" + c.layout + "' is not one of us, uk, de, fr");
  else if (c.mode == UsbHidMode::Pos && o.has("layout"))
    o.error("layout", "a HID POS scanner sends text, not keys (mode = \"pos\"): remove layout");
  c.poll_ms = static_cast<int>(o.integer("poll_ms", 1000, 50, 60000));
  if (!c.common.trigger.empty()) o.error("trigger", "a keyboard-wedge scanner takes no trigger");
  return c;
}

namespace {

struct Endpoint {
  int interface = -1;
  unsigned char address = 0;
  int max_packet = 8;
  bool boot = false;           // boot interface subclass
  int score = 0;               // how much it looks like a boot keyboard
  std::size_t report_len = 0;  // report descriptor length from the HID descriptor; 0 = unknown
};

// The HID interfaces (or the one asked for) with an interrupt IN endpoint, in interface order.
bool find_endpoints(libusb_device* dev, int want_if, std::vector<Endpoint>& eps, std::string& why) {
  eps.clear();
  libusb_config_descriptor* cfg = nullptr;
  int rc = libusb_get_active_config_descriptor(dev, &cfg);
  if (rc != 0) rc = libusb_get_config_descriptor(dev, 0, &cfg);
  if (rc != 0) {
    why = std::string("no configuration descriptor: ") + libusb_error_name(rc);
    return false;
  }
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
      Endpoint ep;
      ep.interface = alt.bInterfaceNumber;
      ep.address = d.bEndpointAddress;
      ep.max_packet = d.wMaxPacketSize ? d.wMaxPacketSize : 8;
      ep.boot = alt.bInterfaceSubClass == 1;
      ep.score = (alt.bInterfaceSubClass == 1 ? 2 : 0) + (alt.bInterfaceProtocol == 1 ? 4 : 0);
      ep.report_len = hid_report_descriptor_length(
          alt.extra, static_cast<std::size_t>(alt.extra_length > 0 ? alt.extra_length : 0));
      eps.push_back(ep);
      break;
    }
  }
  libusb_free_config_descriptor(cfg);
  if (eps.empty()) {
    why = want_if >= 0 ? "interface " + std::to_string(want_if) + " has no interrupt IN endpoint"
                       : "no HID interface with an interrupt IN endpoint";
    return false;
  }
  return true;
}

// An interface taken from the kernel and claimed.
struct Claimed {
  int interface = -1;
  bool detached = false;
};

bool take(libusb_device_handle* h, int iface, Claimed& c, std::string& why,
          const std::string& name) {
  c = {};
  bool detached = false;
  int rc = libusb_kernel_driver_active(h, iface);
  if (rc == 1) {
    rc = libusb_detach_kernel_driver(h, iface);
    if (rc != 0) {
      why = "cannot detach the kernel driver from interface " + std::to_string(iface) + ": " +
            libusb_error_name(rc);
      return false;
    }
    detached = true;
    spdlog::debug("scanner {}: detached the kernel driver from interface {}", name, iface);
  }
  rc = libusb_claim_interface(h, iface);
  if (rc != 0) {
    why = "cannot claim interface " + std::to_string(iface) + ": " + libusb_error_name(rc);
    if (detached) libusb_attach_kernel_driver(h, iface);
    return false;
  }
  c = {iface, detached};
  return true;
}

void give_back(libusb_device_handle* h, Claimed& c, bool reattach) {
  if (c.interface < 0) return;
  libusb_release_interface(h, c.interface);
  if (c.detached && reattach) libusb_attach_kernel_driver(h, c.interface);
  c = {};
}

// GET_DESCRIPTOR(Report) to the interface (HID 1.11, 7.1.1), wLength from the HID descriptor.
bool read_report_descriptor(libusb_device_handle* h, const Endpoint& ep,
                            std::vector<std::uint8_t>& out, std::string& why) {
  std::size_t len = ep.report_len ? ep.report_len : 4096;
  out.assign(len, 0);
  int rc = libusb_control_transfer(
      h, 0x81 /* IN, standard, interface */, LIBUSB_REQUEST_GET_DESCRIPTOR, 0x2200,
      static_cast<std::uint16_t>(ep.interface), out.data(), static_cast<std::uint16_t>(len), 1000);
  if (rc < 0) {
    why = std::string("GET_DESCRIPTOR(Report) failed: ") + libusb_error_name(rc);
    return false;
  }
  out.resize(static_cast<std::size_t>(rc));
  return true;
}

// How the chosen interface is read.
struct Session {
  Endpoint ep;
  Claimed claim;
  std::optional<HidPosLayout> pos;  // set: HID POS; empty: keyboard
  std::size_t input_len = 0;        // longest input report (HID POS)
};

// Chooses the interface and the mode, and claims the interface. Keyboard mode: the boot keyboard
// interface. Auto and POS: each HID interface in turn (those that are not boot interfaces first)
// is claimed and asked for its report descriptor until one offers a HID POS Scanned Data report;
// auto falls back to the keyboard interface, POS gives up saying why.
bool choose(libusb_device_handle* h, const UsbHidConfig& cfg, const std::vector<Endpoint>& eps,
            Session& s, std::string& why) {
  const std::string& name = cfg.common.name;
  const Endpoint* kb = &eps.front();
  for (const auto& e : eps)
    if (e.score > kb->score) kb = &e;
  s = {};
  if (cfg.mode == UsbHidMode::Keyboard) {
    s.ep = *kb;
    return take(h, kb->interface, s.claim, why, name);
  }
  std::vector<const Endpoint*> order;
  for (const auto& e : eps)
    if (!e.boot) order.push_back(&e);
  for (const auto& e : eps)
    if (e.boot) order.push_back(&e);
  std::string reasons;
  for (const Endpoint* e : order) {
    std::string w;
    if (!take(h, e->interface, s.claim, w, name)) {
      reasons += (reasons.empty() ? "" : "; ") + w;
      continue;
    }
    std::vector<std::uint8_t> desc;
    if (read_report_descriptor(h, *e, desc, w)) {
      HidDescriptorInfo info = parse_hid_report_descriptor(desc.data(), desc.size());
      if (info.ok && info.pos) {
        s.ep = *e;
        s.pos = info.pos;
        s.input_len = info.max_input_report;
        const HidPosLayout& L = *info.pos;
        spdlog::info(
            "scanner {}: interface {} is a HID POS scanner: report {} of {} bytes, data at {} "
            "({} bytes), byte count {}, symbology {}, more-data flag {}",
            name, e->interface, L.report_id, L.report_size, L.data_offset, L.data_size,
            L.byte_count ? "yes" : "no", L.symbology[0] ? "yes" : "no", L.more ? "yes" : "no");
        return true;
      }
      w = !info.ok        ? "report descriptor rejected: " + info.error
          : info.pos_page ? "HID POS without a usable Scanned Data report: " + info.pos_problem
                          : "no HID POS (usage page 0x8C) collection";
    }
    w = "interface " + std::to_string(e->interface) + ": " + w;
    reasons += (reasons.empty() ? "" : "; ") + w;
    if (cfg.mode == UsbHidMode::Auto && e == kb) {
      spdlog::info("scanner {}: read as a keyboard ({})", name, w);
      s.ep = *kb;
      return true;  // claimed already
    }
    give_back(h, s.claim, true);
  }
  why = cfg.mode == UsbHidMode::Pos ? "no HID POS interface (" + reasons + ")" : reasons;
  return false;
}

struct Transfer {
  libusb_transfer* t = nullptr;
  std::vector<unsigned char> buf;
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
  // HID POS reports carry the symbology in its own field: the AIM identifier the assembler puts
  // in front of the data is always stripped into the code's symbology, whatever `aim` says.
  CommonConfig pos_common = cfg_.common;
  pos_common.decode.aim = AimMode::Auto;
  ReadPipeline pos_pipe(pos_common, host);
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
    std::vector<Endpoint> eps;
    for (ssize_t i = 0; i < n && !h; ++i) {
      libusb_device_descriptor d{};
      if (libusb_get_device_descriptor(list[i], &d) != 0) continue;
      if (d.idVendor != cfg_.vendor_id || d.idProduct != cfg_.product_id) continue;
      if (!find_endpoints(list[i], cfg_.interface, eps, why)) continue;
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

    // --- choose the interface and how to read it, take it from the kernel, claim it ---
    Session ses;
    if (!choose(h, cfg_, eps, ses, why)) {
      status.down(id + " " + why);
      libusb_close(h);
      if (!backoff.wait(stop)) break;
      continue;
    }
    const Endpoint& ep = ses.ep;
    if (ses.claim.detached)
      spdlog::info("scanner {}: detached the kernel driver from interface {}", cfg_.common.name,
                   ep.interface);
    if (!ses.pos && ep.boot) {
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
    std::optional<HidPosAssembler> assembler;
    if (ses.pos) assembler.emplace(*ses.pos, cfg_.common.framing.max_frame);
    ReadPipeline& reads = ses.pos ? pos_pipe : pipe;
    backoff.reset();
    keyboard.reset();
    reads.reset();
    status.up(id + " claimed, interface " + std::to_string(ep.interface) +
              (ses.pos ? ", HID POS report " + std::to_string(ses.pos->report_id) : ", keyboard"));

    // --- read interrupt reports ---
    auto owned = std::make_unique<Transfer>();
    Transfer& x = *owned;
    x.t = libusb_alloc_transfer(0);
    // Keyboard: one boot report per transfer. HID POS: the longest input report, as usbhid does.
    std::size_t len = ses.pos ? std::max<std::size_t>(ses.input_len, 1)
                              : std::min<std::size_t>(static_cast<std::size_t>(ep.max_packet), 64);
    x.buf.assign(len, 0);
    libusb_fill_interrupt_transfer(x.t, h, ep.address, x.buf.data(), static_cast<int>(len),
                                   on_transfer, &x, 0);
    std::string lost;
    int rc = 0;
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
        if (assembler) {
          HidPosEvent ev = assembler->report(r.data(), r.size());
          last_data = now;
          if (ev.kind == HidPosEvent::Kind::Rejected || ev.dropped)
            reads.reject(ev.note);
          else if (!ev.note.empty())
            spdlog::log(
                ev.kind == HidPosEvent::Kind::Read ? spdlog::level::warn : spdlog::level::debug,
                "scanner {}: {}", cfg_.common.name, ev.note);
          if (ev.kind == HidPosEvent::Kind::Read) reads.frame(ev.text);
          continue;
        }
        std::string text, note;
        if (!keyboard.report(r.data(), r.size(), text, &note)) {
          spdlog::warn("scanner {}: {}", cfg_.common.name, note);
          continue;
        }
        if (!text.empty()) {
          reads.text(text);
          last_data = now;
          pending = true;
        }
      }
      if (assembler && assembler->pending() &&
          now - last_data >= std::chrono::milliseconds(cfg_.common.idle_ms)) {
        HidPosEvent ev = assembler->idle();
        if (ev.kind == HidPosEvent::Kind::Rejected) reads.reject(ev.note);
      }
      if (pending && now - last_data >= std::chrono::milliseconds(cfg_.common.idle_ms)) {
        reads.idle();
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
    if (!x.busy)
      libusb_free_transfer(x.t);
    else
      (void)owned.release();  // libusb still owns the transfer, its buffer and x: leaked on purpose
    if (assembler) {
      HidPosEvent ev = assembler->idle();
      if (ev.kind == HidPosEvent::Kind::Rejected) reads.reject(ev.note);
    }
    reads.idle();
    reads.reset();
    give_back(h, ses.claim, lost.empty());
    libusb_close(h);
    if (stop.stop_requested()) break;
    status.down(id + " " + lost);
    if (!backoff.wait(stop)) break;
  }
  if (hotplug) libusb_hotplug_deregister_callback(ctx, hp);
  libusb_exit(ctx);
}

}  // namespace sortd::dev::scanner
