// PNG preview of a filled label: libzint encodes the barcodes (drawn module by module at the
// same module size as the printer gets), cairo draws boxes and text (CJK through fontconfig's
// "Noto Sans CJK SC", installed by fonts-noto-cjk).
#include <cairo.h>
#include <zint.h>

#include <fstream>
#include <memory>
#include <stdexcept>

#include "label.h"

namespace sortd::labels {

namespace {

constexpr const char* kFont = "Noto Sans CJK SC";

bool module_set(const zint_symbol* s, int row, int col) {
  return (s->encoded_data[row][col >> 3] >> (col & 7)) & 1;
}

void draw_barcode(cairo_t* cr, const Item& it) {
  std::unique_ptr<zint_symbol, void (*)(zint_symbol*)> sym(ZBarcode_Create(), ZBarcode_Delete);
  std::string data = it.text;
  switch (it.type) {
    case ElementType::Code128:
      if (it.gs1) {
        sym->symbology = BARCODE_GS1_128;
        sym->input_mode = GS1_MODE | GS1PARENS_MODE;
      } else {
        sym->symbology = BARCODE_CODE128;
        sym->input_mode = DATA_MODE;
      }
      break;
    case ElementType::Qr:
      sym->symbology = BARCODE_QRCODE;
      sym->option_1 = 2;  // ECC M, like the ZPL and TSPL output
      sym->input_mode = DATA_MODE;
      break;
    case ElementType::DataMatrix:
      sym->symbology = BARCODE_DATAMATRIX;
      sym->option_3 = DM_SQUARE;
      sym->input_mode = DATA_MODE;
      break;
    default:
      return;
  }
  int rc = ZBarcode_Encode(sym.get(), reinterpret_cast<const unsigned char*>(data.data()),
                           static_cast<int>(data.size()));
  if (rc >= ZINT_ERROR)
    throw std::runtime_error("preview: " + std::string(to_string(it.type)) + " '" + data +
                             "': " + sym->errtxt);
  const int m = it.module;
  cairo_set_source_rgb(cr, 0, 0, 0);
  if (it.type == ElementType::Code128) {
    for (int col = 0; col < sym->width; ++col)
      if (module_set(sym.get(), 0, col)) cairo_rectangle(cr, it.x + col * m, it.y, m, it.h);
  } else {
    for (int row = 0; row < sym->rows; ++row)
      for (int col = 0; col < sym->width; ++col)
        if (module_set(sym.get(), row, col))
          cairo_rectangle(cr, it.x + col * m, it.y + row * m, m, m);
  }
  cairo_fill(cr);
}

// Splits UTF-8 text into lines no wider than `w`, at most `lines` of them (the rest is cut).
std::vector<std::string> wrap(cairo_t* cr, const std::string& text, int w, int lines) {
  std::vector<std::string> out(1);
  std::size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80         ? 1
                      : (c >> 5) == 6  ? 2
                      : (c >> 4) == 14 ? 3
                      : (c >> 3) == 30 ? 4
                                       : 1;
    std::string candidate = out.back() + text.substr(i, len);
    cairo_text_extents_t ext;
    cairo_text_extents(cr, candidate.c_str(), &ext);
    if (ext.x_advance > w && !out.back().empty()) {
      if (static_cast<int>(out.size()) == lines) break;
      out.emplace_back();
      continue;
    }
    out.back() = candidate;
    i += len;
  }
  return out;
}

void draw_text(cairo_t* cr, const Item& it) {
  cairo_select_font_face(cr, kFont, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size(cr, it.font);
  if (it.reverse) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, it.x, it.y, it.w, it.font * it.lines);
    cairo_fill(cr);
  }
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  double scale = fe.height > 0 ? it.font / fe.height : 1.0;  // a line is `font` dots high
  cairo_save(cr);
  cairo_rectangle(cr, it.x, it.y, it.w, it.font * it.lines);
  cairo_clip(cr);
  cairo_set_font_size(cr, it.font * scale);
  cairo_font_extents(cr, &fe);
  if (it.reverse)
    cairo_set_source_rgb(cr, 1, 1, 1);
  else
    cairo_set_source_rgb(cr, 0, 0, 0);
  auto lines = wrap(cr, it.text, it.w, it.lines);
  for (std::size_t n = 0; n < lines.size(); ++n) {
    cairo_move_to(cr, it.x, it.y + n * it.font + fe.ascent);
    cairo_show_text(cr, lines[n].c_str());
  }
  cairo_restore(cr);
}

cairo_status_t append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

}  // namespace

std::string to_png(const Label& l) {
  const int W = l.size.width_dots(), H = l.size.height_dots();
  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
  cairo_t* cr = cairo_create(surface);
  cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);  // a thermal printer prints whole dots
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  std::string png;
  try {
    for (const Item& it : l.items) {
      switch (it.type) {
        case ElementType::Box:
          cairo_set_source_rgb(cr, 0, 0, 0);
          if (it.fill) {
            cairo_rectangle(cr, it.x, it.y, it.w, it.h);
          } else {  // ZPL ^GB draws the border inside the box
            const int t = it.thickness;
            cairo_rectangle(cr, it.x, it.y, it.w, t);
            cairo_rectangle(cr, it.x, it.y + it.h - t, it.w, t);
            cairo_rectangle(cr, it.x, it.y, t, it.h);
            cairo_rectangle(cr, it.x + it.w - t, it.y, t, it.h);
          }
          cairo_fill(cr);
          break;
        case ElementType::Text:
          draw_text(cr, it);
          break;
        default:
          draw_barcode(cr, it);
      }
    }
    cairo_surface_flush(surface);
    cairo_surface_write_to_png_stream(surface, append, &png);
  } catch (...) {
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
    throw;
  }
  cairo_destroy(cr);
  cairo_surface_destroy(surface);
  return png;
}

void write_png(const Label& l, const std::string& path) {
  std::string png = to_png(l);
  std::ofstream out(path, std::ios::binary);
  out.write(png.data(), static_cast<std::streamsize>(png.size()));
  if (!out) throw std::runtime_error("preview: cannot write " + path);
}

}  // namespace sortd::labels
