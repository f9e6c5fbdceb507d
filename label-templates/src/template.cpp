// Template files: parsing, checking and lookup.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "label.h"

namespace sortd::labels {

namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& source, const std::string& where,
                       const std::string& what) {
  throw TemplateError(source + ": " + where + ": " + what);
}

double number(const json& j, const std::string& key, const std::string& source,
              const std::string& where, double min, double max) {
  if (!j.is_number()) fail(source, where + "." + key, "must be a number, got " + j.dump());
  double v = j.get<double>();
  if (v < min || v > max)
    fail(
        source, where + "." + key,
        "must be within " + std::to_string(min) + ".." + std::to_string(max) + ", got " + j.dump());
  return v;
}

std::string string_of(const json& j, const std::string& key, const std::string& source,
                      const std::string& where) {
  if (!j.is_string()) fail(source, where + "." + key, "must be a string, got " + j.dump());
  return j.get<std::string>();
}

bool bool_of(const json& j, const std::string& key, const std::string& source,
             const std::string& where) {
  if (!j.is_boolean()) fail(source, where + "." + key, "must be true or false, got " + j.dump());
  return j.get<bool>();
}

std::vector<std::string> strings_of(const json& j, const std::string& where,
                                    const std::string& source) {
  if (!j.is_array()) fail(source, where, "must be a list of field names");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_string() || j[i].get<std::string>().empty())
      fail(source, where + "[" + std::to_string(i) + "]", "must be a field name");
    out.push_back(j[i].get<std::string>());
  }
  return out;
}

std::optional<ElementType> type_from(std::string_view s) {
  if (s == "text") return ElementType::Text;
  if (s == "box") return ElementType::Box;
  if (s == "code128") return ElementType::Code128;
  if (s == "qr") return ElementType::Qr;
  if (s == "datamatrix") return ElementType::DataMatrix;
  return std::nullopt;
}

// Checks "{field}" / "{field?}" placeholders: balanced, names of [A-Za-z0-9_].
void check_placeholders(const std::string& text, const std::string& source,
                        const std::string& where) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '}') fail(source, where, "'}' without '{' at offset " + std::to_string(i));
    if (text[i] != '{') continue;
    auto end = text.find('}', i);
    if (end == std::string::npos)
      fail(source, where, "'{' without '}' at offset " + std::to_string(i));
    std::string name = text.substr(i + 1, end - i - 1);
    if (!name.empty() && name.back() == '?') name.pop_back();
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        }))
      fail(source, where, "bad field name '{" + text.substr(i + 1, end - i - 1) + "}'");
    i = end;
  }
}

Element parse_element(const json& j, std::size_t index, const Template& t) {
  const std::string where = "elements[" + std::to_string(index) + "]";
  const std::string& src = t.source;
  if (!j.is_object()) fail(src, where, "must be an object");
  if (!j.contains("type")) fail(src, where, "missing key 'type'");
  auto type = type_from(string_of(j["type"], "type", src, where));
  if (!type)
    fail(src, where + ".type",
         "unknown element type '" + j["type"].get<std::string>() +
             "' (text, box, code128, qr, datamatrix)");
  Element e;
  e.type = *type;
  static const std::set<std::string> common = {"type", "name", "x", "y", "w", "h", "when"};
  static const std::map<ElementType, std::set<std::string>> own = {
      {ElementType::Text, {"text", "size", "lines", "reverse"}},
      {ElementType::Box, {"fill", "line"}},
      {ElementType::Code128, {"data"}},
      {ElementType::Qr, {"data"}},
      {ElementType::DataMatrix, {"data"}},
  };
  for (auto& [key, value] : j.items()) {
    (void)value;
    if (!common.count(key) && !own.at(e.type).count(key))
      fail(src, where + "." + key, std::string("unknown key for a ") + to_string(e.type));
  }
  auto need = [&](const char* key) -> const json& {
    if (!j.contains(key)) fail(src, where, std::string("missing key '") + key + "'");
    return j[key];
  };
  e.x = number(need("x"), "x", src, where, 0, t.design_w);
  e.y = number(need("y"), "y", src, where, 0, t.design_h);
  if (j.contains("name")) e.name = string_of(j["name"], "name", src, where);
  if (j.contains("when")) {
    e.when = string_of(j["when"], "when", src, where);
    std::string m = e.when.rfind('!', 0) == 0 ? e.when.substr(1) : e.when;
    if (m.empty()) fail(src, where + ".when", "empty mode name");
  }
  switch (e.type) {
    case ElementType::Text:
      e.text = string_of(need("text"), "text", src, where);
      e.size = number(need("size"), "size", src, where, 1, 60);
      e.w = j.contains("w") ? number(j["w"], "w", src, where, 1, t.design_w) : t.design_w - e.x;
      if (j.contains("lines"))
        e.lines = static_cast<int>(number(j["lines"], "lines", src, where, 1, 20));
      if (j.contains("reverse")) e.reverse = bool_of(j["reverse"], "reverse", src, where);
      e.h = e.size * e.lines;
      if (j.contains("h")) fail(src, where + ".h", "a text's height is size x lines");
      check_placeholders(e.text, src, where + ".text");
      break;
    case ElementType::Box:
      e.w = number(need("w"), "w", src, where, 0.1, t.design_w);
      e.h = number(need("h"), "h", src, where, 0.1, t.design_h);
      if (j.contains("fill")) e.fill = bool_of(j["fill"], "fill", src, where);
      if (j.contains("line")) e.line = number(j["line"], "line", src, where, 0.1, 20);
      break;
    case ElementType::Code128:
    case ElementType::Qr:
    case ElementType::DataMatrix:
      e.text = string_of(need("data"), "data", src, where);
      e.w = number(need("w"), "w", src, where, 5, t.design_w);
      e.h =
          e.type == ElementType::Code128 ? number(need("h"), "h", src, where, 3, t.design_h) : e.w;
      if (e.type != ElementType::Code128 && j.contains("h"))
        fail(src, where + ".h", "a 2-D symbol is square: give w only");
      check_placeholders(e.text, src, where + ".data");
      break;
  }
  if (e.x + e.w > t.design_w + 1e-6 || e.y + e.h > t.design_h + 1e-6)
    fail(src, where,
         "does not fit on the " + std::to_string(static_cast<int>(t.design_w)) + "x" +
             std::to_string(static_cast<int>(t.design_h)) + " mm design");
  return e;
}

}  // namespace

const char* to_string(ElementType t) {
  switch (t) {
    case ElementType::Text:
      return "text";
    case ElementType::Box:
      return "box";
    case ElementType::Code128:
      return "code128";
    case ElementType::Qr:
      return "qr";
    case ElementType::DataMatrix:
      return "datamatrix";
  }
  return "?";
}

FillError::FillError(std::vector<std::string> problems)
    : std::runtime_error([&] {
        std::string s = "label refused:";
        for (auto& p : problems) s += " " + p + ";";
        if (!problems.empty()) s.pop_back();
        return s;
      }()),
      problems_(std::move(problems)) {}

Template parse_template(std::string_view text, const std::string& source) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    throw TemplateError(source + ": not JSON: " + e.what());
  }
  if (!j.is_object()) fail(source, "(top)", "must be a JSON object");
  Template t;
  t.source = source;
  static const std::set<std::string> keys = {"name",     "kind",      "courier",        "design_mm",
                                             "zpl_font", "tspl_font", "tspl_font_dots", "requires",
                                             "elements", "comment"};
  for (auto& [key, value] : j.items()) {
    (void)value;
    if (!keys.count(key)) fail(source, key, "unknown key");
  }
  for (const char* k : {"name", "kind", "courier", "elements"})
    if (!j.contains(k)) fail(source, "(top)", std::string("missing key '") + k + "'");
  t.name = string_of(j["name"], "name", source, "(top)");
  t.kind = string_of(j["kind"], "kind", source, "(top)");
  if (t.kind != "parcel" && t.kind != "lane" && t.kind != "bag")
    fail(source, "kind", "must be parcel, lane or bag, got '" + t.kind + "'");
  t.courier = string_of(j["courier"], "courier", source, "(top)");
  if (t.courier.empty()) fail(source, "courier", "must be a courier id or \"*\"");
  if (j.contains("design_mm")) {
    const json& d = j["design_mm"];
    if (!d.is_array() || d.size() != 2) fail(source, "design_mm", "must be [width, height]");
    t.design_w = number(d[0], "design_mm[0]", source, "(top)", 20, 300);
    t.design_h = number(d[1], "design_mm[1]", source, "(top)", 20, 600);
  }
  if (j.contains("zpl_font")) t.zpl_font = string_of(j["zpl_font"], "zpl_font", source, "(top)");
  if (j.contains("tspl_font"))
    t.tspl_font = string_of(j["tspl_font"], "tspl_font", source, "(top)");
  if (j.contains("tspl_font_dots"))
    t.tspl_font_dots =
        static_cast<int>(number(j["tspl_font_dots"], "tspl_font_dots", source, "(top)", 8, 96));
  if (j.contains("requires")) {
    const json& r = j["requires"];
    if (!r.is_object()) fail(source, "requires", "must be an object {mode: [fields]}");
    for (auto& [mode, list] : r.items()) {
      auto fields = strings_of(list, "requires." + mode, source);
      if (mode == "always")
        t.required = fields;
      else
        t.required_in_mode[mode] = fields;
    }
  }
  const json& els = j["elements"];
  if (!els.is_array() || els.empty()) fail(source, "elements", "must be a non-empty list");
  for (std::size_t i = 0; i < els.size(); ++i) t.elements.push_back(parse_element(els[i], i, t));
  return t;
}

TemplateSet TemplateSet::load_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  TemplateSet set;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw TemplateError(dir + ": not a folder of label templates");
  std::vector<fs::path> files;
  for (auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (auto& p : files) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    set.add(parse_template(ss.str(), p.string()));
  }
  if (set.templates_.empty()) throw TemplateError(dir + ": no *.json label templates");
  return set;
}

std::string TemplateSet::default_dir() {
#ifdef SORTD_TEMPLATE_DIR
  return std::string(SORTD_TEMPLATE_DIR) + "/templates";
#else
  return "label-templates/templates";
#endif
}

void TemplateSet::add(Template t) {
  for (auto& o : templates_)
    if (o.kind == t.kind && o.courier == t.courier)
      throw TemplateError(t.source + ": a " + t.kind + " template for courier '" + t.courier +
                          "' is already given by " + o.source);
  templates_.push_back(std::move(t));
}

const Template* TemplateSet::find(std::string_view kind, std::string_view courier) const {
  const Template* any = nullptr;
  for (auto& t : templates_) {
    if (t.kind != kind) continue;
    if (t.courier == courier) return &t;
    if (t.courier == "*") any = &t;
  }
  return any;
}

}  // namespace sortd::labels
