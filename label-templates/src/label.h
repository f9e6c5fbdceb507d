// sortd labels: editable label templates (JSON, sizes in millimetres, `{field}` placeholders),
// filled with checks and rendered from the same description to ZPL II, to TSPL and to a PNG
// preview (libzint for barcodes, cairo for text and boxes). See docs/labels.md.
//
//   TemplateSet set = TemplateSet::load_dir(dir);            // label-templates/templates
//   LabelData data = data_from_job(job, &config);             // or fields by hand
//   Label label = fill(*set.find("parcel", "sf"), data, {100, 150, 203});  // throws FillError
//   std::string zpl = to_zpl(label), tspl = to_tspl(label);
//   std::string png = to_png(label);
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "events.h"
#include "model.h"

namespace sortd::labels {

// A template that cannot be read: the message names the source, the element and the key.
class TemplateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A label that must not be printed: a required field is missing or a value cannot be encoded.
// problems() lists every reason ("cod_amount: required in mode cod, missing").
class FillError : public std::runtime_error {
 public:
  explicit FillError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

enum class ElementType : std::uint8_t { Text, Box, Code128, Qr, DataMatrix };
const char* to_string(ElementType t);

// One element of a template, in millimetres on the template's design canvas.
struct Element {
  ElementType type = ElementType::Text;
  std::string name;  // optional id (tests find barcode regions by it)
  double x = 0, y = 0, w = 0, h = 0;
  std::string text;      // Text: content; barcodes: data. May hold {field} placeholders.
  double size = 0;       // Text: character height in mm
  int lines = 1;         // Text: lines the block may wrap to
  bool reverse = false;  // Text: white on black (put a filled box under it)
  bool fill = false;     // Box: filled black
  double line = 0.3;     // Box: line thickness in mm
  std::string when;      // "" = always; "cod" = only in mode cod; "!cod" = only without it
  int line_no = 0;       // where it is in the source (for messages)
};

enum class Kind : std::uint8_t { Parcel, Lane, Bag };

struct Template {
  std::string source;                     // file name (for messages)
  std::string name;                       // e.g. "parcel-sf"
  std::string kind;                       // parcel | lane | bag
  std::string courier;                    // courier id, or "*" for every courier
  double design_w = 100, design_h = 150;  // mm
  std::string zpl_font = "E:SIMSUN.FNT";  // ZPL ^A@ font for all text (CJK capable)
  std::string tspl_font = "TSS24.BF2";    // TSPL font (24-dot simplified Chinese bitmap font)
  int tspl_font_dots = 24;                // the TSPL font's native height in dots
  std::vector<std::string> required;      // fields every label needs
  std::map<std::string, std::vector<std::string>> required_in_mode;  // mode -> fields
  std::vector<Element> elements;
};

// Parses one template (the JSON format of docs/labels.md). Throws TemplateError naming the
// source, the element index and the key of the first problem.
Template parse_template(std::string_view json_text, const std::string& source);

// Every template of a folder (*.json), looked up by kind and courier: a courier's own template
// wins over the "*" one.
class TemplateSet {
 public:
  static TemplateSet load_dir(const std::string& dir);  // throws TemplateError
  static std::string default_dir();                     // label-templates/templates
  void add(Template t);
  const Template* find(std::string_view kind, std::string_view courier) const;
  const std::vector<Template>& all() const { return templates_; }

 private:
  std::vector<Template> templates_;
};

// The values a label is filled with, and the modes that choose elements and requirements
// (cod, invoice, exception, express, ...).
struct LabelData {
  std::map<std::string, std::string> fields;
  std::set<std::string> modes;
};

// Label sizes the station uses: 100x150 mm and 76x130 mm, at 203 or 300 dpi.
struct LabelSize {
  double width_mm = 100, height_mm = 150;
  int dpi = 203;
  int width_dots() const;
  int height_dots() const;
  double dots_per_mm() const { return dpi / 25.4; }
};

// A filled label: every element placed in printer dots, placeholders replaced, barcode module
// sizes chosen. What to_zpl / to_tspl / to_png draw, identically.
struct Item {
  ElementType type = ElementType::Text;
  std::string name;
  int x = 0, y = 0, w = 0, h = 0;  // dots; barcodes: the area they must fit in
  std::string text;
  int font = 0;                    // Text: character height in dots
  int lines = 1;                   // Text
  bool reverse = false;            // Text
  bool fill = false;               // Box
  int thickness = 1;               // Box
  int module = 1;                  // barcodes: narrow bar / cell size in dots
  bool gs1 = false;                // Code128: data is GS1 "(AI)value..." -> GS1-128
  int symbol_w = 0, symbol_h = 0;  // barcodes: drawn size in dots (from libzint)
};

struct Label {
  std::string template_name;
  LabelSize size;
  std::string zpl_font, tspl_font;
  int tspl_font_dots = 24;
  std::vector<Item> items;
  const Item* find(std::string_view name) const;
};

// Fills a template: checks that every required field (and every field an active element uses)
// is present and not blank, replaces placeholders, scales the design to the size. Throws
// FillError listing every problem. "{field?}" marks an optional field (empty when missing).
Label fill(const Template& t, const LabelData& data, const LabelSize& size);

std::string to_zpl(const Label& l);   // one ^XA...^XZ format, ^CI28 (UTF-8)
std::string to_tspl(const Label& l);  // SIZE/GAP/DIRECTION/CODEPAGE UTF-8/CLS/.../PRINT 1
// The ZPL subset to_zpl() writes, read back into a label (the printer simulator's previews);
// nullopt for anything else. `dpi` is the printer's resolution.
std::optional<Label> label_from_zpl(std::string_view zpl, int dpi);
std::string to_png(const Label& l);  // PNG bytes (throws std::runtime_error on a zint error)
void write_png(const Label& l, const std::string& path);

// The fields and modes of a print job (see docs/labels.md for the list). `config` supplies
// courier names/colours and lane regions; may be null. `extra` is merged last (bag fields:
// bag_id, count, weight_kg, closed_at).
LabelData data_from_job(const PrintJob& job, const StationConfig* config,
                        const std::map<std::string, std::string>& extra = {});

// "13812345678" -> "138****5678"; "张三丰" -> "张**".
std::string mask_phone(std::string_view phone);
std::string mask_name(std::string_view name);
// GS1 element strings "(00)123..." (digits and parentheses only, AIs of two to four digits).
bool is_gs1(std::string_view data);
std::string gs1_digits(std::string_view data);  // "(00)123" -> "00123"

}  // namespace sortd::labels
