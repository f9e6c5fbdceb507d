// HID report descriptors and HID POS reports shared by the scanner tests (the descriptor parser
// units and the USB driver under umockdev).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace scanner_test {

// A HID POS bar code scanner: the Scanned Data report as Honeywell scanners in "HID POS" mode
// (and Access-IS readers) lay it out: report 2, 64 bytes:
//   [0] report ID 2   [1] byte count   [2..4] AIM symbology identifier ("]C1")
//   [5..60] decoded data (56 bytes)   [61..62] vendor   [63] bit 0: decode data continued
// plus a Trigger output report (4) with the good-read / error beeps.
inline const std::vector<std::uint8_t> kPosScannerDescriptor = {
    0x05, 0x8c,        // Usage Page (Bar Code Scanner)
    0x09, 0x02,        // Usage (Bar Code Scanner)
    0xa1, 0x01,        // Collection (Application)
    0x09, 0x12,        //   Usage (Scanned Data Report)
    0xa1, 0x02,        //   Collection (Logical)
    0x85, 0x02,        //     Report ID (2)
    0x15, 0x00,        //     Logical Minimum (0)
    0x26, 0xff, 0x00,  //     Logical Maximum (255)
    0x75, 0x08,        //     Report Size (8)
    0x95, 0x01,        //     Report Count (1)
    0x05, 0x01,        //     Usage Page (Generic Desktop)
    0x09, 0x3b,        //     Usage (Byte Count)
    0x81, 0x02,        //     Input (Data, Variable, Absolute)
    0x95, 0x03,        //     Report Count (3)
    0x05, 0x8c,        //     Usage Page (Bar Code Scanner)
    0x09, 0xfb,        //     Usage (Symbology Identifier 1)
    0x09, 0xfc,        //     Usage (Symbology Identifier 2)
    0x09, 0xfd,        //     Usage (Symbology Identifier 3)
    0x81, 0x02,        //     Input (Data, Variable, Absolute)
    0x95, 0x38,        //     Report Count (56)
    0x09, 0xfe,        //     Usage (Decoded Data)
    0x82, 0x02, 0x01,  //     Input (Data, Variable, Absolute, Buffered Bytes)
    0x06, 0x66, 0xff,  //     Usage Page (vendor 0xFF66)
    0x95, 0x02,        //     Report Count (2)
    0x09, 0x04,        //     Usage (vendor: code id)
    0x09, 0x00,        //     Usage (vendor)
    0x81, 0x02,        //     Input (Data, Variable, Absolute)
    0x05, 0x8c,        //     Usage Page (Bar Code Scanner)
    0x25, 0x01,        //     Logical Maximum (1)
    0x75, 0x01,        //     Report Size (1)
    0x95, 0x08,        //     Report Count (8)
    0x09, 0xff,        //     Usage (Decode Data Continued), repeated for the 8 bits
    0x81, 0x02,        //     Input (Data, Variable, Absolute)
    0xc0,              //   End Collection
    0x09, 0x14,        //   Usage (Trigger Report)
    0xa1, 0x02,        //   Collection (Logical)
    0x85, 0x04,        //     Report ID (4)
    0x15, 0x00,        //     Logical Minimum (0)
    0x25, 0x01,        //     Logical Maximum (1)
    0x75, 0x01,        //     Report Size (1)
    0x95, 0x08,        //     Report Count (8)
    0x09, 0x00,        //     Usage (Undefined)
    0x09, 0x5f,        //     Usage (Prevent Read of Barcodes)
    0x09, 0x60,        //     Usage (Initiate Barcode Read)
    0x09, 0x00,        //     Usage (Undefined)
    0x09, 0x00,        //     Usage (Undefined)
    0x09, 0x85,        //     Usage (Sound Error Beep)
    0x09, 0x86,        //     Usage (Sound Good Read Beep)
    0x91, 0x86,        //     Output (Data, Variable, Relative, Volatile)
    0xc0,              //   End Collection
    0xc0,              // End Collection
};

// The boot keyboard report descriptor of HID 1.11, appendix E.6 (63 bytes), as keyboard-wedge
// scanners send it.
inline const std::vector<std::uint8_t> kBootKeyboardDescriptor = {
    0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7, 0x15, 0x00, 0x25, 0x01,
    0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0x95, 0x01, 0x75, 0x08, 0x81, 0x01, 0x95, 0x05, 0x75, 0x01,
    0x05, 0x08, 0x19, 0x01, 0x29, 0x05, 0x91, 0x02, 0x95, 0x01, 0x75, 0x03, 0x91, 0x01, 0x95, 0x06,
    0x75, 0x08, 0x15, 0x00, 0x25, 0x65, 0x05, 0x07, 0x19, 0x00, 0x29, 0x65, 0x81, 0x00, 0xc0,
};

// One Scanned Data report of kPosScannerDescriptor.
inline std::vector<std::uint8_t> pos_report(const std::string& aim, const std::string& data,
                                            bool more) {
  std::vector<std::uint8_t> r(64, 0);
  r[0] = 0x02;
  r[1] = static_cast<std::uint8_t>(data.size());
  for (std::size_t i = 0; i < 3 && i < aim.size(); ++i)
    r[2 + i] = static_cast<std::uint8_t>(aim[i]);
  for (std::size_t i = 0; i < data.size() && i < 56; ++i)
    r[5 + i] = static_cast<std::uint8_t>(data[i]);
  r[63] = more ? 0x01 : 0x00;
  return r;
}

// A read as the scanner sends it: 56 bytes a report, "decode data continued" on all but the last.
inline std::vector<std::vector<std::uint8_t>> pos_reports(const std::string& aim,
                                                          const std::string& data) {
  std::vector<std::vector<std::uint8_t>> out;
  std::size_t at = 0;
  do {
    std::size_t n = std::min<std::size_t>(56, data.size() - at);
    out.push_back(pos_report(aim, data.substr(at, n), at + n < data.size()));
    at += n;
  } while (at < data.size());
  return out;
}

}  // namespace scanner_test
