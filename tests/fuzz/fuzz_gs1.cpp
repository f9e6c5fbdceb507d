// libFuzzer target: the GS1 element string parsers (devices/scanner/gs1.cpp): the raw form a
// scanner transmits (AIs and values, FNC1 as GS after variable-length fields) and the
// human-readable "(AI)value" form. Properties checked besides "no crash, no sanitizer report":
//  - a parse either succeeds with at least one element or fails with a reason;
//  - every element has a 2-4 digit AI and a value of GS1 characters (no GS, no parenthesis
//    ambiguity aside);
//  - the elements written back (raw, with a GS after each; human-readable) parse to the same
//    elements;
//  - gs1_pick finds the first element of the first AI listed;
//  - the check digit of a number and the same number with its check digit recomputed agree.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "scanner/gs1.h"

using namespace sortd::dev::scanner;

namespace {

void check(bool ok, const char* what, std::string_view detail = {}) {
  if (!ok) {
    std::fprintf(stderr, "property failed: %s: %s\n", what, std::string(detail).c_str());
    std::abort();
  }
}

bool digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

void check_elements(const Gs1Result& r, std::string_view in) {
  if (!r.ok) {
    check(!r.error.empty(), "failure without a reason", in);
    return;
  }
  check(!r.elements.empty(), "success without elements", in);
  for (const auto& e : r.elements) {
    check(e.ai.size() >= 2 && e.ai.size() <= 4 && digits(e.ai), "bad AI", e.ai);
    check(!e.value.empty(), "empty value", e.ai);
    check(e.value.find(kFnc1) == std::string::npos, "GS inside a value", e.value);
  }
  // Raw form, FNC1 after every element (tolerated after fixed-length ones).
  std::string raw;
  for (const auto& e : r.elements) raw += e.ai + e.value + kFnc1;
  Gs1Result back = parse_gs1(raw);
  check(back.ok, "written raw element string does not parse", back.error);
  check(back.elements == r.elements, "raw round trip changed the elements", raw);
  // Human-readable form, unless a value holds "(" (then the split is ambiguous by design).
  bool paren = false;
  for (const auto& e : r.elements) paren = paren || e.value.find('(') != std::string::npos;
  if (!paren) {
    std::string hri = gs1_hri(r.elements);
    Gs1Result h = parse_gs1_hri(hri);
    check(h.ok, "written HRI does not parse", h.error);
    check(h.elements == r.elements, "HRI round trip changed the elements", hri);
  }
  // gs1_pick: the first listed AI present wins; an AI absent gives nothing.
  auto first = gs1_pick(r.elements, {r.elements.back().ai, r.elements.front().ai});
  check(first.has_value(), "gs1_pick found nothing");
  for (const auto& e : r.elements)
    if (e.ai == r.elements.back().ai) {
      check(*first == e.value, "gs1_pick did not take the first element of the AI");
      break;
    }
  check(!gs1_pick(r.elements, {"x"}).has_value(), "gs1_pick found a non-AI");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  check_elements(parse_gs1(in), in);
  check_elements(parse_gs1_hri(in), in);
  // Check digits: exactly one digit 0-9 completes a number.
  if (digits(in) && in.size() >= 1 && in.size() < 40) {
    int good = 0;
    for (char d = '0'; d <= '9'; ++d) good += gs1_check_digit_ok(std::string(in) + d);
    check(good == 1, "not exactly one check digit", in);
  }
  return 0;
}
