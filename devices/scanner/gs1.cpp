#include "scanner/gs1.h"

#include <cstring>

#include "scanner/framing.h"

namespace sortd::dev::scanner {

namespace {

// How a field's data is laid out.
struct AiSpec {
  const char* ai;
  int min, max;      // data length bounds
  bool numeric;      // digits only
  bool predefined;   // in the GS1 table of predefined lengths: no FNC1 needed after it
  bool check;        // last digit is a mod-10 check digit
  int numeric_head;  // the first N characters are digits (e.g. 421: ISO country code)
};

// The application identifiers we know by name (GS1 General Specifications, section 3).
// Prefix groups listed below but absent here are read as variable length up to 90.
constexpr AiSpec kAis[] = {
    {"00", 18, 18, true, true, true, 0},    // SSCC
    {"01", 14, 14, true, true, true, 0},    // GTIN
    {"02", 14, 14, true, true, true, 0},    // GTIN of contained trade items
    {"03", 14, 14, true, true, false, 0},   // (reserved, predefined 14)
    {"04", 16, 16, true, true, false, 0},   // (reserved, predefined 16)
    {"10", 1, 20, false, false, false, 0},  // batch / lot
    {"11", 6, 6, true, true, false, 0},     // production date
    {"12", 6, 6, true, true, false, 0},     // due date
    {"13", 6, 6, true, true, false, 0},     // packaging date
    {"15", 6, 6, true, true, false, 0},     // best before
    {"16", 6, 6, true, true, false, 0},     // sell by
    {"17", 6, 6, true, true, false, 0},     // expiry
    {"20", 2, 2, true, true, false, 0},     // variant
    {"21", 1, 20, false, false, false, 0},  // serial number
    {"22", 1, 20, false, false, false, 0},  // consumer product variant
    {"30", 1, 8, true, false, false, 0},    // variable count
    {"37", 1, 8, true, false, false, 0},    // count of trade items
    {"90", 1, 30, false, false, false, 0},  // mutually agreed
    {"240", 1, 30, false, false, false, 0},
    {"241", 1, 30, false, false, false, 0},
    {"250", 1, 30, false, false, false, 0},
    {"251", 1, 30, false, false, false, 0},
    {"400", 1, 30, false, false, false, 0},  // customer's purchase order number
    {"401", 1, 30, false, false, false, 0},  // GINC: global identification number for consignment
    {"402", 17, 17, true, false, true, 0},   // GSIN: global shipment identification number
    {"403", 1, 30, false, false, false, 0},  // routing code
    {"410", 13, 13, true, true, true, 0},    // ship to / deliver to GLN
    {"411", 13, 13, true, true, true, 0},
    {"412", 13, 13, true, true, true, 0},
    {"413", 13, 13, true, true, true, 0},
    {"414", 13, 13, true, true, true, 0},
    {"415", 13, 13, true, true, true, 0},
    {"416", 13, 13, true, true, true, 0},
    {"417", 13, 13, true, true, true, 0},
    {"420", 1, 20, false, false, false, 0},  // ship-to postal code, single authority
    {"421", 4, 12, false, false, false, 3},  // ship-to postal code with ISO country code
    {"422", 3, 3, true, false, false, 0},    // country of origin
    {"423", 3, 15, true, false, false, 0},
    {"424", 3, 3, true, false, false, 0},
    {"425", 3, 15, true, false, false, 0},
    {"426", 3, 3, true, false, false, 0},
    {"427", 1, 3, false, false, false, 0},
    {"7001", 13, 13, true, false, false, 0},
    {"7002", 1, 30, false, false, false, 0},
    {"7003", 10, 10, true, false, false, 0},
    {"8001", 14, 14, true, false, false, 0},
    {"8002", 1, 20, false, false, false, 0},
    {"8003", 15, 30, false, false, false, 14},
    {"8004", 1, 30, false, false, false, 0},
    {"8005", 6, 6, true, false, false, 0},
    {"8006", 18, 18, true, false, false, 0},
    {"8017", 18, 18, true, false, true, 0},
    {"8018", 18, 18, true, false, true, 0},
    {"8020", 1, 25, false, false, false, 0},
};

// Length of the AI itself by its first two digits; 0 = no AI starts this way.
int ai_length(char a, char b) {
  int p = (a - '0') * 10 + (b - '0');
  if (p <= 4) return 2;
  if (p >= 10 && p <= 22) return p == 14 || p == 18 || p == 19 ? 0 : 2;
  if (p >= 23 && p <= 25) return 3;
  if (p == 30 || p == 37) return 2;
  if (p >= 31 && p <= 36) return 4;
  if (p == 39) return 4;
  if (p >= 40 && p <= 43) return 3;
  if (p >= 70 && p <= 72) return p == 71 ? 3 : 4;
  if (p >= 80 && p <= 82) return 4;
  if (p >= 90) return 2;
  return 0;
}

AiSpec lookup(const std::string& ai) {
  for (const auto& s : kAis)
    if (ai == s.ai) return s;
  // Measures 31nn-36nn: 6 digits, predefined. 39nn: amounts, variable.
  if (ai.size() == 4 && ai[0] == '3' && ai[1] >= '1' && ai[1] <= '6')
    return {nullptr, 6, 6, true, true, false, 0};
  if (ai.size() == 4 && ai[0] == '3' && ai[1] == '9')
    return {nullptr, 1, 18, true, false, false, 0};
  return {nullptr, 1, 90, false, false, false, 0};  // known group, unnamed AI: variable
}

bool all_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// GS1 AI encodable character set 82 (plus space, which scanners show for some HRI forms).
bool cset82(char c) {
  return (c >= '!' && c <= '"') || (c >= '%' && c <= '?') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (c >= 'a' && c <= 'z');
}

// Checks one element's value; returns an error or empty.
std::string check_value(const std::string& ai, const AiSpec& spec, std::string_view v,
                        std::size_t at) {
  auto where = " (AI " + ai + " at offset " + std::to_string(at) + ")";
  if (static_cast<int>(v.size()) < spec.min || static_cast<int>(v.size()) > spec.max)
    return "value of " + std::to_string(v.size()) + " character(s), expected " +
           (spec.min == spec.max ? std::to_string(spec.min)
                                 : std::to_string(spec.min) + ".." + std::to_string(spec.max)) +
           where;
  if (spec.numeric && !all_digits(v)) return "value must be digits: '" + printable(v) + "'" + where;
  for (int i = 0; i < spec.numeric_head && i < static_cast<int>(v.size()); ++i)
    if (!is_digit(v[i]))
      return "value must start with " + std::to_string(spec.numeric_head) + " digits" + where;
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!cset82(v[i]))
      return "character '" + printable(v.substr(i, 1)) + "' not allowed in a GS1 value" + where;
  if (spec.check && !gs1_check_digit_ok(v))
    return "wrong check digit in '" + std::string(v) + "'" + where;
  return {};
}

}  // namespace

bool gs1_check_digit_ok(std::string_view d) {
  if (d.size() < 2 || !all_digits(d)) return false;
  int sum = 0;
  // Weights 3,1,3,1... from the rightmost digit before the check digit.
  for (std::size_t i = 0; i + 1 < d.size(); ++i) {
    int digit = d[d.size() - 2 - i] - '0';
    sum += (i % 2 == 0) ? digit * 3 : digit;
  }
  return (10 - sum % 10) % 10 == d.back() - '0';
}

Gs1Result parse_gs1(std::string_view data) {
  Gs1Result r;
  std::size_t i = 0;
  while (i < data.size() && data[i] == kFnc1) ++i;  // leading FNC1
  if (i >= data.size()) {
    r.error = "empty GS1 element string";
    return r;
  }
  while (i < data.size()) {
    if (i + 2 > data.size() || !is_digit(data[i]) || !is_digit(data[i + 1])) {
      r.error = "expected an AI (digits) at offset " + std::to_string(i) + ", found '" +
                printable(data.substr(i, 4)) + "'";
      return r;
    }
    int len = ai_length(data[i], data[i + 1]);
    if (len == 0) {
      r.error = "no GS1 AI starts with '" + std::string(data.substr(i, 2)) + "' (offset " +
                std::to_string(i) + ")";
      return r;
    }
    if (i + len > data.size() || !all_digits(data.substr(i, len))) {
      r.error =
          "AI cut short at offset " + std::to_string(i) + ": '" + printable(data.substr(i)) + "'";
      return r;
    }
    std::string ai(data.substr(i, len));
    std::size_t at = i;
    i += len;
    AiSpec spec = lookup(ai);
    std::string_view value;
    if (spec.min == spec.max) {
      if (i + spec.max > data.size()) {
        r.error = "AI " + ai + " at offset " + std::to_string(at) + " needs " +
                  std::to_string(spec.max) + " characters, only " +
                  std::to_string(data.size() - i) + " left";
        return r;
      }
      value = data.substr(i, spec.max);
      i += spec.max;
      if (i < data.size() && data[i] == kFnc1) ++i;  // FNC1 after a fixed field is tolerated
    } else {
      auto end = data.find(kFnc1, i);
      if (end == std::string_view::npos) end = data.size();
      value = data.substr(i, end - i);
      i = end < data.size() ? end + 1 : end;
    }
    if (auto e = check_value(ai, spec, value, at); !e.empty()) {
      r.error = e;
      return r;
    }
    r.elements.push_back({ai, std::string(value)});
  }
  r.ok = true;
  return r;
}

Gs1Result parse_gs1_hri(std::string_view text) {
  Gs1Result r;
  std::size_t i = 0;
  if (text.empty() || text[0] != '(') {
    r.error = "GS1 text must start with '(AI)'";
    return r;
  }
  while (i < text.size()) {
    if (text[i] != '(') {
      r.error = "expected '(' at offset " + std::to_string(i);
      return r;
    }
    auto close = text.find(')', i);
    if (close == std::string_view::npos) {
      r.error = "'(' without ')' at offset " + std::to_string(i);
      return r;
    }
    std::string ai(text.substr(i + 1, close - i - 1));
    if (ai.size() < 2 || ai.size() > 4 || !all_digits(ai) ||
        ai_length(ai[0], ai[1]) != static_cast<int>(ai.size())) {
      r.error = "'" + printable(ai) + "' at offset " + std::to_string(i) + " is not a GS1 AI";
      return r;
    }
    // The value runs to the next "(AI)"; a '(' that does not start an AI belongs to the value.
    auto next = close + 1;
    while ((next = text.find('(', next)) != std::string_view::npos) {
      auto c2 = text.find(')', next);
      if (c2 != std::string_view::npos && c2 - next - 1 >= 2 && c2 - next - 1 <= 4 &&
          all_digits(text.substr(next + 1, c2 - next - 1)) &&
          ai_length(text[next + 1], text[next + 2]) == static_cast<int>(c2 - next - 1))
        break;
      ++next;
    }
    if (next == std::string_view::npos) next = text.size();
    auto value = text.substr(close + 1, next - close - 1);
    AiSpec spec = lookup(ai);
    if (auto e = check_value(ai, spec, value, i); !e.empty()) {
      r.error = e;
      return r;
    }
    r.elements.push_back({ai, std::string(value)});
    i = next;
  }
  r.ok = true;
  return r;
}

std::string gs1_hri(const std::vector<Gs1Element>& elements) {
  std::string s;
  for (const auto& e : elements) s += "(" + e.ai + ")" + e.value;
  return s;
}

std::optional<std::string> gs1_pick(const std::vector<Gs1Element>& elements,
                                    const std::vector<std::string>& priority) {
  for (const auto& ai : priority)
    for (const auto& e : elements)
      if (e.ai == ai) return e.value;
  return std::nullopt;
}

}  // namespace sortd::dev::scanner
