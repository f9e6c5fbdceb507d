// Every template kind, size and dpi, filled with Chinese text, rendered two ways: (1) our ZPL
// through the independent renderer zpl-renderer-js (Zebrash, headless in node) to PNG, and (2)
// our own PNG preview (libzint + cairo). The barcodes in both PNGs are decoded with zxing-cpp
// and must equal the job's own data (tracking number, QR payload with Chinese text, Data Matrix,
// lane and bag ids, GS1-128 for a GS1 code).
#define BOOST_TEST_MODULE labels_render
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "labels/cases.h"
#include "labels/decode.h"

namespace fs = std::filesystem;
using namespace sortd;
using namespace sortd::labels;
using namespace sortd::test;

namespace {

struct Rendered {
  std::string name;  // case + size
  LabelCase c;
  Label label;
  std::string zpl_png, preview_png;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ZXing::BarcodeFormat format_of(ElementType t) {
  switch (t) {
    case ElementType::Qr:
      return ZXing::BarcodeFormat::QRCode;
    case ElementType::DataMatrix:
      return ZXing::BarcodeFormat::DataMatrix;
    default:
      return ZXing::BarcodeFormat::Code128;
  }
}

// Renders everything once: ZPL files -> one node run -> PNGs; previews with our renderer.
const std::vector<Rendered>& rendered() {
  static std::vector<Rendered> all = [] {
    const fs::path out = fs::path(SORTD_BINARY_DIR) / "label-previews";
    fs::create_directories(out);
    const auto set = TemplateSet::load_dir(TemplateSet::default_dir());
    const auto station = label_station();
    std::vector<Rendered> v;
    nlohmann::json manifest = nlohmann::json::array();
    for (const auto& c : label_cases())
      for (const auto& size : label_sizes()) {
        Rendered r;
        r.name = c.id + "-" + size_id(size);
        r.c = c;
        const Template* t = set.find(c.job.kind, c.job.courier);
        BOOST_REQUIRE_MESSAGE(t, "no template for " << c.job.kind << "/" << c.job.courier);
        r.label = fill(*t, data_from_job(c.job, &station, c.extra), size);
        std::ofstream(out / (r.name + ".zpl"), std::ios::binary) << to_zpl(r.label);
        r.preview_png = to_png(r.label);
        std::ofstream(out / (r.name + ".preview.png"), std::ios::binary) << r.preview_png;
        manifest.push_back({{"zpl", (out / (r.name + ".zpl")).string()},
                            {"width_mm", size.width_mm},
                            {"height_mm", size.height_mm},
                            {"dpmm", size.dpi == 300 ? 12 : 8},
                            {"out", (out / (r.name + ".zpl.png")).string()}});
        v.push_back(std::move(r));
      }
    std::ofstream(out / "manifest.json") << manifest.dump(1);
    const fs::path script = fs::path(SORTD_SOURCE_DIR) / "tests/labels/render-zpl.mjs";
    BOOST_REQUIRE_MESSAGE(fs::exists(fs::path(SORTD_SOURCE_DIR) /
                                     "tests/labels/node_modules/zpl-renderer-js/package.json"),
                          "zpl-renderer-js is not installed: run scripts/setup.sh (npm ci in "
                          "tests/labels)");
    const std::string cmd = "node " + script.string() + " " + (out / "manifest.json").string() +
                            " > " + (out / "render.log").string() + " 2>&1";
    int rc = std::system(cmd.c_str());
    BOOST_REQUIRE_MESSAGE(rc == 0, "zpl-renderer-js failed: " << slurp(out / "render.log"));
    for (auto& r : v) r.zpl_png = slurp(out / (r.name + ".zpl.png"));
    return v;
  }();
  return all;
}

void check_barcodes(const Rendered& r, const std::string& png, const std::string& how) {
  BOOST_TEST_CONTEXT(r.name << " via " << how) {
    BOOST_REQUIRE(!png.empty());
    Gray g = load_png(png);
    BOOST_TEST(g.w >= r.label.size.width_dots());
    int checked = 0;
    for (const Item& it : r.label.items) {
      if (it.type == ElementType::Text || it.type == ElementType::Box) continue;
      BOOST_TEST_CONTEXT("element " << it.name) {
        auto want = r.c.expect.find(it.name);
        BOOST_REQUIRE_MESSAGE(want != r.c.expect.end(), "no expected value for " << it.name);
        // 2-D symbols: a margin of a few modules; Code 128: the quiet zone.
        const int margin = it.type == ElementType::Code128 ? 10 * it.module : 6 * it.module;
        Decoded d = decode_region(g, it.x, it.y, it.w, it.h, margin, format_of(it.type));
        BOOST_TEST(d.ok);
        BOOST_TEST(d.text == want->second);
        if (it.type == ElementType::Code128) BOOST_TEST(d.symbology == (r.c.gs1 ? "]C1" : "]C0"));
        ++checked;
      }
    }
    BOOST_TEST(checked == static_cast<int>(r.c.expect.size()));
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_kind_size_and_dpi_is_rendered) {
  // 5 label cases (3 parcel modes incl. a courier's own template, lane sign, bag) x 4 sizes.
  BOOST_TEST(rendered().size() == 20u);
  for (const auto& r : rendered()) {
    BOOST_TEST(to_zpl(r.label).find("^CI28") != std::string::npos);
    BOOST_TEST(to_tspl(r.label).find("CODEPAGE UTF-8\r\n") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(independent_zpl_renderer_output_decodes_to_the_job_data) {
  for (const auto& r : rendered()) check_barcodes(r, r.zpl_png, "zpl-renderer-js");
}

BOOST_AUTO_TEST_CASE(our_preview_decodes_to_the_job_data) {
  for (const auto& r : rendered()) check_barcodes(r, r.preview_png, "preview");
}

BOOST_AUTO_TEST_CASE(preview_draws_chinese_text) {
  // The courier name "顺丰速运" is drawn with a CJK font: its box has ink, and a string of the
  // same length of characters the font lacks would draw differently (tofu boxes are the same
  // for every character, real glyphs differ).
  const auto set = TemplateSet::load_dir(TemplateSet::default_dir());
  const auto station = label_station();
  auto ink = [&](const std::string& name) {
    PrintJob job;
    job.kind = "lane";
    job.courier = "sf";
    job.lane = 7;
    auto data = data_from_job(job, &station);
    data.fields["courier_name"] = name;
    Label l = fill(*set.find("lane", "sf"), data, {100, 150, 203});
    Gray g = load_png(to_png(l));
    const Item* it = l.find("courier");
    std::vector<int> columns;
    for (int x = it->x; x < it->x + it->w; ++x) {
      int n = 0;
      for (int y = it->y; y < it->y + it->font; ++y) n += g.px[y * g.w + x] < 128;
      columns.push_back(n);
    }
    return columns;
  };
  auto a = ink("顺丰速运"), b = ink("圆通速递");
  int total_a = 0;
  for (int n : a) total_a += n;
  BOOST_TEST(total_a > 500);
  BOOST_TEST(a != b);  // different characters, different glyphs
}
