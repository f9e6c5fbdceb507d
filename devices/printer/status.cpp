// Printer status replies: ZPL ~HS host status and TSPL <ESC>!? status byte.
#include <cctype>
#include <cstdio>

#include "printer.h"

namespace sortd::dev::printer {

const char* to_string(Language l) {
  return l == Language::Zpl ? "zpl" : "tspl";
}

std::optional<Language> language_from(std::string_view s) {
  if (s == "zpl") return Language::Zpl;
  if (s == "tspl") return Language::Tspl;
  return std::nullopt;
}

std::string PrinterStatus::detail() const {
  std::string d;
  auto add = [&d](bool on, const char* what) {
    if (on) d += (d.empty() ? "" : ", ") + std::string(what);
  };
  add(paper_out, "paper out");
  add(head_open, "head open");
  add(paused, "paused");
  add(ribbon_out, "ribbon out");
  add(buffer_full, "buffer full");
  add(paper_jam, "paper jam");
  add(other_error, "printer error");
  return d.empty() ? "ready" : d;
}

std::string status_request(Language l) {
  return l == Language::Zpl ? "~HS" : "\x1b!?";
}

std::size_t status_reply_length(Language l, std::string_view buf) {
  if (l == Language::Tspl) return buf.empty() ? 0 : 1;
  // Three <STX>...<ETX> strings, each followed by CR LF.
  std::size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    auto etx = buf.find('\x03', pos);
    if (etx == std::string_view::npos) return 0;
    pos = etx + 1;
    if (pos + 2 > buf.size()) return 0;
    if (buf.substr(pos, 2) == "\r\n") pos += 2;
  }
  return pos;
}

namespace {

std::vector<std::string> fields_of(std::string_view s) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == ',')
      out.emplace_back();
    else
      out.back() += c;
  }
  return out;
}

bool flag(const std::vector<std::string>& f, std::size_t i, int string_no, const char* name) {
  const std::string& v = f[i];
  if (v != "0" && v != "1")
    throw StatusError("~HS string " + std::to_string(string_no) + " field " +
                      std::to_string(i + 1) + " (" + name + "): expected 0 or 1, got '" + v + "'");
  return v == "1";
}

int number(const std::vector<std::string>& f, std::size_t i, int string_no, const char* name) {
  const std::string& v = f[i];
  if (v.empty() || v.size() > 9)
    throw StatusError("~HS string " + std::to_string(string_no) + " field " +
                      std::to_string(i + 1) + " (" + name + "): expected a number, got '" + v +
                      "'");
  for (char c : v)
    if (!std::isdigit(static_cast<unsigned char>(c)))
      throw StatusError("~HS string " + std::to_string(string_no) + " field " +
                        std::to_string(i + 1) + " (" + name + "): expected a number, got '" + v +
                        "'");
  return std::stoi(v);
}

}  // namespace

PrinterStatus parse_zpl_host_status(std::string_view reply) {
  std::vector<std::vector<std::string>> strings;
  std::size_t pos = 0;
  while (strings.size() < 3) {
    // Skip line ends between strings.
    while (pos < reply.size() && (reply[pos] == '\r' || reply[pos] == '\n')) ++pos;
    if (pos >= reply.size())
      throw StatusError("~HS reply: " + std::to_string(strings.size()) +
                        " of 3 strings, then the reply ends");
    if (reply[pos] != '\x02')
      throw StatusError("~HS reply: byte " + std::to_string(pos) +
                        ": expected STX (0x02) to open "
                        "string " +
                        std::to_string(strings.size() + 1) + ", got 0x" + [&] {
                          char b[8];
                          std::snprintf(b, sizeof b, "%02x",
                                        static_cast<unsigned char>(reply[pos]));
                          return std::string(b);
                        }());
    auto etx = reply.find('\x03', pos + 1);
    if (etx == std::string_view::npos)
      throw StatusError("~HS reply: string " + std::to_string(strings.size() + 1) +
                        " has no ETX (0x03)");
    strings.push_back(fields_of(reply.substr(pos + 1, etx - pos - 1)));
    pos = etx + 1;
  }
  const std::size_t want[3] = {12, 11, 2};
  for (int i = 0; i < 3; ++i)
    if (strings[i].size() != want[i])
      throw StatusError("~HS string " + std::to_string(i + 1) + ": expected " +
                        std::to_string(want[i]) + " fields, got " +
                        std::to_string(strings[i].size()));
  const auto& s1 = strings[0];
  const auto& s2 = strings[1];
  PrinterStatus st;
  number(s1, 0, 1, "communication settings");
  st.paper_out = flag(s1, 1, 1, "paper out");
  st.paused = flag(s1, 2, 1, "pause");
  number(s1, 3, 1, "label length");
  st.formats_in_buffer = number(s1, 4, 1, "formats in buffer");
  st.buffer_full = flag(s1, 5, 1, "buffer full");
  bool corrupt_ram = flag(s1, 9, 1, "corrupt RAM");
  bool under = flag(s1, 10, 1, "under temperature");
  bool over = flag(s1, 11, 1, "over temperature");
  st.other_error = corrupt_ram || under || over;
  number(s2, 0, 2, "function settings");
  st.head_open = flag(s2, 2, 2, "head up");
  st.ribbon_out = flag(s2, 3, 2, "ribbon out");
  return st;
}

std::string format_zpl_host_status(const PrinterStatus& s) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "\x02"
                "030,%d,%d,1199,%03d,%d,0,0,000,0,0,%d\x03\r\n"
                "\x02"
                "001,0,%d,%d,1,2,6,0,00000000,1,000\x03\r\n"
                "\x02"
                "1234,0\x03\r\n",
                s.paper_out, s.paused, s.formats_in_buffer, s.buffer_full, s.other_error,
                s.head_open, s.ribbon_out);
  return buf;
}

PrinterStatus parse_tspl_status(std::uint8_t b) {
  PrinterStatus s;
  s.head_open = b & 0x01;
  s.paper_jam = b & 0x02;
  s.paper_out = b & 0x04;
  s.ribbon_out = b & 0x08;
  s.paused = b & 0x10;
  s.printing = b & 0x20;
  s.other_error = b & 0x80;
  return s;
}

std::uint8_t format_tspl_status(const PrinterStatus& s) {
  return static_cast<std::uint8_t>((s.head_open ? 0x01 : 0) | (s.paper_jam ? 0x02 : 0) |
                                   (s.paper_out ? 0x04 : 0) | (s.ribbon_out ? 0x08 : 0) |
                                   (s.paused ? 0x10 : 0) | (s.printing ? 0x20 : 0) |
                                   (s.other_error ? 0x80 : 0));
}

std::map<std::string, std::string> parse_device_id(std::string_view id) {
  std::map<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos < id.size()) {
    auto semi = id.find(';', pos);
    if (semi == std::string_view::npos) semi = id.size();
    std::string_view pair = id.substr(pos, semi - pos);
    pos = semi + 1;
    auto colon = pair.find(':');
    if (colon == std::string_view::npos) continue;
    std::string key;
    for (char c : pair.substr(0, colon))
      if (c != ' ' || !key.empty())
        key += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    while (!key.empty() && key.back() == ' ') key.pop_back();
    if (key == "MANUFACTURER") key = "MFG";
    if (key == "COMMAND SET") key = "CMD";
    if (key == "MODEL") key = "MDL";
    out[key] = std::string(pair.substr(colon + 1));
  }
  return out;
}

std::optional<Language> language_from_device_id(const std::map<std::string, std::string>& id) {
  auto it = id.find("CMD");
  if (it == id.end()) return std::nullopt;
  std::string cmd;
  for (char c : it->second) cmd += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::size_t pos = 0;
  while (pos <= cmd.size()) {
    auto comma = cmd.find(',', pos);
    if (comma == std::string::npos) comma = cmd.size();
    std::string lang = cmd.substr(pos, comma - pos);
    if (lang == "ZPL" || lang == "ZPL II" || lang == "ZPLII") return Language::Zpl;
    if (lang == "TSPL" || lang == "TSPL2") return Language::Tspl;
    pos = comma + 1;
  }
  return std::nullopt;
}

}  // namespace sortd::dev::printer
