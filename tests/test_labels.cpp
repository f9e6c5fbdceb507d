// Label templates: parsing (garbage is rejected with what and where), filling (a mode's required
// fields, refusal with a reason instead of a blank label), and the TSPL / ZPL text produced,
// checked command by command against the TSC TSPL/TSPL2 Programming Manual and the ZPL II
// Programming Guide.
#define BOOST_TEST_MODULE labels
#include <boost/test/unit_test.hpp>

#include <regex>
#include <sstream>

#include "labels/cases.h"

using namespace sortd;
using namespace sortd::labels;
using namespace sortd::test;

namespace {

std::string error_of(const std::string& json) {
  try {
    parse_template(json, "t.json");
  } catch (const TemplateError& e) {
    return e.what();
  }
  return "";
}

const std::string kMinimal =
    R"({"name":"m","kind":"parcel","courier":"*","elements":[{"type":"text","x":1,"y":1,"size":5,"text":"{a}"}]})";

std::vector<std::string> lines_of(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  std::size_t start = 0, at;
  while ((at = s.find(sep, start)) != std::string::npos) {
    out.push_back(s.substr(start, at - start));
    start = at + sep.size();
  }
  if (start < s.size()) out.push_back(s.substr(start));
  return out;
}

Label filled(const std::string& case_id, const LabelSize& size) {
  static const auto set = TemplateSet::load_dir(TemplateSet::default_dir());
  static const auto station = label_station();
  for (auto& c : label_cases())
    if (c.id == case_id)
      return fill(*set.find(c.job.kind, c.job.courier), data_from_job(c.job, &station, c.extra),
                  size);
  throw std::logic_error("no case " + case_id);
}

}  // namespace

BOOST_AUTO_TEST_CASE(shipped_templates_load) {
  auto set = TemplateSet::load_dir(TemplateSet::default_dir());
  BOOST_TEST(set.find("parcel", "sf")->name == "parcel-sf");
  BOOST_TEST(set.find("parcel", "yto")->name == "parcel");  // falls back to "*"
  BOOST_TEST(set.find("lane", "zto")->name == "lane");
  BOOST_TEST(set.find("bag", "sf")->name == "bag");
  BOOST_TEST(set.find("manifest", "sf") == nullptr);
}

BOOST_AUTO_TEST_CASE(garbage_templates_are_rejected_with_what_and_where) {
  BOOST_TEST(error_of(kMinimal).empty());
  BOOST_TEST(error_of("{nope").find("t.json: not JSON") == 0);
  BOOST_TEST(error_of("[1]").find("must be a JSON object") != std::string::npos);
  std::string bad_key = kMinimal;
  bad_key.replace(bad_key.find("\"size\""), 6, "\"sise\"");
  BOOST_TEST(error_of(bad_key) == "t.json: elements[0].sise: unknown key for a text");
  std::string bad_type = kMinimal;
  bad_type.replace(bad_type.find("\"text\",\"x\""), 6, "\"txet\"");
  BOOST_TEST(error_of(bad_type).find("elements[0].type: unknown element type 'txet'") !=
             std::string::npos);
  std::string bad_x = kMinimal;
  bad_x.replace(bad_x.find("\"x\":1"), 5, "\"x\":\"1\"");
  BOOST_TEST(error_of(bad_x) == "t.json: elements[0].x: must be a number, got \"1\"");
  std::string off = kMinimal;
  off.replace(off.find("\"y\":1"), 5, "\"y\":400");
  BOOST_TEST(error_of(off).find("elements[0].y: must be within") != std::string::npos);
  std::string brace = kMinimal;
  brace.replace(brace.find("{a}"), 3, "{a");
  BOOST_TEST(error_of(brace) == "t.json: elements[0].text: '{' without '}' at offset 0");
  std::string kind = kMinimal;
  kind.replace(kind.find("parcel"), 6, "pallet");
  BOOST_TEST(error_of(kind) == "t.json: kind: must be parcel, lane or bag, got 'pallet'");
  std::string qr_h =
      R"({"name":"m","kind":"bag","courier":"*","elements":[{"type":"qr","x":1,"y":1,"w":20,"h":20,"data":"x"}]})";
  BOOST_TEST(error_of(qr_h) == "t.json: elements[0].h: a 2-D symbol is square: give w only");
}

BOOST_AUTO_TEST_CASE(cod_parcel_without_amount_is_refused_with_a_reason) {
  auto set = TemplateSet::load_dir(TemplateSet::default_dir());
  auto station = label_station();
  PrintJob job = label_cases()[0].job;  // COD + invoice
  LabelData data = data_from_job(job, &station);
  BOOST_TEST(data.modes.count("cod") == 1u);
  BOOST_TEST(data.fields.at("cod_amount") == "128.50");
  BOOST_CHECK_NO_THROW(fill(*set.find("parcel", "yto"), data, {100, 150, 203}));

  data.fields.erase("cod_amount");
  try {
    fill(*set.find("parcel", "yto"), data, {100, 150, 203});
    BOOST_FAIL("a COD label without an amount was filled");
  } catch (const FillError& e) {
    BOOST_TEST(e.problems().size() == 2u);  // the mode's requirement and the element using it
    BOOST_TEST(e.problems()[0] == "cod_amount: required in mode cod, missing");
    BOOST_TEST(std::string(e.what()).find("label refused: cod_amount") == 0);
  }
  data.fields["cod_amount"] = "   ";  // blank is missing too
  BOOST_CHECK_THROW(fill(*set.find("parcel", "yto"), data, {100, 150, 203}), FillError);
  // Prepaid: no amount needed, and the COD element is not drawn.
  data.modes.erase("cod");
  Label l = fill(*set.find("parcel", "yto"), data, {100, 150, 203});
  BOOST_TEST(l.find("cod") == nullptr);
  BOOST_TEST(l.find("prepaid") != nullptr);
}

BOOST_AUTO_TEST_CASE(every_missing_field_is_listed) {
  auto set = TemplateSet::load_dir(TemplateSet::default_dir());
  LabelData bag;  // nothing at all
  try {
    fill(*set.find("bag", "sf"), bag, {100, 150, 203});
    BOOST_FAIL("an empty bag label was filled");
  } catch (const FillError& e) {
    for (const char* f : {"courier_name", "lane", "bag_id", "count", "weight_kg", "closed_at"}) {
      bool found = false;
      for (auto& p : e.problems())
        found |= p == std::string(f) + ": required on every bag label, missing";
      BOOST_TEST(found, f);
    }
  }
  // An exception label needs its reason.
  auto station = label_station();
  PrintJob job = label_cases()[1].job;
  job.reason.clear();
  LabelData d = data_from_job(job, &station);
  BOOST_TEST(d.fields.at("reason") == describe(ExceptionKind::MultiRead));  // filled from kind
  d.fields.erase("reason");
  BOOST_CHECK_THROW(fill(*set.find("parcel", "sf"), d, {100, 150, 203}), FillError);
}

BOOST_AUTO_TEST_CASE(barcode_data_that_cannot_be_encoded_is_refused) {
  auto set = TemplateSet::load_dir(TemplateSet::default_dir());
  auto station = label_station();
  PrintJob job = label_cases()[0].job;
  job.order.codes = {"运单123"};  // not Code 128 data
  try {
    fill(*set.find("parcel", "yto"), data_from_job(job, &station), {100, 150, 203});
    BOOST_FAIL("non-ASCII Code 128 accepted");
  } catch (const FillError& e) {
    BOOST_TEST(std::string(e.what()).find("outside printable ASCII") != std::string::npos);
  }
  job.order.codes = {std::string(120, '7')};  // far too long for 90 mm
  BOOST_CHECK_THROW(fill(*set.find("parcel", "yto"), data_from_job(job, &station), {76, 130, 203}),
                    FillError);
}

BOOST_AUTO_TEST_CASE(masking_and_gs1) {
  BOOST_TEST(mask_phone("13812345678") == "138****5678");
  BOOST_TEST(mask_name("张三丰") == "张**");
  BOOST_TEST(mask_name("Li") == "L*");
  BOOST_TEST(is_gs1("(00)069412345678901238"));
  BOOST_TEST(is_gs1("(01)09501101530003(21)12345"));
  BOOST_TEST(!is_gs1("SF1402345678901"));
  BOOST_TEST(!is_gs1("(00)"));
  BOOST_TEST(!is_gs1("(0)123"));
  BOOST_TEST(gs1_digits("(01)0950(21)7") ==
             "01095021"
             "7");
}

// TSC TSPL/TSPL2 Programming Manual, per command used:
//   SIZE m mm,n mm | GAP m mm,n mm | DIRECTION n[,m] | REFERENCE x,y | CODEPAGE UTF-8 | CLS
//   BOX x,y,x_end,y_end,line thickness | BAR x,y,width,height
//   TEXT x,y,"font",rotation,x-multiplication,y-multiplication,"content"
//   BLOCK x,y,width,height,"font",rotation,x-multiplication,y-multiplication,space,align,"content"
//   REVERSE x_start,y_start,x_width,y_height
//   BARCODE x,y,"code type",height,human readable,rotation,narrow,wide,"code"
//   QRCODE x,y,ECC level,cell width,mode,rotation,"data"
//   DMATRIX x,y,width,height,[xm,]"expression" | PRINT m[,n]
BOOST_AUTO_TEST_CASE(tspl_commands_follow_the_reference) {
  const std::map<std::string, std::regex> grammar = {
      {"SIZE", std::regex(R"re(SIZE \d+(\.\d+)? mm,\d+(\.\d+)? mm)re")},
      {"GAP", std::regex(R"re(GAP \d+(\.\d+)? mm,\d+(\.\d+)? mm)re")},
      {"DIRECTION", std::regex(R"re(DIRECTION [01],[01])re")},
      {"REFERENCE", std::regex(R"re(REFERENCE \d+,\d+)re")},
      {"CODEPAGE", std::regex(R"re(CODEPAGE UTF-8)re")},
      {"CLS", std::regex(R"re(CLS)re")},
      {"BOX", std::regex(R"re(BOX \d+,\d+,\d+,\d+,\d+)re")},
      {"BAR", std::regex(R"re(BAR \d+,\d+,\d+,\d+)re")},
      {"TEXT",
       std::regex(R"re(TEXT \d+,\d+,"TSS24\.BF2",(0|90|180|270),([1-9]|10),([1-9]|10),"[^"]*")re")},
      {"BLOCK",
       std::regex(
           R"re(BLOCK \d+,\d+,\d+,\d+,"TSS24\.BF2",(0|90|180|270),([1-9]|10),([1-9]|10),\d+,[0-3],"[^"]*")re")},
      {"REVERSE", std::regex(R"re(REVERSE \d+,\d+,\d+,\d+)re")},
      {"BARCODE",
       std::regex(
           R"re(BARCODE \d+,\d+,"(128|EAN128)",\d+,[0-3],(0|90|180|270),[1-9]\d*,[1-9]\d*,"[\x20-\x21\x23-\x7e]+")re")},
      {"QRCODE", std::regex(R"re(QRCODE \d+,\d+,[LMQH],([1-9]|10),[AM],(0|90|180|270),"[^"]*")re")},
      {"DMATRIX", std::regex(R"re(DMATRIX \d+,\d+,\d+,\d+,x\d+,"[^"]*")re")},
      {"PRINT", std::regex(R"re(PRINT \d+(,\d+)?)re")},
  };
  for (auto& c : label_cases())
    for (auto& size : label_sizes()) {
      Label l = filled(c.id, size);
      std::string t = to_tspl(l);
      BOOST_TEST_CONTEXT(c.id << " " << size_id(size)) {
        BOOST_TEST(t.size() >= 2u);
        BOOST_TEST(t.substr(t.size() - 2) == "\r\n");  // every command ends in CR LF
        auto lines = lines_of(t, "\r\n");
        // Fixed head and tail, in this order.
        BOOST_REQUIRE(lines.size() > 7u);
        std::ostringstream sz;
        sz << "SIZE " << size.width_mm << " mm," << size.height_mm << " mm";
        BOOST_TEST(lines[0] == sz.str());
        BOOST_TEST(lines[1].rfind("GAP ", 0) == 0u);
        BOOST_TEST(lines[2].rfind("DIRECTION ", 0) == 0u);
        BOOST_TEST(lines[3] == "REFERENCE 0,0");
        BOOST_TEST(lines[4] == "CODEPAGE UTF-8");
        BOOST_TEST(lines[5] == "CLS");
        BOOST_TEST(lines.back() == "PRINT 1,1");
        std::map<std::string, int> used;
        for (auto& line : lines) {
          std::string cmd = line.substr(0, line.find(' '));
          auto g = grammar.find(cmd);
          BOOST_TEST_CONTEXT(line) {
            BOOST_REQUIRE(g != grammar.end());
            BOOST_TEST(std::regex_match(line, g->second));
          }
          ++used[cmd];
        }
        // One command per element drawn (+ REVERSE for white-on-black text).
        int items = 0, reversed = 0;
        for (auto& it : l.items) {
          ++items;
          reversed += it.type == ElementType::Text && it.reverse;
        }
        BOOST_TEST(static_cast<int>(lines.size()) == 7 + items + reversed);
        BOOST_TEST(used["REVERSE"] == reversed);
        // Every barcode's data is in the commands exactly as the job gave it.
        for (auto& [name, want] : c.expect) {
          const Item* it = l.find(name);
          BOOST_REQUIRE(it);
          std::string q = "\"" + (it->gs1 ? gs1_digits(it->text) : it->text) + "\"";
          BOOST_TEST(t.find(q) != std::string::npos, q);
        }
      }
    }
  // The TSPL font multiplier follows the character height (24-dot font).
  Label bag = filled("bag-yto", {100, 150, 300});
  std::string t = to_tspl(bag);
  const Item* lane = bag.find("lane");  // 22 mm at 300 dpi = 260 dots -> x11 capped at 10
  BOOST_TEST(lane->font == 260);
  BOOST_TEST(t.find("TEXT " + std::to_string(lane->x) + "," + std::to_string(lane->y) +
                    ",\"TSS24.BF2\",0,10,10,\"格口 3\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(tspl_escapes_quotes) {
  Template t = parse_template(
      R"({"name":"q","kind":"bag","courier":"*","elements":[{"type":"text","x":1,"y":1,"size":5,"text":"{a}"}]})",
      "q.json");
  LabelData d;
  d.fields["a"] = "say \"hi\"";
  std::string s = to_tspl(fill(t, d, {100, 150, 203}));
  BOOST_TEST(s.find(R"("say \["]hi\["]")") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(zpl_commands) {
  Label l = filled("parcel-yto-cod", {100, 150, 203});
  std::string z = to_zpl(l);
  BOOST_TEST(z.rfind("^XA\n^CI28\n^PW799\n^LL1199\n", 0) == 0u);
  BOOST_TEST(z.substr(z.size() - 8) == "^PQ1\n^XZ");
  const Item* bc = l.find("tracking_barcode");
  BOOST_TEST(z.find("^FO" + std::to_string(bc->x) + "," + std::to_string(bc->y) + "^BY" +
                    std::to_string(bc->module) + ",3," + std::to_string(bc->h) + "^BCN," +
                    std::to_string(bc->h) + ",N,N,N,N^FDYT7788990011223^FS") != std::string::npos);
  BOOST_TEST(z.find("^FDMA,YT7788990011223|SO20261122-0001|浙江省|杭州市|西湖区|3^FS") !=
             std::string::npos);
  BOOST_TEST(z.find("^FR^FD代收货款 COD 128.50^FS") != std::string::npos);  // never cut
  BOOST_TEST(l.find("cod")->font < 48);  // shrunk to fit instead (6 mm = 48 dots by design)
  // GS1: code set C and FNC1 first.
  Label g = filled("parcel-gs1", {100, 150, 203});
  BOOST_TEST(to_zpl(g).find("^FD>;>800069412345678901238^FS") != std::string::npos);
  // Field data that holds ZPL command characters is hex-escaped with ^FH.
  Template t = parse_template(
      R"({"name":"q","kind":"bag","courier":"*","elements":[{"type":"text","x":1,"y":1,"size":5,"text":"{a}"}]})",
      "q.json");
  LabelData d;
  d.fields["a"] = "a^b~c_d";
  BOOST_TEST(to_zpl(fill(t, d, {100, 150, 203})).find("^FH_^FDa_5Eb_7Ec_5Fd^FS") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(sizes_scale_the_design) {
  Label big = filled("lane-sf", {100, 150, 300});
  Label small = filled("lane-sf", {76, 130, 203});
  BOOST_TEST(big.size.width_dots() == 1181);
  BOOST_TEST(small.size.width_dots() == 607);  // 76 mm x 203 / 25.4 = 607.4
  for (auto* l : {&big, &small})
    for (auto& it : l->items) {
      BOOST_TEST(it.x + it.w <= l->size.width_dots());
      BOOST_TEST(it.y + it.h <= l->size.height_dots());
    }
}
