// GS1 cross-check against independent peers: zint (libzint) encodes GS1 element strings into
// GS1-128, GS1 DataMatrix and GS1 QR symbols and gives their human-readable text; zxing-cpp
// decodes the images and gives what a scanner transmits (AIM symbology identifier + data with
// GS as FNC1). Our decoder, fed what zxing read, must find the same elements as zint's text and
// pick the tracking number by our rule.
#define BOOST_TEST_MODULE scanner_gs1_peer
#include <boost/test/unit_test.hpp>

#define ZX_USE_UTF8 1
#include <ZXing/ReadBarcode.h>
#include <zint.h>

#include <memory>
#include <string>

#include "scanner/decode.h"
#include "scanner/gs1.h"

using namespace sortd::dev::scanner;

namespace {

struct Scanned {
  std::string transmitted;  // AIM identifier + data, as a scanner sends it
  std::string zint_hri;     // zint's human-readable text (1D symbols only)
};

Scanned encode_and_scan(int symbology, const std::string& bracketed, ZXing::BarcodeFormat fmt) {
  std::unique_ptr<zint_symbol, void (*)(zint_symbol*)> sym(ZBarcode_Create(), ZBarcode_Delete);
  sym->symbology = symbology;
  sym->input_mode = GS1_MODE;
  sym->scale = 2;
  sym->whitespace_width = 10;
  sym->whitespace_height = 10;
  int rc = ZBarcode_Encode(sym.get(), reinterpret_cast<const unsigned char*>(bracketed.data()),
                           static_cast<int>(bracketed.size()));
  BOOST_REQUIRE_MESSAGE(rc < ZINT_ERROR, "zint: " << sym->errtxt);
  BOOST_REQUIRE_EQUAL(ZBarcode_Buffer(sym.get(), 0), 0);
  ZXing::ImageView img(sym->bitmap, sym->bitmap_width, sym->bitmap_height, ZXing::ImageFormat::RGB);
  auto res = ZXing::ReadBarcode(img, ZXing::DecodeHints().setFormats(fmt));
  BOOST_REQUIRE_MESSAGE(res.isValid(), "zxing could not read the symbol of " << bracketed);
  return {res.symbologyIdentifier() + res.text(), reinterpret_cast<const char*>(sym->text)};
}

// "[00]123[421]456" -> "(00)123(421)456"
std::string hri_of(std::string bracketed) {
  for (auto& c : bracketed) c = c == '[' ? '(' : c == ']' ? ')' : c;
  return bracketed;
}

const char* kCases[] = {
    "[00]123456789012345675[421]156200000",           "[421]156200000[00]340123450000000000",
    "[401]CN-SH-0042-X[403]ROUTE7[420]200000",        "[402]12345678901234560[410]6901234567892",
    "[01]09501101020917[17]250101[10]LOT-9[21]SN123", "[3103]001250[00]123456789012345675",
};

}  // namespace

BOOST_AUTO_TEST_CASE(gs1_128_against_zint_and_zxing) {
  for (const char* c : kCases) {
    Scanned s = encode_and_scan(BARCODE_GS1_128, c, ZXing::BarcodeFormat::Code128);
    BOOST_TEST_MESSAGE(c << " -> " << s.zint_hri);
    BOOST_TEST(s.transmitted.rfind("]C1", 0) == 0u);
    std::string sym;
    std::string_view data;
    BOOST_REQUIRE(split_aim(s.transmitted, sym, data));
    Gs1Result g = parse_gs1(data);
    BOOST_REQUIRE_MESSAGE(g.ok, c << ": " << g.error);
    BOOST_TEST(gs1_hri(g.elements) == s.zint_hri, c);
    BOOST_TEST(gs1_hri(g.elements) == hri_of(c));
    // The human-readable text zint prints under the bars parses to the same elements.
    Gs1Result h = parse_gs1_hri(s.zint_hri);
    BOOST_REQUIRE_MESSAGE(h.ok, h.error);
    BOOST_TEST(h.elements == g.elements);
  }
}

BOOST_AUTO_TEST_CASE(tracking_number_picked_from_what_the_scanner_sends) {
  DecodeConfig cfg;
  auto pick = [&](const char* bracketed) {
    Scanned s = encode_and_scan(BARCODE_GS1_128, bracketed, ZXing::BarcodeFormat::Code128);
    DecodeResult r = decode_read(s.transmitted, cfg);
    BOOST_REQUIRE_MESSAGE(r.ok, r.error);
    BOOST_REQUIRE_EQUAL(r.read.codes.size(), 1u);
    BOOST_TEST(r.read.codes[0].symbology == "C1");
    return r.read.codes[0].text;
  };
  BOOST_TEST(pick(kCases[0]) == "123456789012345675");
  BOOST_TEST(pick(kCases[1]) == "340123450000000000");
  BOOST_TEST(pick(kCases[2]) == "CN-SH-0042-X");
  BOOST_TEST(pick(kCases[3]) == "12345678901234560");
  BOOST_TEST(pick(kCases[4]) == "(01)09501101020917(17)250101(10)LOT-9(21)SN123");
}

BOOST_AUTO_TEST_CASE(gs1_datamatrix_and_qr) {
  DecodeConfig cfg;
  struct M {
    int zint;
    ZXing::BarcodeFormat fmt;
    const char* aim;
  } matrix[] = {{BARCODE_DATAMATRIX, ZXing::BarcodeFormat::DataMatrix, "d2"},
                {BARCODE_QRCODE, ZXing::BarcodeFormat::QRCode, "Q3"}};
  for (const auto& m : matrix) {
    for (const char* c : {kCases[0], kCases[2], kCases[4]}) {
      Scanned s = encode_and_scan(m.zint, c, m.fmt);
      std::string sym;
      std::string_view data;
      BOOST_REQUIRE(split_aim(s.transmitted, sym, data));
      BOOST_TEST(sym == m.aim);
      Gs1Result g = parse_gs1(data);
      BOOST_REQUIRE_MESSAGE(g.ok, c << ": " << g.error);
      BOOST_TEST(gs1_hri(g.elements) == hri_of(c));
      DecodeResult r = decode_read(s.transmitted, cfg);
      BOOST_REQUIRE(r.ok);
      BOOST_TEST(r.read.codes[0].symbology == m.aim);
    }
  }
}
