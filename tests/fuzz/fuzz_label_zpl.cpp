// libFuzzer target: the ZPL reader of the printer simulator (label_from_zpl,
// label-templates/src/zpl_read.cpp), which turns whatever ZPL a client sends to the simulated
// printer into a label for its PNG preview. Properties checked besides "no crash, no sanitizer
// report (signed overflow included)": a label read back has a positive size, its items have
// their type's data, and writing it again with to_zpl gives ZPL that it reads again.
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
    std::fprintf(stderr, "property failed: %s\n%s\n", what, detail.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const int dpi = (data[0] & 1) ? 300 : 203;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  auto l = label_from_zpl(in, dpi);
  if (!l) return 0;
  check(l->size.width_mm > 0 && l->size.height_mm > 0, "label without a size");
  check(l->size.dpi == dpi, "dpi");
  std::string again = to_zpl(*l);
  check(label_from_zpl(again, dpi).has_value(), "to_zpl of a label read back does not read", again);
  return 0;
}
