// TSPL / TSPL2 rendering of a filled label (TSC TSPL/TSPL2 Programming Manual: SIZE, GAP,
// DIRECTION, REFERENCE, CODEPAGE, CLS, BOX, BAR, TEXT, BLOCK, REVERSE, BARCODE, QRCODE, DMATRIX,
// PRINT). Every command line ends in CR LF.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "label.h"

namespace sortd::labels {

namespace {

// A TSPL string literal: a double quote inside is written \["].
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"')
      out += "\\[\"]";
    else if (c == '\r' || c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out + "\"";
}

std::string mm(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

std::string to_tspl(const Label& l) {
  std::string t;
  auto num = [](int v) { return std::to_string(v); };
  auto cmd = [&t](const std::string& line) { t += line + "\r\n"; };
  cmd("SIZE " + mm(l.size.width_mm) + " mm," + mm(l.size.height_mm) + " mm");
  cmd("GAP 2 mm,0 mm");
  cmd("DIRECTION 1,0");
  cmd("REFERENCE 0,0");
  cmd("CODEPAGE UTF-8");
  cmd("CLS");
  for (const Item& it : l.items) {
    const std::string xy = num(it.x) + "," + num(it.y);
    switch (it.type) {
      case ElementType::Box:
        if (it.fill)
          cmd("BAR " + xy + "," + num(it.w) + "," + num(it.h));
        else
          cmd("BOX " + xy + "," + num(it.x + it.w) + "," + num(it.y + it.h) + "," +
              num(it.thickness));
        break;
      case ElementType::Text: {
        // TSPL multiplies a bitmap font 1..10 times.
        int mul =
            std::clamp(static_cast<int>(std::lround(double(it.font) / l.tspl_font_dots)), 1, 10);
        const std::string font = quoted(l.tspl_font) + ",0," + num(mul) + "," + num(mul) + ",";
        if (it.lines > 1)
          cmd("BLOCK " + xy + "," + num(it.w) + "," + num(it.font * it.lines) + "," + font +
              "0,0," + quoted(it.text));
        else
          cmd("TEXT " + xy + "," + font + quoted(it.text));
        if (it.reverse)  // white on black: invert the text's area
          cmd("REVERSE " + xy + "," + num(it.w) + "," + num(it.font * it.lines));
        break;
      }
      case ElementType::Code128:
        // BARCODE x,y,"type",height,human readable,rotation,narrow,wide,"content"
        cmd("BARCODE " + xy + "," + (it.gs1 ? "\"EAN128\"" : "\"128\"") + "," + num(it.h) +
            ",0,0," + num(it.module) + "," + num(it.module) + "," +
            quoted(it.gs1 ? gs1_digits(it.text) : it.text));
        break;
      case ElementType::Qr:
        // QRCODE x,y,ECC level,cell width,mode,rotation,"data"
        cmd("QRCODE " + xy + ",M," + num(it.module) + ",A,0," + quoted(it.text));
        break;
      case ElementType::DataMatrix:
        // DMATRIX x,y,width,height,xm (module size),"data"
        cmd("DMATRIX " + xy + "," + num(it.w) + "," + num(it.w) + ",x" + num(it.module) + "," +
            quoted(it.text));
        break;
    }
  }
  cmd("PRINT 1,1");
  return t;
}

}  // namespace sortd::labels
