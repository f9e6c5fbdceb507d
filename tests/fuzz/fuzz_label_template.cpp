// libFuzzer target: label templates (parse_template, label-templates/src/template.cpp, the JSON
// format of docs/labels.md: files a supervisor edits), then filling and rendering what parsed.
// Properties checked besides "no crash, no sanitizer report":
//  - parse_template returns a template or throws TemplateError with a message, nothing else;
//  - a template fills (with every field it names given a value) into a label, or throws
//    FillError listing at least one problem;
//  - a label renders to one ^XA...^XZ ZPL format and to TSPL ending in PRINT, and
//    label_from_zpl reads that ZPL back (it reads what to_zpl writes) with the same elements,
//    also when the values hold ZPL's command characters '^' and '~'.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "label.h"

using namespace sortd::labels;

namespace {

void check(bool ok, const char* what, const std::string& detail = {}) {
  if (!ok) {
    std::fprintf(stderr, "property failed: %s %s\n", what, detail.c_str());
    std::abort();
  }
}

// Every "{name}" / "{name?}" of a text: given a plausible value, or one holding ZPL's command
// characters (order codes may: printable ASCII), which must not change the label's commands.
void add_fields(const std::string& text, LabelData& data, bool zpl_chars) {
  for (std::size_t i = text.find('{'); i != std::string::npos; i = text.find('{', i + 1)) {
    auto end = text.find('}', i);
    if (end == std::string::npos) break;
    std::string name = text.substr(i + 1, end - i - 1);
    if (!name.empty() && name.back() == '?') name.pop_back();
    data.fields[name] = zpl_chars ? "V^XZ~JR_" + name + ">9" : "V" + name;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t sel = data[0];
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  Template t;
  try {
    t = parse_template(in, "fuzz.json");
  } catch (const TemplateError& e) {
    check(std::string_view(e.what()).find("fuzz.json") == 0, "TemplateError without its source",
          e.what());
    return 0;
  }
  check(!t.elements.empty(), "template without elements");
  for (const auto& e : t.elements) {
    check(e.x >= 0 && e.y >= 0 && e.x + e.w <= t.design_w + 1e-6 && e.y + e.h <= t.design_h + 1e-6,
          "element off the design");
  }

  // Fill it: every field named gets a value, the modes chosen by the selector byte.
  LabelData d;
  for (const auto& f : t.required) d.fields[f] = "V" + f;
  int bit = 0;
  for (const auto& [mode, fields] : t.required_in_mode) {
    if (sel & (1 << (bit++ % 6))) {
      d.modes.insert(mode);
      for (const auto& f : fields) d.fields[f] = "V" + f;
    }
  }
  for (const auto& e : t.elements) {
    add_fields(e.text, d, sel & 0x20);
    std::string m = e.when.rfind('!', 0) == 0 ? e.when.substr(1) : e.when;
    if (!m.empty() && (sel & 0x40)) d.modes.insert(m);
  }
  LabelSize sizes[] = {{100, 150, 203}, {76, 130, 203}, {100, 150, 300}};
  LabelSize ls = sizes[(sel >> 6) % 3];
  Label l;
  try {
    l = fill(t, d, ls);
  } catch (const FillError& e) {
    check(!e.problems().empty(), "FillError without problems");
    return 0;
  }
  std::string zpl = to_zpl(l);
  check(zpl.rfind("^XA", 0) == 0 && zpl.find("^XZ") != std::string::npos, "ZPL format", zpl);
  check(zpl.find("^XZ") == zpl.size() - 3, "a ^XZ before the end of the format", zpl);
  check(zpl.find('~') == std::string::npos, "a '~' command in the ZPL", zpl);
  std::string tspl = to_tspl(l);
  check(tspl.find("PRINT") != std::string::npos, "TSPL without PRINT", tspl);
  auto back = label_from_zpl(zpl, ls.dpi);
  check(back.has_value(), "label_from_zpl does not read to_zpl's output", zpl);
  check(back->items.size() == l.items.size(), "ZPL read back with other elements", zpl);
  for (std::size_t i = 0; i < l.items.size(); ++i)
    check(back->items[i].type == l.items[i].type, "ZPL read back with other element types", zpl);
  return 0;
}
