#include "scanner/hid_pos.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "scanner/decode.h"
#include "scanner/framing.h"

namespace sortd::dev::scanner {

namespace {

// Limits, as the Linux HID core has them (drivers/hid/hid-core.c, include/linux/hid.h).
constexpr std::uint32_t kMaxReportSizeBits = 256;
constexpr std::uint32_t kMaxReportCount = 12288;  // HID_MAX_USAGES
constexpr std::size_t kMaxUsages = 12288;
constexpr std::size_t kMaxReportBytes = 16384;  // HID_MAX_BUFFER_SIZE
constexpr std::size_t kMaxPushDepth = 8;
constexpr std::size_t kMaxCollectionDepth = 32;

struct Globals {
  std::uint32_t usage_page = 0;
  std::uint32_t report_size = 0;
  std::uint32_t report_count = 0;
  std::uint32_t report_id = 0;
};

struct UsageRange {
  std::uint32_t min = 0, max = 0;
  bool extended = false;  // given with its page (4-byte item)
};

// An Input main item that may carry a Scanned Data field.
struct InputItem {
  std::uint32_t report_id = 0;
  std::uint32_t bit_offset = 0;  // from the start of the report's data (after any ID byte)
  std::uint32_t size = 0, count = 0;
  std::uint32_t flags = 0;
  std::vector<UsageRange> usages;
  bool in_scanned_data = false;  // inside a Scanned Data Report (0x8C:0x12) collection
};

bool relevant(std::uint32_t usage) {
  return (usage >> 16) == kHidPagePos || usage == kUsageByteCount;
}

std::string hex(std::uint32_t v, int digits = 2) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%0*x", digits, v);
  return buf;
}

// The usage of each field of an item in turn: usages are taken in order, the last one repeats
// for the remaining fields (HID 1.11, 6.2.2.8).
class UsageCursor {
 public:
  explicit UsageCursor(const std::vector<UsageRange>& r) : r_(r) {}
  std::uint32_t next() {
    if (r_.empty()) return 0;
    if (i_ >= r_.size()) return r_.back().max;
    std::uint32_t u = r_[i_].min + step_;
    if (u >= r_[i_].max) {
      ++i_;
      step_ = 0;
    } else {
      ++step_;
    }
    return u;
  }

 private:
  const std::vector<UsageRange>& r_;
  std::size_t i_ = 0;
  std::uint32_t step_ = 0;
};

class Parser {
 public:
  Parser(const std::uint8_t* d, std::size_t n) : d_(d), n_(n) {}

  HidDescriptorInfo run() {
    bits_.fill({});
    std::size_t i = 0;
    while (i < n_ && out_.error.empty()) {
      std::uint8_t b = d_[i];
      if (b == 0xfe) {  // long item: [0xfe, bDataSize, bLongItemTag, data...]; none is defined
        if (i + 3 > n_) return fail("long item at offset " + std::to_string(i) + " is truncated");
        std::size_t len = d_[i + 1];
        if (i + 3 + len > n_)
          return fail("long item at offset " + std::to_string(i) + " needs " + std::to_string(len) +
                      " data byte(s), " + std::to_string(n_ - i - 3) + " left");
        i += 3 + len;
        continue;
      }
      std::size_t len = b & 3;
      if (len == 3) len = 4;
      if (i + 1 + len > n_)
        return fail("item " + hex(b) + " at offset " + std::to_string(i) + " needs " +
                    std::to_string(len) + " data byte(s), " + std::to_string(n_ - i - 1) + " left");
      std::uint32_t u = 0;
      for (std::size_t k = 0; k < len; ++k)
        u |= static_cast<std::uint32_t>(d_[i + 1 + k]) << (8 * k);
      at_ = i;
      item(b, len, u);
      i += 1 + len;
    }
    if (!out_.error.empty()) return out_;
    if (!stack_.empty())
      return fail(std::to_string(stack_.size()) + " collection(s) not closed at the end (" +
                  std::to_string(n_) + " bytes)");
    if (with_id_ && without_id_)
      return fail("main items without a Report ID beside items with one (offset " +
                  std::to_string(without_id_at_) + ")");
    for (std::size_t id = 0; id < 256; ++id) {
      std::size_t bytes = (bits_[id] + 7) / 8 + (with_id_ ? 1 : 0);
      if (bits_[id] > 0) out_.max_input_report = std::max(out_.max_input_report, bytes);
    }
    layout();
    out_.ok = true;
    return out_;
  }

 private:
  HidDescriptorInfo fail(std::string why) {
    out_.ok = false;
    out_.error = std::move(why);
    out_.pos.reset();
    return out_;
  }
  std::string where() const { return " at offset " + std::to_string(at_); }

  void item(std::uint8_t b, std::size_t len, std::uint32_t u) {
    int type = (b >> 2) & 3, tag = b >> 4;
    switch (type) {
      case 0:
        last_usage_page();
        main_item(tag, u);
        locals_.clear();
        min_.reset();
        break;
      case 1:
        global_item(tag, u);
        break;
      case 2:
        local_item(tag, len, u);
        break;
      default:
        fail("reserved item type (item " + hex(b) + ")" + where());
    }
  }

  // A Usage Page declared after short usages, before their main item, applies to them (the rule
  // of the Linux HID core, hid_concatenate_last_usage_page): walking back from the last usage,
  // short usages take the current page until one already has it.
  void last_usage_page() {
    for (std::size_t i = locals_.size(); i-- > 0;) {
      UsageRange& r = locals_[i];
      if (r.extended) continue;
      if ((r.min >> 16) == g_.usage_page) break;
      r.min = (g_.usage_page << 16) | (r.min & 0xffff);
      r.max = (g_.usage_page << 16) | (r.max & 0xffff);
    }
  }

  void main_item(int tag, std::uint32_t u) {
    switch (tag) {
      case 0x8:  // Input
        fields(u, true);
        break;
      case 0x9:  // Output
      case 0xb:  // Feature
        fields(u, false);
        break;
      case 0xa: {  // Collection
        if (stack_.size() >= kMaxCollectionDepth)
          return (void)fail("collections nested deeper than " +
                            std::to_string(kMaxCollectionDepth) + where());
        std::uint32_t usage = locals_.empty() ? 0 : locals_.front().min;
        std::uint32_t kind = u & 0xff;
        if (kind == 0x01 && usage == hid_usage(0x01, 0x06)) out_.keyboard = true;
        if ((usage >> 16) == kHidPagePos) out_.pos_page = true;
        stack_.push_back(usage);
        break;
      }
      case 0xc:  // End Collection
        if (stack_.empty()) return (void)fail("End Collection without a Collection" + where());
        stack_.pop_back();
        break;
      default:
        break;  // reserved main items carry no fields: ignored, as the Linux HID core does
    }
  }

  void fields(std::uint32_t flags, bool input) {
    const Globals& g = g_;
    if (g.report_id != 0) {
      with_id_ = true;
    } else if (!without_id_) {
      without_id_ = true;
      without_id_at_ = at_;
    }
    std::uint64_t bits = std::uint64_t{g.report_size} * g.report_count;
    if (!input) {
      // Output and feature reports only need to be sane; their layout is not used.
      auto& total = other_bits_[g.report_id];
      total += bits;
      if (total > kMaxReportBytes * 8)
        fail("report " + std::to_string(g.report_id) + " longer than " +
             std::to_string(kMaxReportBytes) + " bytes" + where());
      return;
    }
    std::uint64_t& total = bits_[g.report_id];
    if (total + bits > kMaxReportBytes * 8)
      return (void)fail("input report " + std::to_string(g.report_id) + " longer than " +
                        std::to_string(kMaxReportBytes) + " bytes" + where());
    bool keep = std::any_of(locals_.begin(), locals_.end(),
                            [](const UsageRange& r) { return relevant(r.min) || relevant(r.max); });
    if (keep && bits > 0) {
      InputItem it;
      it.report_id = g.report_id;
      it.bit_offset = static_cast<std::uint32_t>(total);
      it.size = g.report_size;
      it.count = g.report_count;
      it.flags = flags;
      it.usages = locals_;
      it.in_scanned_data =
          std::find(stack_.begin(), stack_.end(), kUsageScannedDataReport) != stack_.end();
      inputs_.push_back(std::move(it));
    }
    total += bits;
  }

  void global_item(int tag, std::uint32_t u) {
    switch (tag) {
      case 0x0:  // Usage Page
        if (u > 0xffff) return (void)fail("usage page " + hex(u, 8) + " out of range" + where());
        g_.usage_page = u;
        break;
      case 0x1:  // Logical Minimum
      case 0x2:  // Logical Maximum
      case 0x3:  // Physical Minimum
      case 0x4:  // Physical Maximum
      case 0x5:  // Unit Exponent
      case 0x6:  // Unit
        break;
      case 0x7:  // Report Size
        if (u > kMaxReportSizeBits)
          return (void)fail("Report Size " + std::to_string(u) + " bits over " +
                            std::to_string(kMaxReportSizeBits) + where());
        g_.report_size = u;
        break;
      case 0x8:  // Report ID
        if (u == 0 || u > 255)
          return (void)fail("Report ID " + std::to_string(u) + " not in 1..255" + where());
        g_.report_id = u;
        break;
      case 0x9:  // Report Count
        if (u > kMaxReportCount)
          return (void)fail("Report Count " + std::to_string(u) + " over " +
                            std::to_string(kMaxReportCount) + where());
        g_.report_count = u;
        break;
      case 0xa:  // Push
        if (push_.size() >= kMaxPushDepth)
          return (void)fail("Push deeper than " + std::to_string(kMaxPushDepth) + where());
        push_.push_back(g_);
        break;
      case 0xb:  // Pop
        if (push_.empty()) return (void)fail("Pop without a Push" + where());
        g_ = push_.back();
        push_.pop_back();
        break;
      default:
        fail("reserved global item tag " + hex(static_cast<std::uint32_t>(tag), 1) + where());
    }
  }

  void local_item(int tag, std::size_t len, std::uint32_t u) {
    // A 4-byte usage carries its own page; a shorter one takes the current Usage Page.
    std::uint32_t full = len == 4 ? u : (g_.usage_page << 16) | (u & 0xffff);
    switch (tag) {
      case 0x0:  // Usage
        add({full, full, len == 4});
        break;
      case 0x1:  // Usage Minimum
        min_ = full;
        min_extended_ = len == 4;
        break;
      case 0x2:            // Usage Maximum
        if (!min_) break;  // a maximum alone says nothing
        if ((full >> 16) != (*min_ >> 16) || full < *min_)
          return (void)fail("Usage Maximum " + hex(full, 8) + " does not follow Usage Minimum " +
                            hex(*min_, 8) + where());
        add({*min_, full, len == 4 || min_extended_});
        min_.reset();
        break;
      default:
        break;  // designators, strings, delimiters: not needed here
    }
  }

  void add(UsageRange r) {
    if (locals_.size() >= kMaxUsages)
      return (void)fail("more than " + std::to_string(kMaxUsages) + " usages" + where());
    locals_.push_back(r);
  }

  // Finds the Scanned Data report and its fields.
  void layout() {
    const InputItem* first = nullptr;
    for (const auto& it : inputs_) {
      bool variable = (it.flags & 0x02) != 0, constant = (it.flags & 0x01) != 0;
      if (!variable || constant) continue;
      bool data = std::any_of(it.usages.begin(), it.usages.end(), [](const UsageRange& r) {
        return r.min <= kUsageDecodedData && kUsageDecodedData <= r.max;
      });
      if (!data) continue;
      if (it.in_scanned_data) {
        first = &it;
        break;
      }
      if (!first) first = &it;
    }
    if (!first) {
      if (out_.pos_page) out_.pos_problem = "no Decoded Data (0x8C:0xFE) field in an input report";
      return;
    }
    HidPosLayout L;
    L.report_id = static_cast<std::uint8_t>(first->report_id);
    const std::uint32_t base = with_id_ ? 8 : 0;
    L.report_size = static_cast<std::size_t>((bits_[first->report_id] + 7) / 8) + base / 8;
    std::string problem;
    for (const auto& it : inputs_) {
      if (it.report_id != first->report_id) continue;
      bool variable = (it.flags & 0x02) != 0, constant = (it.flags & 0x01) != 0;
      if (!variable || constant) continue;
      UsageCursor cur(it.usages);
      for (std::uint32_t k = 0; k < it.count; ++k) {
        std::uint32_t usage = cur.next();
        if (!relevant(usage)) continue;
        std::uint32_t bit = base + it.bit_offset + k * it.size;
        bool byte = it.size == 8 && bit % 8 == 0;
        HidBits field{bit, it.size};
        if (usage == kUsageDecodedData) {
          if (!byte) {
            problem = "Decoded Data fields are not whole bytes";
          } else if (L.data_size == 0) {
            L.data_offset = bit / 8;
            L.data_size = 1;
          } else if (bit / 8 == L.data_offset + L.data_size) {
            ++L.data_size;  // one run of bytes; a second run is ignored
          }
        } else if (usage >= kUsageSymbologyId1 && usage < kUsageSymbologyId1 + 3) {
          auto& s = L.symbology[usage - kUsageSymbologyId1];
          if (byte && !s) s = bit / 8;
        } else if (usage == kUsageByteCount) {
          if (!L.byte_count && it.size >= 1 && it.size <= 32) L.byte_count = field;
        } else if (usage == kUsageDecodeDataContinued) {
          if (!L.more && it.size >= 1 && it.size <= 32) L.more = field;
        }
      }
    }
    if (L.data_size == 0) {
      out_.pos_problem = problem.empty() ? "no usable Decoded Data field" : problem;
      return;
    }
    out_.pos = L;
  }

  const std::uint8_t* d_;
  std::size_t n_;
  std::size_t at_ = 0;
  HidDescriptorInfo out_;
  Globals g_;
  std::vector<Globals> push_;
  std::vector<UsageRange> locals_;
  std::optional<std::uint32_t> min_;
  bool min_extended_ = false;
  std::vector<std::uint32_t> stack_;       // usages of the open collections
  std::array<std::uint64_t, 256> bits_{};  // input report lengths by ID
  std::array<std::uint64_t, 256> other_bits_{};
  bool with_id_ = false, without_id_ = false;
  std::size_t without_id_at_ = 0;
  std::vector<InputItem> inputs_;
};

std::size_t end_byte(HidBits b) {
  return (static_cast<std::size_t>(b.offset) + b.size + 7) / 8;
}

}  // namespace

HidDescriptorInfo parse_hid_report_descriptor(const std::uint8_t* data, std::size_t size) {
  if (!data || size == 0) {
    HidDescriptorInfo out;
    out.error = "empty report descriptor";
    return out;
  }
  return Parser(data, size).run();
}

std::size_t hid_report_descriptor_length(const std::uint8_t* extra, std::size_t size) {
  std::size_t i = 0;
  while (extra && i + 2 <= size) {
    std::size_t len = extra[i];
    if (len < 2 || i + len > size) return 0;
    if (extra[i + 1] == 0x21 && len >= 9) {
      std::size_t count = extra[i + 5];
      for (std::size_t k = 0; k < count && 6 + 3 * k + 3 <= len; ++k) {
        const std::uint8_t* e = extra + i + 6 + 3 * k;
        if (e[0] == 0x22) return static_cast<std::size_t>(e[1] | (e[2] << 8));
      }
      return 0;
    }
    i += len;
  }
  return 0;
}

std::uint32_t hid_extract(const std::uint8_t* data, std::size_t size, HidBits bits) {
  if (bits.size == 0 || bits.size > 32 || end_byte(bits) > size) return 0;
  std::uint64_t v = 0;
  std::size_t first = bits.offset / 8, last = end_byte(bits);
  for (std::size_t i = last; i-- > first;) v = (v << 8) | data[i];
  v >>= bits.offset % 8;
  return static_cast<std::uint32_t>(bits.size == 32 ? v
                                                    : v & ((std::uint64_t{1} << bits.size) - 1));
}

HidPosEvent HidPosAssembler::report(const std::uint8_t* data, std::size_t size) {
  HidPosEvent ev;
  const HidPosLayout& L = layout_;
  if (!data || size == 0) {
    ev.note = "empty report";
    return ev;
  }
  if (L.report_id != 0 && data[0] != L.report_id) {
    ev.note = "report " + std::to_string(data[0]) + " is not the Scanned Data report (" +
              std::to_string(L.report_id) + "): ignored";
    return ev;
  }
  auto reject = [&](std::string why) {
    if (pending_)
      why += " (the read in progress, " + std::to_string(data_.size()) + " byte(s), dropped too)";
    reset();
    ev.kind = HidPosEvent::Kind::Rejected;
    ev.note = std::move(why);
    return ev;
  };
  // The report must reach every field we read.
  std::size_t need = L.data_offset;
  if (L.byte_count) need = std::max(need, end_byte(*L.byte_count));
  if (L.more) need = std::max(need, end_byte(*L.more));
  for (const auto& s : L.symbology)
    if (s) need = std::max(need, *s + 1);
  if (size < need)
    return reject("Scanned Data report cut short: " + std::to_string(size) +
                  " byte(s), its fields need " + std::to_string(need));
  std::size_t len = 0;
  if (L.byte_count) {
    len = hid_extract(data, size, *L.byte_count);
    if (len > L.data_size)
      return reject("byte count " + std::to_string(len) + " is more than the " +
                    std::to_string(L.data_size) + " bytes of decoded data a report holds");
    if (L.data_offset + len > size)
      return reject("Scanned Data report cut short: byte count " + std::to_string(len) + ", only " +
                    std::to_string(size - L.data_offset) + " byte(s) of data came");
  } else {
    // No byte count: the data field is padded with NULs.
    len = std::min(L.data_size, size > L.data_offset ? size - L.data_offset : 0);
    while (len > 0 && data[L.data_offset + len - 1] == 0) --len;
  }
  bool more = L.more && hid_extract(data, size, *L.more) != 0;

  // The symbology identifier: three bytes, "]" + code character + modifier (AIM).
  std::string aim;
  if (L.symbology[0] && L.symbology[1] && L.symbology[2]) {
    std::string s = {static_cast<char>(data[*L.symbology[0]]),
                     static_cast<char>(data[*L.symbology[1]]),
                     static_cast<char>(data[*L.symbology[2]])};
    std::string sym;
    std::string_view rest;
    if (s != std::string(3, '\0')) {
      if (split_aim(s, sym, rest))
        aim = s;
      else
        ev.note = "symbology bytes '" + printable(s) + "' are not an AIM identifier: ignored";
    }
  }
  std::string_view chunk(reinterpret_cast<const char*>(data) + L.data_offset, len);

  if (discarding_) {
    if (!more) discarding_ = false;
    ev.note = "the rest of an over-long read dropped";
    return ev;
  }
  if (pending_ && !aim.empty() && !aim_.empty() && aim != aim_) {
    // A new read while the last one still waited for its continuation: it lost its end.
    std::string drop = "read cut short (" + aim_ + ", " + std::to_string(data_.size()) +
                       " byte(s)): the next report starts a " + aim + " read; dropped";
    reset();
    HidPosEvent next = report(data, size);
    next.dropped = true;
    next.note = drop + (next.note.empty() ? "" : "; " + next.note);
    return next;
  }
  if (!pending_) aim_ = aim;
  if (data_.size() + len > max_read_) {
    bool was_more = more;
    auto r = reject("read longer than " + std::to_string(max_read_) + " bytes dropped");
    discarding_ = was_more;
    return r;
  }
  data_.append(chunk);
  if (more) {
    pending_ = true;
    ev.kind = HidPosEvent::Kind::Partial;
    return ev;
  }
  std::string text = aim_ + data_;
  reset();
  if (text.empty()) {
    ev.note = "empty Scanned Data report";
    return ev;
  }
  ev.kind = HidPosEvent::Kind::Read;
  ev.text = std::move(text);
  return ev;
}

HidPosEvent HidPosAssembler::idle() {
  HidPosEvent ev;
  if (pending_) {
    ev.kind = HidPosEvent::Kind::Rejected;
    ev.note = "read cut short: more data was announced but none came (" +
              std::to_string(data_.size()) + " byte(s) " + (aim_.empty() ? "" : aim_ + " ") +
              "dropped)";
  }
  reset();
  return ev;
}

void HidPosAssembler::reset() {
  pending_ = false;
  discarding_ = false;
  aim_.clear();
  data_.clear();
}

}  // namespace sortd::dev::scanner
