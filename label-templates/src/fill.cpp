// Filling a template: required fields, placeholders, scaling to the label size, barcode sizing.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include <zint.h>

#include "label.h"

namespace sortd::labels {

namespace {

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

bool active(const Element& e, const std::set<std::string>& modes) {
  if (e.when.empty()) return true;
  if (e.when[0] == '!') return !modes.count(e.when.substr(1));
  return modes.count(e.when) > 0;
}

// Replaces {field} and {field?}; records a problem for every missing required field.
std::string substitute(const std::string& text, const std::map<std::string, std::string>& fields,
                       const std::string& where, std::vector<std::string>& problems) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '{') {
      out += text[i];
      continue;
    }
    auto end = text.find('}', i);
    std::string name = text.substr(i + 1, end - i - 1);
    bool optional = !name.empty() && name.back() == '?';
    if (optional) name.pop_back();
    auto it = fields.find(name);
    if (it != fields.end() && !blank(it->second)) {
      out += it->second;
    } else if (!optional) {
      problems.push_back(name + ": used by " + where + ", missing");
    }
    i = end;
  }
  return out;
}

// Size in modules of a 2-D symbol as libzint encodes it (QR: ECC level M, byte mode).
int matrix_modules(ElementType type, const std::string& data, std::string& error) {
  std::unique_ptr<zint_symbol, void (*)(zint_symbol*)> sym(ZBarcode_Create(), ZBarcode_Delete);
  if (type == ElementType::Qr) {
    sym->symbology = BARCODE_QRCODE;
    sym->option_1 = 2;  // ECC M
  } else {
    sym->symbology = BARCODE_DATAMATRIX;
    sym->option_3 = DM_SQUARE;
  }
  sym->input_mode = DATA_MODE;
  int rc = ZBarcode_Encode(sym.get(), reinterpret_cast<const unsigned char*>(data.data()),
                           static_cast<int>(data.size()));
  if (rc >= ZINT_ERROR) {
    error = sym->errtxt;
    return 0;
  }
  return sym->width;
}

// Estimated width of text in dots: a CJK / non-ASCII character as wide as it is high, any
// other 0.75 of that (wider than any printer font we target, so no renderer spills text over a
// barcode).
double text_width(const std::string& text, int font) {
  double w = 0;
  for (std::size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    i += c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    w += c < 0x80 ? 0.75 * font : 1.0 * font;
  }
  return w;
}

// Makes text fit in `lines` lines of `w` dots: first the characters get smaller (down to 60 %
// of the design size), and only then is the text cut, ending in "…".
void fit_text(Item& it) {
  const double budget = 0.92 * it.w * it.lines;
  const int min_font = std::max(8, it.font * 6 / 10);
  while (it.font > min_font && text_width(it.text, it.font) > budget) --it.font;
  if (text_width(it.text, it.font) <= budget) return;
  std::string cut = it.text;
  const double ellipsis = it.font;
  while (!cut.empty() && text_width(cut, it.font) + ellipsis > budget) {
    std::size_t k = cut.size() - 1;
    while (k > 0 && (static_cast<unsigned char>(cut[k]) & 0xC0) == 0x80) --k;
    cut.erase(k);
  }
  it.text = cut + "…";
}

}  // namespace

int LabelSize::width_dots() const {
  return static_cast<int>(std::lround(width_mm * dots_per_mm()));
}
int LabelSize::height_dots() const {
  return static_cast<int>(std::lround(height_mm * dots_per_mm()));
}

const Item* Label::find(std::string_view name) const {
  for (auto& i : items)
    if (i.name == name) return &i;
  return nullptr;
}

bool is_gs1(std::string_view d) {
  if (d.size() < 4 || d[0] != '(') return false;
  std::size_t i = 0;
  while (i < d.size()) {
    if (d[i] != '(') return false;
    auto close = d.find(')', i);
    if (close == std::string_view::npos || close - i - 1 < 2 || close - i - 1 > 4) return false;
    for (auto k = i + 1; k < close; ++k)
      if (!std::isdigit(static_cast<unsigned char>(d[k]))) return false;
    auto next = d.find('(', close);
    if (next == std::string_view::npos) next = d.size();
    if (next == close + 1) return false;  // an AI without a value
    for (auto k = close + 1; k < next; ++k)
      if (!std::isdigit(static_cast<unsigned char>(d[k]))) return false;
    i = next;
  }
  return true;
}

std::string gs1_digits(std::string_view d) {
  std::string out;
  for (char c : d)
    if (c != '(' && c != ')') out += c;
  return out;
}

Label fill(const Template& t, const LabelData& data, const LabelSize& size) {
  std::vector<std::string> problems;
  auto require = [&](const std::string& field, const std::string& why) {
    auto it = data.fields.find(field);
    if (it == data.fields.end() || blank(it->second))
      problems.push_back(field + ": required " + why + ", missing");
  };
  for (auto& f : t.required) require(f, "on every " + t.kind + " label");
  for (auto& [mode, fields] : t.required_in_mode)
    if (data.modes.count(mode))
      for (auto& f : fields) require(f, "in mode " + mode);

  Label label;
  label.template_name = t.name;
  label.size = size;
  label.zpl_font = t.zpl_font;
  label.tspl_font = t.tspl_font;
  label.tspl_font_dots = t.tspl_font_dots;
  const double scale = std::min(size.width_mm / t.design_w, size.height_mm / t.design_h);
  const double dpmm = size.dots_per_mm();
  auto dots = [&](double mm) { return static_cast<int>(std::lround(mm * scale * dpmm)); };

  for (std::size_t i = 0; i < t.elements.size(); ++i) {
    const Element& e = t.elements[i];
    if (!active(e, data.modes)) continue;
    const std::string where =
        "elements[" + std::to_string(i) + "]" + (e.name.empty() ? "" : " (" + e.name + ")");
    Item it;
    it.type = e.type;
    it.name = e.name;
    it.x = dots(e.x);
    it.y = dots(e.y);
    it.w = std::max(1, dots(e.w));
    it.h = std::max(1, dots(e.h));
    std::size_t before = problems.size();
    it.text = substitute(e.text, data.fields, where, problems);
    bool ok = problems.size() == before;
    switch (e.type) {
      case ElementType::Text:
        it.font = std::max(8, dots(e.size));
        it.lines = e.lines;
        it.reverse = e.reverse;
        fit_text(it);
        break;
      case ElementType::Box:
        it.fill = e.fill;
        it.thickness = e.fill ? std::min(it.w, it.h) : std::max(1, dots(e.line));
        break;
      case ElementType::Code128: {
        if (!ok) break;
        if (it.text.empty()) {
          problems.push_back(where + ": barcode data is empty");
          break;
        }
        for (unsigned char c : it.text)
          if (c < 32 || c > 126) {
            problems.push_back(where + ": Code 128 data '" + it.text +
                               "' has a character outside printable ASCII");
            ok = false;
            break;
          }
        if (!ok) break;
        it.gs1 = is_gs1(it.text);
        // Widest possible encoding (all in code set B): start + data + check + stop.
        const int n = static_cast<int>(it.gs1 ? gs1_digits(it.text).size() : it.text.size());
        const int modules = 11 * (n + (it.gs1 ? 1 : 0)) + 35;
        it.module = std::min(4, it.w / modules);
        if (it.module < 1) {
          problems.push_back(where + ": Code 128 data '" + it.text + "' (" + std::to_string(n) +
                             " characters) does not fit in " + std::to_string(it.w) + " dots");
          break;
        }
        it.symbol_w = it.module * modules;
        it.symbol_h = it.h;
        break;
      }
      case ElementType::Qr:
      case ElementType::DataMatrix: {
        if (!ok) break;
        if (it.text.empty()) {
          problems.push_back(where + ": symbol data is empty");
          break;
        }
        if (e.type == ElementType::DataMatrix)
          for (unsigned char c : it.text)
            if (c < 32 || c > 126) {
              problems.push_back(where + ": Data Matrix data must be printable ASCII, got '" +
                                 it.text + "'");
              ok = false;
              break;
            }
        if (!ok) break;
        std::string err;
        int modules = matrix_modules(e.type, it.text, err);
        if (modules <= 0) {
          problems.push_back(where + ": cannot encode: " + err);
          break;
        }
        it.module = std::min(10, it.w / modules);
        if (it.module < 1) {
          problems.push_back(where + ": data too long for a " + std::to_string(it.w) +
                             "-dot symbol");
          break;
        }
        it.symbol_w = it.symbol_h = it.module * modules;
        break;
      }
    }
    label.items.push_back(std::move(it));
  }
  // One line per problem, in order, without repeats.
  std::vector<std::string> unique;
  for (auto& p : problems)
    if (std::find(unique.begin(), unique.end(), p) == unique.end()) unique.push_back(p);
  if (!unique.empty()) throw FillError(unique);
  return label;
}

// ---------------------------------------------------------------------------------------------

std::string mask_phone(std::string_view phone) {
  std::string p(phone);
  if (p.size() < 7) return p.empty() ? p : std::string(p.size(), '*');
  return p.substr(0, 3) + std::string(p.size() - 7, '*') + p.substr(p.size() - 4);
}

std::string mask_name(std::string_view name) {
  // First UTF-8 character kept, every other one becomes '*'.
  std::string out;
  std::size_t i = 0, chars = 0;
  while (i < name.size()) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    std::size_t len = c < 0x80         ? 1
                      : (c >> 5) == 6  ? 2
                      : (c >> 4) == 14 ? 3
                      : (c >> 3) == 30 ? 4
                                       : 1;
    if (chars == 0)
      out += std::string(name.substr(i, len));
    else
      out += '*';
    i += len;
    ++chars;
  }
  return out;
}

namespace {
std::string fixed2(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}
std::string two_digits(int n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d", n);
  return buf;
}
}  // namespace

LabelData data_from_job(const PrintJob& job, const StationConfig* config,
                        const std::map<std::string, std::string>& extra) {
  LabelData d;
  auto& f = d.fields;
  f["job_id"] = std::to_string(job.job_id);
  f["parcel_id"] = std::to_string(job.parcel_id);
  f["kind"] = job.kind;
  f["courier"] = job.courier;
  f["courier_name"] = job.courier;
  const Courier* c = config ? config->courier(job.courier) : nullptr;
  if (c && !c->name.empty()) f["courier_name"] = c->name;
  if (c && !c->color.empty()) f["courier_color"] = c->color;
  if (job.lane > 0) {
    f["lane"] = std::to_string(job.lane);
    f["lane2"] = two_digits(job.lane);
    f["sort_code"] = two_digits(job.lane);
  }
  if (const Lane* lane = config ? config->lane(job.lane) : nullptr) {
    std::string regions;
    for (auto& r : lane->regions) regions += (regions.empty() ? "" : " ") + r;
    f["regions"] = regions.empty() ? std::string("其他 (rest)") : regions;
  }
  const Order& o = job.order;
  if (job.kind == "parcel") {
    f["order_id"] = o.id;
    f["tracking"] = o.codes.empty() ? "P" + std::to_string(job.parcel_id) : o.codes.front();
    f["province"] = o.province;
    f["city"] = o.city;
    f["district"] = o.district;
    f["postcode"] = o.postcode;
    f["address"] = o.address;
    f["destination"] = o.province + " " + o.city + " " + o.district;
    f["recipient"] = mask_name(o.recipient);
    f["phone"] = mask_phone(o.phone);
    std::int32_t grams = job.weight_g > 0 ? job.weight_g : o.weight_g;
    if (grams > 0) f["weight_kg"] = fixed2(grams / 1000.0);
    f["service"] = to_string(o.service);
    d.modes.insert(to_string(o.service));
    f["qr_data"] = f["tracking"] + "|" + o.id + "|" + o.province + "|" + o.city + "|" + o.district +
                   "|" + f["lane"];
    f["dm_data"] = f["tracking"] + "|L" + f["lane2"];
    if (o.cod_fen > 0) {
      d.modes.insert("cod");
      f["cod_amount"] = fixed2(o.cod_fen / 100.0);
    }
    if (o.invoice) {
      d.modes.insert("invoice");
      f["invoice_mark"] = "含发票 INVOICE";
    }
    if (o.fragile) d.modes.insert("fragile");
    if (o.pickup_point) d.modes.insert("pickup_point");
  }
  if (job.exception != ExceptionKind::None) {
    d.modes.insert("exception");
    f["exception"] = to_string(job.exception);
    f["reason"] = job.reason.empty() ? describe(job.exception) : job.reason;
  }
  for (auto& [k, v] : extra) f[k] = v;
  return d;
}

}  // namespace sortd::labels
