// sortd scanners: USB HID POS bar code scanners (usage page 0x8C, "HID Point of Sale Usage Tables"
// 1.02, chapter 3). Two pure parts, both safe on any input (a libFuzzer target runs them):
//  - the HID report descriptor parser, which finds the Scanned Data input report and where its
//    fields are (report ID, byte count, symbology identifier bytes, decoded data, "decode data
//    continued");
//  - the assembler, which turns those input reports into reads (a read may span several reports).
// The layout and the continuation convention are described in docs/scanners.md ("HID POS").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sortd::dev::scanner {

// A usage as page << 16 | id.
constexpr std::uint32_t hid_usage(std::uint16_t page, std::uint16_t id) {
  return (static_cast<std::uint32_t>(page) << 16) | id;
}
constexpr std::uint16_t kHidPagePos = 0x8c;                       // Bar Code Scanner page
constexpr std::uint32_t kUsageByteCount = hid_usage(0x01, 0x3b);  // Generic Desktop Byte Count
constexpr std::uint32_t kUsageScannedDataReport = hid_usage(kHidPagePos, 0x12);
constexpr std::uint32_t kUsageSymbologyId1 = hid_usage(kHidPagePos, 0xfb);  // ..0xfd: 2, 3
constexpr std::uint32_t kUsageDecodedData = hid_usage(kHidPagePos, 0xfe);
constexpr std::uint32_t kUsageDecodeDataContinued = hid_usage(kHidPagePos, 0xff);

// A field in a report: bits from the start of the report as it comes off the endpoint (the
// report ID byte, when the interface uses report IDs, is bits 0..7).
struct HidBits {
  std::uint32_t offset = 0;  // in bits
  std::uint32_t size = 0;    // in bits, 1..32
  bool operator==(const HidBits&) const = default;
};

// Where the Scanned Data report keeps what a read needs.
struct HidPosLayout {
  std::uint8_t report_id = 0;         // 0: the interface's reports carry no ID byte
  std::size_t report_size = 0;        // bytes, ID byte included
  std::optional<HidBits> byte_count;  // valid bytes of decoded data in this report
  std::array<std::optional<std::size_t>, 3> symbology;  // byte offsets of Symbology Identifier 1..3
  std::size_t data_offset = 0;                          // byte offset of the decoded data
  std::size_t data_size = 0;    // bytes of decoded data the report can carry
  std::optional<HidBits> more;  // Decode Data Continued: non-zero = more data follows
};

// What the report descriptor says, as far as sortd cares.
struct HidDescriptorInfo {
  bool ok = false;
  std::string error;                 // why the descriptor was rejected, with the byte offset
  bool keyboard = false;             // has a Generic Desktop Keyboard application collection
  bool pos_page = false;             // has a collection on the Bar Code Scanner page (0x8C)
  std::optional<HidPosLayout> pos;   // the Scanned Data report, when it is usable
  std::string pos_problem;           // why a 0x8C collection gives no usable Scanned Data report
  std::size_t max_input_report = 0;  // longest input report, bytes (ID byte included)
};

// Parses a HID report descriptor (HID 1.11, 6.2.2): short items, long items skipped, Push/Pop of
// the global state, usages with and without an explicit page, usage ranges. Rejects truncated
// items, Pop without Push, a too deep Push stack, unbalanced collections, Report ID 0 or > 255,
// reserved global items, reports longer than 16 KiB and Report Size > 256 bits (the limits of
// the Linux HID core). A pure function over bytes.
HidDescriptorInfo parse_hid_report_descriptor(const std::uint8_t* data, std::size_t size);

// Reads the report descriptor length out of a HID class descriptor (HID 1.11, 6.2.1: type 0x21,
// then bNumDescriptors entries of [bDescriptorType, wDescriptorLength]) found in `extra` (the
// class-specific bytes after an interface descriptor). 0 when there is none.
std::size_t hid_report_descriptor_length(const std::uint8_t* extra, std::size_t size);

// What one input report did.
struct HidPosEvent {
  enum class Kind {
    None,      // nothing to do (a report of another ID, an empty report); `note` may say why
    Partial,   // kept: more data follows
    Read,      // `text` is a whole read: AIM identifier (when the scanner sent one) + data
    Rejected,  // dropped; `note` says what and why
  };
  Kind kind = Kind::None;
  std::string text;
  std::string note;      // with Read: a warning worth a log line (e.g. unknown symbology bytes)
  bool dropped = false;  // a read in progress was dropped before this report (`note` says why)
};

// Scanned Data reports -> reads. A read spans reports while "Decode Data Continued" is set; the
// symbology identifier is taken from its first report. Bounded: a read longer than `max_read`
// bytes is dropped whole.
class HidPosAssembler {
 public:
  explicit HidPosAssembler(HidPosLayout layout, std::size_t max_read = 4096)
      : layout_(layout), max_read_(max_read) {}

  // One report as read from the interrupt endpoint (ID byte first when the layout has one).
  HidPosEvent report(const std::uint8_t* data, std::size_t size);
  // The scanner has been quiet for a while: a read still waiting for its continuation is
  // dropped. Returns the Rejected event, or None when nothing was pending.
  HidPosEvent idle();
  void reset();
  bool pending() const { return pending_ || discarding_; }
  const HidPosLayout& layout() const { return layout_; }

 private:
  HidPosLayout layout_;
  std::size_t max_read_;
  bool pending_ = false;     // collecting a read that spans reports
  bool discarding_ = false;  // dropping the rest of an over-long read
  std::string aim_;          // "]C1" of the pending read, or empty
  std::string data_;
};

// Value of `bits` in a report (little-endian, HID 1.11 5.8); 0 when out of range.
std::uint32_t hid_extract(const std::uint8_t* data, std::size_t size, HidBits bits);

}  // namespace sortd::dev::scanner
