// Order import: CSV (RFC 4180) and JSON, one ImportError per bad row with its line and field.
// The formats are documented in docs/orders.md.
#include "orders.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "routing_regions.h"

namespace sortd {

std::string ImportError::str() const {
  std::string s = source + ":" + std::to_string(line) + ": ";
  if (!field.empty()) s += field + ": ";
  s += message;
  return s;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Columns (CSV) and keys (JSON): the same names.

enum class F : std::uint8_t {
  OrderId,
  Codes,
  Province,
  City,
  District,
  Postcode,
  Address,
  Recipient,
  Phone,
  WeightKg,
  WeightG,
  LengthMm,
  WidthMm,
  HeightMm,
  LengthCm,
  WidthCm,
  HeightCm,
  Cod,
  CodFen,
  Invoice,
  Service,
  PickupPoint,
  Fragile,
  Preferred,
  Forbidden,
  Status,
};

struct FieldName {
  std::string_view name;
  F f;
};
constexpr std::array<FieldName, 26> kFieldNames{{
    {"order_id", F::OrderId},    {"codes", F::Codes},
    {"province", F::Province},   {"city", F::City},
    {"district", F::District},   {"postcode", F::Postcode},
    {"address", F::Address},     {"recipient", F::Recipient},
    {"phone", F::Phone},         {"weight_kg", F::WeightKg},
    {"weight_g", F::WeightG},    {"length_mm", F::LengthMm},
    {"width_mm", F::WidthMm},    {"height_mm", F::HeightMm},
    {"length_cm", F::LengthCm},  {"width_cm", F::WidthCm},
    {"height_cm", F::HeightCm},  {"cod", F::Cod},
    {"cod_fen", F::CodFen},      {"invoice", F::Invoice},
    {"service", F::Service},     {"pickup_point", F::PickupPoint},
    {"fragile", F::Fragile},     {"preferred", F::Preferred},
    {"forbidden", F::Forbidden}, {"status", F::Status},
}};

std::optional<F> field_from(std::string_view name) {
  for (const auto& fn : kFieldNames)
    if (fn.name == name) return fn.f;
  return std::nullopt;
}
std::string_view name_of(F f) {
  for (const auto& fn : kFieldNames)
    if (fn.f == f) return fn.name;
  return "?";
}
std::string known_fields() {
  std::string s;
  for (const auto& fn : kFieldNames) {
    if (!s.empty()) s += ", ";
    s += fn.name;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Small text helpers

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

constexpr const char* kBadUtf8 =
    "invalid UTF-8 (is the file saved in GBK? save it as UTF-8, with or without BOM)";

// A value quoted for a message: at most ~40 bytes, cut on a character boundary, invalid bytes
// shown as '?'.
std::string quote(std::string_view v) {
  std::string out = "'";
  std::size_t i = 0;
  while (i < v.size()) {
    if (out.size() > 40) {
      out += "...";
      break;
    }
    auto c = static_cast<unsigned char>(v[i]);
    std::size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    if (i + len <= v.size() && valid_utf8(v.substr(i, len)) && (c >= 0x20 || len > 1)) {
      out.append(v.substr(i, len));
      i += len;
    } else {
      out += '?';
      ++i;
    }
  }
  out += "'";
  return out;
}

// Parses a non-negative decimal ("12", "12.5") into an integer scaled by 10^scale.
// Returns an error message, or empty on success.
std::string parse_scaled(std::string_view s, int scale, std::int64_t max, std::int64_t& out) {
  if (s.empty()) return "is empty";
  std::string_view body = s;
  if (body.front() == '-') {
    bool numeric = body.size() > 1;
    for (char c : body.substr(1))
      if (!((c >= '0' && c <= '9') || c == '.')) numeric = false;
    return numeric ? "must not be negative (" + std::string(s) + ")" : "not a number: " + quote(s);
  }
  if (body.front() == '+') body.remove_prefix(1);
  std::int64_t whole = 0, frac = 0;
  int frac_digits = 0, whole_digits = 0;
  bool dot = false;
  for (char c : body) {
    if (c == '.') {
      if (dot) return "not a number: " + quote(s);
      dot = true;
      continue;
    }
    if (c < '0' || c > '9') return "not a number: " + quote(s);
    if (!dot) {
      if (++whole_digits > 15) return "too large: " + quote(s);
      whole = whole * 10 + (c - '0');
    } else {
      ++frac_digits;
      if (frac_digits > scale) {
        if (c != '0')
          return "at most " + std::to_string(scale) + " decimal" + (scale == 1 ? "" : "s") +
                 " allowed: " + quote(s);
        continue;
      }
      frac = frac * 10 + (c - '0');
    }
  }
  if (whole_digits == 0 && frac_digits == 0) return "not a number: " + quote(s);
  std::int64_t scaled = whole;
  for (int i = 0; i < scale; ++i) scaled *= 10;
  for (int i = std::min(frac_digits, scale); i < scale; ++i) frac *= 10;
  scaled += frac;
  if (scaled > max) return "too large: " + quote(s);
  out = scaled;
  return {};
}

std::string parse_bool(std::string_view s, bool& out) {
  std::string l;
  for (char c : s) l += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (l.empty() || l == "0" || l == "false" || l == "no" || l == "n" || l == "否") {
    out = false;
    return {};
  }
  if (l == "1" || l == "true" || l == "yes" || l == "y" || l == "是") {
    out = true;
    return {};
  }
  return "not a yes/no value: " + quote(s) + " (use 1/0, true/false, yes/no)";
}

std::string split_list(std::string_view s, std::vector<std::string>& out, const char* what) {
  out.clear();
  if (s.empty()) return {};
  std::size_t start = 0;
  while (true) {
    std::size_t bar = s.find('|', start);
    std::string_view item =
        trim(s.substr(start, bar == std::string_view::npos ? bar : bar - start));
    if (item.empty()) return std::string("empty ") + what + " in " + quote(s);
    out.emplace_back(item);
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return {};
}

constexpr std::int64_t kMaxWeightG = 1'000'000;   // 1 t
constexpr std::int64_t kMaxSideMm = 10'000;       // 10 m
constexpr std::int64_t kMaxCodFen = 100'000'000;  // 1,000,000 yuan
constexpr std::size_t kMaxCodes = 16;
constexpr std::size_t kMaxIdBytes = 64;
constexpr std::size_t kMaxCodeBytes = 64;
constexpr std::size_t kMaxTextBytes = 512;

// Sets one field of `o` from its text value (trimmed). Returns an error message or empty.
std::string set_field(Order& o, F f, std::string_view v) {
  std::int64_t n = 0;
  std::string e;
  auto dim = [&](std::int32_t& dst, int scale_to_mm) -> std::string {
    if (v.empty()) {
      dst = 0;
      return {};
    }
    std::string err = parse_scaled(v, scale_to_mm, kMaxSideMm, n);
    if (err.empty()) dst = static_cast<std::int32_t>(n);
    return err;
  };
  switch (f) {
    case F::OrderId:
      o.id.assign(v);
      return {};
    case F::Codes:
      return split_list(v, o.codes, "code");
    case F::Province:
      o.province.assign(v);
      return {};
    case F::City:
      o.city.assign(v);
      return {};
    case F::District:
      o.district.assign(v);
      return {};
    case F::Postcode:
      o.postcode.assign(v);
      return {};
    case F::Address:
      o.address.assign(v);
      return {};
    case F::Recipient:
      o.recipient.assign(v);
      return {};
    case F::Phone:
      o.phone.assign(v);
      return {};
    case F::WeightKg:
    case F::WeightG:
      if (v.empty()) return "is required (the declared weight)";
      e = parse_scaled(v, f == F::WeightKg ? 3 : 0, kMaxWeightG, n);
      if (!e.empty()) return e;
      if (n == 0) return "must be more than 0";
      o.weight_g = static_cast<std::int32_t>(n);
      return {};
    case F::LengthMm:
      return dim(o.length_mm, 0);
    case F::WidthMm:
      return dim(o.width_mm, 0);
    case F::HeightMm:
      return dim(o.height_mm, 0);
    case F::LengthCm:
      return dim(o.length_mm, 1);
    case F::WidthCm:
      return dim(o.width_mm, 1);
    case F::HeightCm:
      return dim(o.height_mm, 1);
    case F::Cod:
      if (v.empty()) {
        o.cod_fen = 0;
        return {};
      }
      e = parse_scaled(v, 2, kMaxCodFen, n);
      if (e.empty()) o.cod_fen = n;
      return e;
    case F::CodFen:
      if (v.empty()) {
        o.cod_fen = 0;
        return {};
      }
      e = parse_scaled(v, 0, kMaxCodFen, n);
      if (e.empty()) o.cod_fen = n;
      return e;
    case F::Invoice:
      return parse_bool(v, o.invoice);
    case F::PickupPoint:
      return parse_bool(v, o.pickup_point);
    case F::Fragile:
      return parse_bool(v, o.fragile);
    case F::Service: {
      if (v.empty()) {
        o.service = ServiceLevel::Standard;
        return {};
      }
      auto s = service_level_from(v);
      if (!s) return "unknown service level " + quote(v) + " (standard, express or same_day)";
      o.service = *s;
      return {};
    }
    case F::Status: {
      if (v.empty()) {
        o.status = OrderStatus::Active;
        return {};
      }
      auto s = order_status_from(v);
      if (!s) return "unknown status " + quote(v) + " (active, held or cancelled)";
      o.status = *s;
      return {};
    }
    case F::Preferred:
      return split_list(v, o.preferred, "courier id");
    case F::Forbidden:
      return split_list(v, o.forbidden, "courier id");
  }
  return "unknown field";
}

std::optional<ImportError> field_error(std::string field, std::string message) {
  ImportError e;
  e.field = std::move(field);
  e.message = std::move(message);
  return e;
}

// Checks a text field: valid UTF-8, no control characters (address may hold line breaks and
// tabs), not too long.
std::optional<ImportError> check_text(const char* field, std::string_view v, bool multiline) {
  if (!valid_utf8(v)) return field_error(field, kBadUtf8);
  if (v.size() > kMaxTextBytes)
    return field_error(field, "too long (" + std::to_string(v.size()) + " bytes, at most " +
                                  std::to_string(kMaxTextBytes) + ")");
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) {
      if (multiline && (c == '\n' || c == '\r' || c == '\t')) continue;
      return field_error(field, "contains a control character");
    }
  }
  return std::nullopt;
}

bool valid_courier_id(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

}  // namespace

std::optional<ImportError> validate_order(const Order& o) {
  // order_id
  if (o.id.empty()) return field_error("order_id", "is empty");
  if (o.id.size() > kMaxIdBytes)
    return field_error("order_id", "too long (" + std::to_string(o.id.size()) + " bytes, at most " +
                                       std::to_string(kMaxIdBytes) + ")");
  if (auto e = check_text("order_id", o.id, false)) return e;
  // codes
  if (o.codes.empty()) return field_error("codes", "no code: an order needs at least one barcode");
  if (o.codes.size() > kMaxCodes)
    return field_error(
        "codes", std::to_string(o.codes.size()) + " codes, at most " + std::to_string(kMaxCodes));
  for (std::size_t i = 0; i < o.codes.size(); ++i) {
    const std::string& c = o.codes[i];
    if (c.empty()) return field_error("codes", "empty code");
    if (c.size() > kMaxCodeBytes) return field_error("codes", "code too long: " + quote(c));
    for (char ch : c) {
      auto u = static_cast<unsigned char>(ch);
      if (u <= 0x20 || u >= 0x7F || ch == '|')
        return field_error("codes",
                           "code " + quote(c) +
                               " has a character a barcode cannot carry (printable ASCII only, "
                               "no spaces or '|')");
    }
    for (std::size_t j = 0; j < i; ++j)
      if (o.codes[j] == c) return field_error("codes", "code " + quote(c) + " is listed twice");
  }
  // destination
  if (o.province.empty()) return field_error("province", "is empty");
  if (auto e = check_text("province", o.province, false)) return e;
  if (regions::province_id(o.province) < 0)
    return field_error("province", "unknown province " + quote(o.province));
  if (o.city.empty()) return field_error("city", "is empty");
  if (auto e = check_text("city", o.city, false)) return e;
  if (auto e = check_text("district", o.district, false)) return e;
  if (o.address.empty()) return field_error("address", "is empty");
  if (auto e = check_text("address", o.address, true)) return e;
  if (auto e = check_text("recipient", o.recipient, false)) return e;
  if (!o.postcode.empty()) {
    bool ok = o.postcode.size() == 6;
    for (char c : o.postcode) ok = ok && c >= '0' && c <= '9';
    if (!ok) return field_error("postcode", "not a 6-digit postcode: " + quote(o.postcode));
  }
  if (!o.phone.empty()) {
    bool ok = o.phone.size() <= 32;
    for (char c : o.phone)
      ok = ok && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == ' ' || c == '(' ||
                  c == ')' || c == '*' || c == '#');
    if (!ok) return field_error("phone", "not a phone number: " + quote(o.phone));
  }
  // weight and size
  if (o.weight_g <= 0)
    return field_error("weight_g",
                       o.weight_g < 0 ? "must not be negative" : "is required (more than 0)");
  if (o.weight_g > kMaxWeightG) return field_error("weight_g", "too large (more than 1000 kg)");
  const std::array<std::pair<const char*, std::int32_t>, 3> dims{
      {{"length_mm", o.length_mm}, {"width_mm", o.width_mm}, {"height_mm", o.height_mm}}};
  int given = 0;
  for (const auto& [name, v] : dims) {
    if (v < 0) return field_error(name, "must not be negative");
    if (v > kMaxSideMm) return field_error(name, "too large (more than 10 m)");
    if (v > 0) ++given;
  }
  if (given != 0 && given != 3) {
    for (const auto& [name, v] : dims)
      if (v == 0) return field_error(name, "give all three sizes or none");
  }
  // mode
  if (o.cod_fen < 0) return field_error("cod", "must not be negative");
  if (o.cod_fen > kMaxCodFen) return field_error("cod", "too large (more than 1,000,000 yuan)");
  if (static_cast<unsigned>(o.service) > 2) return field_error("service", "unknown service level");
  if (static_cast<unsigned>(o.status) > 2) return field_error("status", "unknown status");
  for (const auto* list : {&o.preferred, &o.forbidden}) {
    const char* name = list == &o.preferred ? "preferred" : "forbidden";
    for (std::size_t i = 0; i < list->size(); ++i) {
      const std::string& c = (*list)[i];
      if (!valid_courier_id(c))
        return field_error(name, "not a courier id: " + quote(c) + " (a-z, 0-9, '_', '-')");
      for (std::size_t j = 0; j < i; ++j)
        if ((*list)[j] == c) return field_error(name, "courier " + c + " is listed twice");
    }
  }
  for (const auto& p : o.preferred)
    for (const auto& f : o.forbidden)
      if (p == f)
        return field_error("forbidden", "courier " + p + " is both preferred and forbidden");
  return std::nullopt;
}

namespace {

// Stable storage for the keys of the per-file duplicate checks.
class KeyArena {
 public:
  std::string_view store(std::string_view s) {
    if (chunks_.empty() || s.size() > size_ - used_) {
      // Chunks grow from 4 KiB to 1 MiB, uninitialised: a small file (or a fuzzer's input) does
      // not pay for clearing a megabyte.
      size_ =
          std::max(std::min(kChunk, std::size_t{4096} << std::min<std::size_t>(chunks_.size(), 8)),
                   s.size());
      chunks_.push_back(std::make_unique_for_overwrite<char[]>(size_));
      used_ = 0;
    }
    char* p = chunks_.back().get() + used_;
    std::memcpy(p, s.data(), s.size());
    used_ += s.size();
    return {p, s.size()};
  }

 private:
  static constexpr std::size_t kChunk = 1 << 20;
  std::vector<std::unique_ptr<char[]>> chunks_;
  std::size_t size_ = 0;  // of the last chunk
  std::size_t used_ = 0;
};

// Across the rows of one file: an order id twice, or a code used by two different orders.
class FileChecks {
 public:
  explicit FileChecks(std::size_t expect = 0) {
    ids_.reserve(expect);
    codes_.reserve(expect + expect / 4);
  }
  std::optional<ImportError> check(const Order& o, int line) {
    if (auto it = ids_.find(o.id); it != ids_.end())
      return field_error("order_id", "order " + o.id +
                                         " appears twice in this file (first on line " +
                                         std::to_string(it->second) + ")");
    for (const auto& c : o.codes) {
      auto it = codes_.find(c);
      if (it != codes_.end())
        return field_error("codes", "code " + c + " is already used by order " +
                                        std::string(it->second.id) + " on line " +
                                        std::to_string(it->second.line));
    }
    std::string_view id = arena_.store(o.id);
    ids_.emplace(id, line);
    for (const auto& c : o.codes) codes_.emplace(arena_.store(c), Owner{id, line});
    return std::nullopt;
  }

 private:
  struct Owner {
    std::string_view id;
    int line;
  };
  KeyArena arena_;
  std::unordered_map<std::string_view, int> ids_;
  std::unordered_map<std::string_view, Owner> codes_;
};

// ---------------------------------------------------------------------------------------------
// CSV records (RFC 4180): fields separated by ',', optionally quoted with '"' (a quote inside a
// quoted field is doubled), records end with CRLF, LF or CR. Quoted fields may hold line breaks.

class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : t_(text) {
    if (t_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
  }

  struct Record {
    int line = 0;
    std::vector<std::string_view> fields;
    std::vector<bool> quoted;  // per field: it was quoted (and keeps its spaces)
    std::string error;         // first problem in the record
    std::size_t error_col = 0;
    bool fatal = false;  // the rest of the file cannot be read
  };

  // Reads the next record; false at the end of the text. Blank lines are not records.
  bool next(Record& rec) {
    rec.fields.clear();
    rec.quoted.clear();
    rec.error.clear();
    rec.fatal = false;
    spans_.clear();
    buf_.clear();
    const std::size_t n = t_.size();
    while (true) {
      if (pos_ >= n) return false;
      char c = t_[pos_];
      if (c == '\n') {
        ++line_, ++pos_;
      } else if (c == '\r') {
        ++line_, ++pos_;
        if (pos_ < n && t_[pos_] == '\n') ++pos_;
      } else {
        break;
      }
    }
    rec.line = line_;
    auto fail = [&](std::string msg, std::size_t col) {
      if (rec.error.empty()) {
        rec.error = std::move(msg);
        rec.error_col = col;
      }
    };
    while (true) {
      const std::size_t col = spans_.size();
      if (pos_ < n && t_[pos_] == '"') {
        const int open_line = line_;
        ++pos_;
        std::size_t seg = pos_;
        bool escaped = false;
        const std::size_t boff = buf_.size();
        while (true) {
          std::size_t q = t_.find('"', pos_);
          if (q == std::string_view::npos) {
            count_lines(pos_, n);
            pos_ = n;
            fail("unterminated quoted field (the quote opened on line " +
                     std::to_string(open_line) + " is never closed)",
                 col);
            rec.fatal = true;
            spans_.push_back({seg, 0, false, true});
            materialize(rec);
            return true;
          }
          count_lines(pos_, q);
          if (q + 1 < n && t_[q + 1] == '"') {  // doubled quote
            buf_.append(t_.substr(seg, q + 1 - seg));
            escaped = true;
            pos_ = q + 2;
            seg = pos_;
            continue;
          }
          if (escaped) {
            buf_.append(t_.substr(seg, q - seg));
            spans_.push_back({boff, buf_.size() - boff, true, true});
          } else {
            spans_.push_back({seg, q - seg, false, true});
          }
          pos_ = q + 1;
          break;
        }
        if (pos_ < n && t_[pos_] != ',' && t_[pos_] != '\r' && t_[pos_] != '\n') {
          fail("text after the closing quote of a quoted field", col);
          while (pos_ < n && t_[pos_] != ',' && t_[pos_] != '\r' && t_[pos_] != '\n') ++pos_;
        }
      } else {
        const std::size_t s = pos_;
        while (pos_ < n) {
          char c = t_[pos_];
          if (c == ',' || c == '\r' || c == '\n') break;
          if (c == '"')
            fail("a quote inside an unquoted field (quote the whole field and double the quote)",
                 col);
          ++pos_;
        }
        spans_.push_back({s, pos_ - s, false, false});
      }
      if (pos_ >= n) break;
      char c = t_[pos_];
      if (c == ',') {
        ++pos_;
        continue;
      }
      ++line_, ++pos_;  // end of record
      if (c == '\r' && pos_ < n && t_[pos_] == '\n') ++pos_;
      break;
    }
    materialize(rec);
    return true;
  }

 private:
  struct Span {
    std::size_t off, len;
    bool in_buf, quoted;
  };
  void count_lines(std::size_t a, std::size_t b) {
    for (std::size_t i = a; i < b; ++i) {
      if (t_[i] == '\n') {
        ++line_;
      } else if (t_[i] == '\r' && (i + 1 >= t_.size() || t_[i + 1] != '\n')) {
        ++line_;
      }
    }
  }
  void materialize(Record& rec) {
    for (const auto& s : spans_) {
      rec.fields.push_back(s.in_buf ? std::string_view(buf_).substr(s.off, s.len)
                                    : t_.substr(s.off, s.len));
      rec.quoted.push_back(s.quoted);
    }
  }

  std::string_view t_;
  std::size_t pos_ = 0;
  int line_ = 1;
  std::vector<Span> spans_;
  std::string buf_;
};

ImportError make_error(const std::string& source, int line, std::string field, std::string msg) {
  ImportError e;
  e.source = source;
  e.line = line;
  e.field = std::move(field);
  e.message = std::move(msg);
  return e;
}

}  // namespace

ImportResult parse_orders_csv(std::string_view text, const std::string& source) {
  ImportResult r;
  CsvReader reader(text);
  CsvReader::Record rec;
  if (!reader.next(rec)) {
    r.errors.push_back(make_error(source, 1, "", "empty file: no header row"));
    return r;
  }
  // Header
  const int header_line = rec.line;
  if (!rec.error.empty()) {
    r.errors.push_back(make_error(source, header_line, "", "header row: " + rec.error));
    return r;
  }
  std::vector<F> cols;
  std::vector<bool> have(kFieldNames.size(), false);
  for (std::string_view raw : rec.fields) {
    std::string name(trim(raw));
    for (auto& c : name)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    auto f = field_from(name);
    if (!f) {
      r.errors.push_back(
          make_error(source, header_line, valid_utf8(name) ? name : quote(name),
                     name.empty() ? "empty column name in the header"
                                  : "unknown column (the columns are: " + known_fields() + ")"));
      continue;
    }
    if (have[static_cast<std::size_t>(*f)]) {
      r.errors.push_back(make_error(source, header_line, name, "column appears twice"));
      continue;
    }
    have[static_cast<std::size_t>(*f)] = true;
    cols.push_back(*f);
  }
  auto has = [&](F f) { return have[static_cast<std::size_t>(f)]; };
  for (F f : {F::OrderId, F::Codes, F::Province, F::City, F::Address})
    if (!has(f))
      r.errors.push_back(
          make_error(source, header_line, std::string(name_of(f)), "required column is missing"));
  if (!has(F::WeightKg) && !has(F::WeightG))
    r.errors.push_back(make_error(source, header_line, "weight_kg",
                                  "required column is missing (weight_kg or weight_g)"));
  const std::array<std::pair<F, F>, 5> exclusive{{{F::WeightKg, F::WeightG},
                                                  {F::Cod, F::CodFen},
                                                  {F::LengthMm, F::LengthCm},
                                                  {F::WidthMm, F::WidthCm},
                                                  {F::HeightMm, F::HeightCm}}};
  for (auto [a, b] : exclusive)
    if (has(a) && has(b))
      r.errors.push_back(make_error(
          source, header_line, std::string(name_of(b)),
          "give " + std::string(name_of(a)) + " or " + std::string(name_of(b)) + ", not both"));
  if (!r.errors.empty()) return r;  // a bad header refuses the whole file

  // Order field names that differ from the column they came from.
  auto column_for = [&](const std::string& field) -> std::string {
    if (field == "weight_g" && has(F::WeightKg)) return "weight_kg";
    if (field == "length_mm" && has(F::LengthCm)) return "length_cm";
    if (field == "width_mm" && has(F::WidthCm)) return "width_cm";
    if (field == "height_mm" && has(F::HeightCm)) return "height_cm";
    return field;
  };

  // One row per line is the common case: reserve for it.
  const std::size_t lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  r.orders.reserve(lines);
  FileChecks checks(lines);
  while (reader.next(rec)) {
    ++r.rows;
    if (!rec.error.empty()) {
      std::string field =
          rec.error_col < cols.size() ? std::string(name_of(cols[rec.error_col])) : "";
      r.errors.push_back(make_error(source, rec.line, field, rec.error));
      if (rec.fatal) break;
      continue;
    }
    if (rec.fields.size() != cols.size()) {
      bool blank = true;
      for (auto f : rec.fields) blank = blank && trim(f).empty();
      r.errors.push_back(
          make_error(source, rec.line, "",
                     blank ? "empty row"
                           : "wrong number of fields: " + std::to_string(rec.fields.size()) +
                                 ", the header has " + std::to_string(cols.size()) +
                                 " (an unquoted comma in a value?)"));
      continue;
    }
    Order o;
    std::optional<ImportError> err;
    bool blank = true;
    for (std::size_t i = 0; i < cols.size() && !err; ++i) {
      // Spaces around a value are dropped, except in a quoted address or recipient.
      const bool exact = rec.quoted[i] && (cols[i] == F::Address || cols[i] == F::Recipient);
      std::string_view v = exact ? rec.fields[i] : trim(rec.fields[i]);
      if (!v.empty()) blank = false;
      if (!valid_utf8(v)) {
        err = field_error(std::string(name_of(cols[i])), kBadUtf8);
        break;
      }
      std::string msg = set_field(o, cols[i], v);
      if (!msg.empty()) err = field_error(std::string(name_of(cols[i])), std::move(msg));
    }
    if (blank) err = field_error("", "empty row");
    if (!err) {
      err = validate_order(o);
      if (err) err->field = column_for(err->field);
    }
    if (!err) err = checks.check(o, rec.line);
    if (err) {
      r.errors.push_back(make_error(source, rec.line, err->field, err->message));
      continue;
    }
    r.orders.push_back(std::move(o));
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// JSON

std::optional<ImportError> parse_order_object(const nlohmann::json& j, Order& out) {
  if (!j.is_object())
    return field_error("", std::string("expected an order object, got ") + j.type_name());
  Order o;
  bool seen[kFieldNames.size()] = {};
  for (const auto& [key, v] : j.items()) {
    auto f = field_from(key);
    if (!f)
      return field_error(valid_utf8(key) ? key : quote(key),
                         "unknown key (the keys are: " + known_fields() + ")");
    seen[static_cast<std::size_t>(*f)] = true;
    if (v.is_null()) continue;
    std::string msg;
    switch (*f) {
      case F::Codes:
      case F::Preferred:
      case F::Forbidden: {
        if (!v.is_array()) return field_error(key, "must be an array of strings");
        auto& list = *f == F::Codes ? o.codes : *f == F::Preferred ? o.preferred : o.forbidden;
        list.clear();
        for (const auto& item : v) {
          if (!item.is_string())
            return field_error(key, *f == F::Codes && item.is_number()
                                        ? "codes must be strings (a number loses leading zeros)"
                                        : "must be an array of strings");
          list.push_back(item.get<std::string>());
        }
        break;
      }
      case F::Invoice:
      case F::PickupPoint:
      case F::Fragile:
        if (v.is_boolean()) {
          bool b = v.get<bool>();
          (*f == F::Invoice ? o.invoice : *f == F::PickupPoint ? o.pickup_point : o.fragile) = b;
        } else if (v.is_string()) {
          msg = set_field(o, *f, trim(v.get_ref<const std::string&>()));
        } else {
          return field_error(key, "must be true or false");
        }
        break;
      case F::WeightKg:
      case F::WeightG:
      case F::LengthMm:
      case F::WidthMm:
      case F::HeightMm:
      case F::LengthCm:
      case F::WidthCm:
      case F::HeightCm:
      case F::Cod:
      case F::CodFen:
        if (v.is_number()) {
          msg = set_field(o, *f, v.dump());
        } else if (v.is_string()) {
          msg = set_field(o, *f, trim(v.get_ref<const std::string&>()));
        } else {
          return field_error(key, "must be a number");
        }
        break;
      case F::OrderId:
        if (v.is_number_unsigned()) {
          o.id = v.dump();
          break;
        }
        [[fallthrough]];
      default: {
        if (!v.is_string()) return field_error(key, "must be a string");
        // A JSON string is quoted: like a quoted CSV field, an address or recipient keeps its
        // spaces (else an order exported to JSON and imported again would change).
        std::string_view s = v.get_ref<const std::string&>();
        msg = set_field(o, *f, *f == F::Address || *f == F::Recipient ? s : trim(s));
        break;
      }
    }
    if (!msg.empty()) return field_error(key, std::move(msg));
  }
  auto saw = [&](F f) { return seen[static_cast<std::size_t>(f)]; };
  const std::array<std::pair<F, F>, 5> exclusive{{{F::WeightKg, F::WeightG},
                                                  {F::Cod, F::CodFen},
                                                  {F::LengthMm, F::LengthCm},
                                                  {F::WidthMm, F::WidthCm},
                                                  {F::HeightMm, F::HeightCm}}};
  for (auto [a, b] : exclusive)
    if (saw(a) && saw(b))
      return field_error(std::string(name_of(b)), "give " + std::string(name_of(a)) + " or " +
                                                      std::string(name_of(b)) + ", not both");
  if (auto e = validate_order(o)) {
    if (e->field == "weight_g" && saw(F::WeightKg)) e->field = "weight_kg";
    if (e->field == "weight_g" && !saw(F::WeightKg) && !saw(F::WeightG))
      e->message = "is required (weight_kg or weight_g)";
    return e;
  }
  out = std::move(o);
  return std::nullopt;
}

namespace {

// Finds the byte ranges of the array elements without building the whole document, so that
// every order object is parsed on its own and its line is known.
class JsonScanner {
 public:
  explicit JsonScanner(std::string_view t) : t_(t) {}

  int line_at(std::size_t p) {
    if (p < mark_) mark_ = 0, mark_line_ = 1;
    for (; mark_ < p && mark_ < t_.size(); ++mark_)
      if (t_[mark_] == '\n') ++mark_line_;
    return mark_line_;
  }
  void skip_ws() {
    while (pos_ < t_.size() &&
           (t_[pos_] == ' ' || t_[pos_] == '\t' || t_[pos_] == '\n' || t_[pos_] == '\r'))
      ++pos_;
  }
  bool at_end() {
    skip_ws();
    return pos_ >= t_.size();
  }
  char peek() {
    skip_ws();
    return pos_ < t_.size() ? t_[pos_] : '\0';
  }
  // Scans one string starting at pos_ (on the opening quote). Returns false if unterminated.
  bool scan_string() {
    ++pos_;
    while (pos_ < t_.size()) {
      char c = t_[pos_++];
      if (c == '\\') {
        ++pos_;
      } else if (c == '"') {
        return true;
      }
    }
    return false;
  }
  // Scans one value; returns an error message or empty.
  std::string scan_value() {
    skip_ws();
    if (pos_ >= t_.size()) return "unexpected end of file";
    const std::size_t start = pos_;
    char c = t_[pos_];
    if (c == '"') {
      if (!scan_string())
        return "unterminated string starting on line " + std::to_string(line_at(start));
      return {};
    }
    if (c == '{' || c == '[') {
      int depth = 0;
      while (pos_ < t_.size()) {
        char d = t_[pos_];
        if (d == '"') {
          if (!scan_string())
            return "unterminated string starting on line " + std::to_string(line_at(start));
          continue;
        }
        if (d == '{' || d == '[') ++depth;
        if (d == '}' || d == ']') --depth;
        ++pos_;
        if (depth == 0) return {};
      }
      return std::string("unterminated ") + (c == '{' ? "object" : "array") + " starting on line " +
             std::to_string(line_at(start));
    }
    while (pos_ < t_.size()) {
      char d = t_[pos_];
      if (d == ',' || d == ']' || d == '}' || d == ' ' || d == '\n' || d == '\r' || d == '\t')
        break;
      ++pos_;
    }
    if (pos_ == start) return std::string("unexpected '") + c + "'";
    return {};
  }

  std::string_view t_;
  std::size_t pos_ = 0;

 private:
  std::size_t mark_ = 0;
  int mark_line_ = 1;
};

}  // namespace

ImportResult parse_orders_json(std::string_view text, const std::string& source) {
  ImportResult r;
  JsonScanner s(text);
  if (text.substr(0, 3) == "\xEF\xBB\xBF") s.pos_ = 3;
  auto fatal = [&](std::size_t at, std::string msg) {
    r.errors.push_back(make_error(source, s.line_at(at), "", std::move(msg)));
    return r;
  };
  const char kShape[] = "expected an array of orders, or {\"orders\": [...]}";
  char c = s.peek();
  bool wrapped = false;
  if (c == '{') {
    wrapped = true;
    ++s.pos_;
    if (s.peek() != '"') return fatal(s.pos_, kShape);
    std::size_t kstart = s.pos_;
    if (!s.scan_string()) return fatal(kstart, "unterminated string");
    std::string_view key = text.substr(kstart + 1, s.pos_ - kstart - 2);
    if (key != "orders")
      return fatal(kstart, "unknown top-level key '" + std::string(key) + "' (" + kShape + ")");
    if (s.peek() != ':') return fatal(s.pos_, "expected ':' after \"orders\"");
    ++s.pos_;
    c = s.peek();
  }
  if (c != '[') return fatal(s.pos_, kShape);
  ++s.pos_;
  FileChecks checks;
  if (s.peek() == ']') {
    ++s.pos_;
  } else {
    while (true) {
      s.skip_ws();
      const std::size_t start = s.pos_;
      const int line = s.line_at(start);
      std::string err = s.scan_value();
      if (!err.empty()) return fatal(start, err);
      ++r.rows;
      std::string_view elem = text.substr(start, s.pos_ - start);
      nlohmann::json j;
      bool parsed = true;
      try {
        j = nlohmann::json::parse(elem);
      } catch (const nlohmann::json::parse_error& e) {
        // e.byte is 1-based within the element: report the line the problem is on.
        parsed = false;
        std::size_t at = std::min(start + (e.byte > 0 ? e.byte - 1 : 0), text.size());
        std::string what = e.what();
        auto syntax = what.find("syntax error");
        r.errors.push_back(
            make_error(source, s.line_at(at), "",
                       "bad JSON in the order starting on line " + std::to_string(line) + ": " +
                           (syntax != std::string::npos ? what.substr(syntax) : what)));
      } catch (const nlohmann::json::exception& e) {
        // A number beyond a double (1e999): out_of_range, not a parse_error.
        parsed = false;
        std::string what = e.what();
        auto at = what.find("] ");
        r.errors.push_back(make_error(source, line, "",
                                      "bad JSON in the order starting on line " +
                                          std::to_string(line) + ": " +
                                          (at != std::string::npos ? what.substr(at + 2) : what)));
      }
      if (parsed) {
        Order o;
        auto e = parse_order_object(j, o);
        if (!e) e = checks.check(o, line);
        if (e) {
          r.errors.push_back(make_error(source, line, e->field, e->message));
        } else {
          r.orders.push_back(std::move(o));
        }
      }
      char d = s.peek();
      if (d == ',') {
        ++s.pos_;
        continue;
      }
      if (d == ']') {
        ++s.pos_;
        break;
      }
      return fatal(s.pos_, d == '\0' ? "unexpected end of file: the array is not closed"
                                     : "expected ',' or ']' between orders");
    }
  }
  if (wrapped) {
    if (s.peek() != '}') return fatal(s.pos_, "expected '}' after the orders array");
    ++s.pos_;
  }
  if (!s.at_end()) return fatal(s.pos_, "unexpected text after the orders");
  return r;
}

ImportResult load_orders_file(const std::string& path) {
  auto dot = path.rfind('.');
  std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  for (auto& c : ext)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (ext != "csv" && ext != "json")
    throw std::runtime_error(path + ": unknown order file type (use .csv or .json)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  in.seekg(0, std::ios::end);
  std::string text(static_cast<std::size_t>(std::max<std::streamoff>(in.tellg(), 0)), '\0');
  in.seekg(0, std::ios::beg);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad() || static_cast<std::size_t>(in.gcount()) != text.size())
    throw std::runtime_error(path + ": read error: " + std::strerror(errno));
  return ext == "csv" ? parse_orders_csv(text, path) : parse_orders_json(text, path);
}

}  // namespace sortd
