// libFuzzer target: the printer status parsers (devices/printer/status.cpp): the ZPL ~HS host
// status reply, the TSPL <ESC>!? status byte, the reply framing the drivers read with, and the
// IEEE-1284 device id of USB printers. Properties checked besides "no crash, no sanitizer report":
//  - parse_zpl_host_status returns a status or throws StatusError with a reason, nothing else;
//  - a parsed status is formatted back by format_zpl_host_status and parses to the same status;
//  - status_reply_length never claims more bytes than it was given, and a reply it frames is the
//    same whatever follows it;
//  - every TSPL status byte round-trips through format_tspl_status;
//  - the device id parser and the language it finds do not depend on what follows a ';'.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "printer/printer.h"

using namespace sortd::dev::printer;

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "property failed: %s\n", what);
    std::abort();
  }
}

// Parses a ~HS reply: a status, or a StatusError with a reason. Anything else escapes and
// libFuzzer reports it as a crash.
bool parse_zpl(std::string_view reply, PrinterStatus& out) {
  try {
    out = parse_zpl_host_status(reply);
    return true;
  } catch (const StatusError& e) {
    check(std::string_view(e.what()).size() > 0, "StatusError without a reason");
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  // ZPL ~HS.
  PrinterStatus st;
  if (parse_zpl(in, st)) {
    check(st.formats_in_buffer >= 0, "negative formats in buffer");
    check(!st.paper_jam && !st.printing, "~HS has no paper jam or printing flag");
    check(!st.detail().empty(), "empty detail");
    // What a Zebra would answer for that status reads back the same, framed whole.
    PrinterStatus back;
    std::string again = format_zpl_host_status(st);
    check(parse_zpl(again, back), "formatted ~HS reply does not parse");
    check(back == st, "~HS round trip changed the status");
    check(status_reply_length(Language::Zpl, again) == again.size(),
          "formatted ~HS reply not framed whole");
  }

  // Framing: never past the end; a complete reply does not change when more bytes follow.
  for (Language l : {Language::Zpl, Language::Tspl}) {
    std::size_t n = status_reply_length(l, in);
    check(n <= in.size(), "status_reply_length past the end");
    if (n > 0) {
      std::string more(in);
      more += "\x02garbage\x03\r\n";
      check(status_reply_length(l, more) == n, "framing depends on what follows");
      if (l == Language::Zpl) {
        PrinterStatus framed;
        parse_zpl(in.substr(0, n), framed);
      }
    }
  }

  // TSPL: one byte, every value meaningful.
  if (size > 0) {
    PrinterStatus t = parse_tspl_status(data[0]);
    check(format_tspl_status(t) == (data[0] & 0xbf), "TSPL status byte round trip");
    check(t.ok() == ((data[0] & 0x9f) == 0), "TSPL ok() does not match the fault bits");
  }

  // IEEE-1284 device id ("MFG:Zebra;CMD:ZPL;MDL:ZD421;").
  auto id = parse_device_id(in);
  for (const auto& [k, v] : id) {
    check(k.find(';') == std::string::npos, "';' in a device id key");
    check(v.find(';') == std::string::npos, "';' in a device id value");
  }
  auto lang = language_from_device_id(id);
  if (lang) check(id.count("CMD") == 1, "a language without a CMD key");
  std::string id_more(in);
  id_more += ";X-FUZZ:1;";
  if (in.empty() || in.back() == ';')
    check(language_from_device_id(parse_device_id(id_more)) == lang,
          "language depends on a later key");
  return 0;
}
