// Test helper: reads a label PNG and decodes the barcode inside one region of it with zxing-cpp
// (libzxing-dev 1.4). Decoding a crop of each barcode's region, with only that symbology
// enabled, keeps zxing 1.4 away from the assertion it hits on a whole label with two Code 128
// symbols.
#pragma once

#include <cairo.h>

// zxing-cpp 1.4: text() as UTF-8 std::string.
#ifndef ZX_USE_UTF8
#define ZX_USE_UTF8 1
#endif
#include <ZXing/ReadBarcode.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace sortd::test {

struct Gray {
  int w = 0, h = 0;
  std::vector<std::uint8_t> px;  // 0 = black, 255 = white
};

inline cairo_status_t read_from_string(void* closure, unsigned char* data, unsigned int length) {
  auto* s = static_cast<std::pair<const std::string*, std::size_t>*>(closure);
  if (s->second + length > s->first->size()) return CAIRO_STATUS_READ_ERROR;
  std::copy_n(s->first->data() + s->second, length, data);
  s->second += length;
  return CAIRO_STATUS_SUCCESS;
}

// PNG bytes -> grey levels (any cairo-readable PNG: RGB, RGBA on a white ground, grey).
inline Gray load_png(const std::string& png) {
  std::pair<const std::string*, std::size_t> cursor{&png, 0};
  cairo_surface_t* s = cairo_image_surface_create_from_png_stream(read_from_string, &cursor);
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(s);
    throw std::runtime_error("not a PNG cairo can read");
  }
  // Paint it on white so that transparent pixels count as paper.
  Gray g;
  g.w = cairo_image_surface_get_width(s);
  g.h = cairo_image_surface_get_height(s);
  cairo_surface_t* rgb = cairo_image_surface_create(CAIRO_FORMAT_RGB24, g.w, g.h);
  cairo_t* cr = cairo_create(rgb);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_set_source_surface(cr, s, 0, 0);
  cairo_paint(cr);
  cairo_destroy(cr);
  cairo_surface_flush(rgb);
  const unsigned char* data = cairo_image_surface_get_data(rgb);
  const int stride = cairo_image_surface_get_stride(rgb);
  g.px.resize(static_cast<std::size_t>(g.w) * g.h);
  for (int y = 0; y < g.h; ++y)
    for (int x = 0; x < g.w; ++x) {
      std::uint32_t p = *reinterpret_cast<const std::uint32_t*>(data + y * stride + x * 4);
      int r = (p >> 16) & 255, gr = (p >> 8) & 255, b = p & 255;
      g.px[static_cast<std::size_t>(y) * g.w + x] = static_cast<std::uint8_t>((r + gr + b) / 3);
    }
  cairo_surface_destroy(rgb);
  cairo_surface_destroy(s);
  return g;
}

struct Decoded {
  bool ok = false;
  std::string text;       // UTF-8
  std::string symbology;  // e.g. "]C1" for GS1-128
  std::string format;     // "Code128", "QRCode", "DataMatrix"
};

// Decodes the region (x, y, w, h) grown by `margin` pixels on each side (clipped to the image),
// copied onto a white canvas with a quiet zone around it.
inline Decoded decode_region(const Gray& g, int x, int y, int w, int h, int margin,
                             ZXing::BarcodeFormat format) {
  int x0 = std::max(0, x - margin), y0 = std::max(0, y - margin);
  int x1 = std::min(g.w, x + w + margin), y1 = std::min(g.h, y + h + margin);
  if (x1 <= x0 || y1 <= y0) return {};
  const int quiet = 40;
  const int cw = x1 - x0 + 2 * quiet, ch = y1 - y0 + 2 * quiet;
  std::vector<std::uint8_t> crop(static_cast<std::size_t>(cw) * ch, 255);
  for (int yy = y0; yy < y1; ++yy)
    std::copy_n(&g.px[static_cast<std::size_t>(yy) * g.w + x0], x1 - x0,
                &crop[static_cast<std::size_t>(yy - y0 + quiet) * cw + quiet]);
  ZXing::DecodeHints hints;
  hints.setFormats(format);
  hints.setTryHarder(true);
  hints.setTryRotate(false);
  hints.setMaxNumberOfSymbols(1);
  auto r = ZXing::ReadBarcode({crop.data(), cw, ch, ZXing::ImageFormat::Lum}, hints);
  Decoded d;
  d.ok = r.isValid();
  if (d.ok) {
    d.text = r.text();
    d.symbology = r.symbologyIdentifier();
    d.format = ZXing::ToString(r.format());
  }
  return d;
}

}  // namespace sortd::test
