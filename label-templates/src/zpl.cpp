// ZPL II rendering of a filled label (Zebra Programming Guide: ^XA ^CI28 ^PW ^LL ^LH ^FO ^GB
// ^A@ ^FB ^FR ^FH ^FD ^FS ^BY ^BC ^BQ ^BX ^PQ ^XZ).
#include <string>

#include "label.h"

namespace sortd::labels {

namespace {

// ^FD data: with ^FH_ when it holds a character that ZPL would take as a command.
std::string field_data(const std::string& s) {
  if (s.find_first_of("^~_") == std::string::npos) return "^FD" + s;
  static const char* hex = "0123456789ABCDEF";
  std::string out = "^FH_^FD";
  for (unsigned char c : s) {
    if (c == '^' || c == '~' || c == '_') {
      out += '_';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string code128_data(const Item& it) {
  if (it.gs1) {
    std::string d = gs1_digits(it.text);
    // Start in code set C (pairs of digits) when it can, else B; then FNC1 (GS1-128).
    return (d.size() % 2 == 0 ? ">;>8" : ">:>8") + d;
  }
  std::string out;
  for (char c : it.text) {
    if (c == '>')
      out += "><";  // '>' starts an invocation code in ^BC data; "><" is a literal '>'
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string to_zpl(const Label& l) {
  std::string z;
  auto num = [](int v) { return std::to_string(v); };
  z += "^XA\n^CI28\n^PW" + num(l.size.width_dots()) + "\n^LL" + num(l.size.height_dots()) +
       "\n^LH0,0\n";
  for (const Item& it : l.items) {
    const std::string fo = "^FO" + num(it.x) + "," + num(it.y);
    switch (it.type) {
      case ElementType::Box:
        z += fo + "^GB" + num(it.w) + "," + num(it.h) + "," + num(it.thickness) + ",B,0^FS\n";
        break;
      case ElementType::Text:
        if (it.reverse)
          z += fo + "^GB" + num(it.w) + "," + num(it.font * it.lines) + "," +
               num(std::min(it.w, it.font * it.lines)) + ",B,0^FS\n";
        z += fo + "^A@N," + num(it.font) + ",," + l.zpl_font + "^FB" + num(it.w) + "," +
             num(it.lines) + ",0,L,0" + (it.reverse ? "^FR" : "") + field_data(it.text) + "^FS\n";
        break;
      case ElementType::Code128:
        // Through field_data like every other ^FD: a code may hold '^' or '~' (printable ASCII,
        // allowed in order codes), which the printer would take as a command.
        z += fo + "^BY" + num(it.module) + ",3," + num(it.h) + "^BCN," + num(it.h) + ",N,N,N,N" +
             field_data(code128_data(it)) + "^FS\n";
        break;
      case ElementType::Qr:
        // Model 2, magnification = module; "MA," = error correction M, automatic input mode.
        // ^BY resets the bar code height first: renderers (Zebrash, and Labelary's notes on
        // Zebra firmware) shift a QR code down by the ^BY height, which a Code 128 before it
        // would have left large; 10 dots is the power-on default.
        z += fo + "^BY2,3,10^BQN,2," + num(it.module) + field_data("MA," + it.text) + "^FS\n";
        break;
      case ElementType::DataMatrix:
        z += fo + "^BXN," + num(it.module) + ",200" + field_data(it.text) + "^FS\n";
        break;
    }
  }
  z += "^PQ1\n^XZ";  // no line end after ^XZ: a job is exactly ^XA..^XZ
  return z;
}

}  // namespace sortd::labels
