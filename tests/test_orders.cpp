// Orders: CSV / JSON import (happy paths, every kind of bad row with its line and field, quoting
// edge cases, Python's csv and json modules as an independent peer), the writers, the demo
// orders, and the OrderBook (find by id and every code, re-import, status).
#define BOOST_TEST_MODULE orders
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "orders.h"
#include "temp_dir.h"

using namespace sortd;
namespace fs = std::filesystem;

using sortd::test::TempDir;

namespace {

std::string data_path(const std::string& name) {
  return std::string(SORTD_SOURCE_DIR) + "/tests/data/orders/" + name;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot open " << path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs tests/data/orders/peer.py (Python's csv / json modules) on a file.
nlohmann::json peer(const std::string& mode, const std::string& path) {
  std::string cmd = "/usr/bin/python3 '" + data_path("peer.py") + "' " + mode + " '" + path + "'";
  FILE* p = popen(cmd.c_str(), "r");
  BOOST_REQUIRE(p != nullptr);
  std::string out;
  char buf[65536];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  BOOST_REQUIRE_MESSAGE(rc == 0, "peer.py failed: " << cmd);
  return nlohmann::json::parse(out);
}

bool same(const Order& a, const Order& b) {
  return a.id == b.id && a.codes == b.codes && a.province == b.province && a.city == b.city &&
         a.district == b.district && a.postcode == b.postcode && a.address == b.address &&
         a.recipient == b.recipient && a.phone == b.phone && a.weight_g == b.weight_g &&
         a.length_mm == b.length_mm && a.width_mm == b.width_mm && a.height_mm == b.height_mm &&
         a.cod_fen == b.cod_fen && a.invoice == b.invoice && a.service == b.service &&
         a.pickup_point == b.pickup_point && a.fragile == b.fragile && a.preferred == b.preferred &&
         a.forbidden == b.forbidden && a.status == b.status;
}

std::string errors_text(const ImportResult& r) {
  std::string s;
  for (const auto& e : r.errors) s += e.str() + "\n";
  return s;
}

// The five orders of good.csv / good.json.
void check_good_orders(const ImportResult& r) {
  BOOST_TEST_REQUIRE(r.errors.empty(), errors_text(r));
  BOOST_TEST_REQUIRE(r.orders.size() == 5u);
  BOOST_TEST(r.rows == 5u);
  const Order& a = r.orders[0];
  BOOST_TEST(a.id == "SO1001");
  BOOST_TEST(a.codes == std::vector<std::string>{"PK100000000001"});
  BOOST_TEST(a.province == "浙江省");
  BOOST_TEST(a.city == "杭州市");
  BOOST_TEST(a.district == "西湖区");
  BOOST_TEST(a.postcode == "310012");
  BOOST_TEST(a.address == "文三路478号华星时代广场A座1201室");
  BOOST_TEST(a.recipient == "王小明");
  BOOST_TEST(a.phone == "13812345678");
  BOOST_TEST(a.weight_g == 1250);
  BOOST_TEST(a.length_mm == 300);
  BOOST_TEST(a.width_mm == 200);
  BOOST_TEST(a.height_mm == 150);
  BOOST_TEST(a.cod_fen == 0);
  BOOST_TEST(a.invoice);
  BOOST_TEST((a.service == ServiceLevel::Standard));
  BOOST_TEST((a.status == OrderStatus::Active));

  const Order& b = r.orders[1];
  BOOST_TEST(b.codes == (std::vector<std::string>{"PK100000000002", "DD20240315000002"}));
  BOOST_TEST(b.address == "深南大道10000号腾讯大厦, 前台代收");
  BOOST_TEST(b.weight_g == 400);
  BOOST_TEST(b.length_mm == 200);
  BOOST_TEST(b.width_mm == 150);
  BOOST_TEST(b.height_mm == 50);
  BOOST_TEST(b.cod_fen == 19900);
  BOOST_TEST(!b.invoice);
  BOOST_TEST((b.service == ServiceLevel::Express));
  BOOST_TEST(b.fragile);
  BOOST_TEST(b.preferred == std::vector<std::string>{"sf"});

  const Order& c = r.orders[2];
  BOOST_TEST(c.province == "西藏自治区");
  BOOST_TEST(c.city == "拉萨市");
  BOOST_TEST(c.recipient == "次仁卓玛");
  BOOST_TEST(c.weight_g == 3200);
  BOOST_TEST(c.pickup_point);
  BOOST_TEST(c.forbidden == (std::vector<std::string>{"yunda", "jt"}));
  BOOST_TEST((c.status == OrderStatus::Held));

  const Order& d = r.orders[3];
  BOOST_TEST(d.province == "新疆维吾尔自治区");
  BOOST_TEST(d.weight_g == 12000);
  BOOST_TEST(d.cod_fen == 888850);
  BOOST_TEST(d.preferred == std::vector<std::string>{"ems"});
  BOOST_TEST(d.forbidden.empty());

  const Order& e = r.orders[4];
  BOOST_TEST(e.province == "上海");  // the short form is accepted as it is
  BOOST_TEST(e.address == "世纪大道100号\"环球金融中心\"58楼");
  BOOST_TEST(e.phone == "021-68881234");
  BOOST_TEST(e.weight_g == 250);
  BOOST_TEST(e.length_mm == 0);
  BOOST_TEST(e.cod_fen == 0);
  BOOST_TEST(e.fragile);
  BOOST_TEST(!e.pickup_point);
  BOOST_TEST((e.service == ServiceLevel::SameDay));
  BOOST_TEST((e.status == OrderStatus::Cancelled));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(import_csv)

BOOST_AUTO_TEST_CASE(happy_path_chinese_addresses) {
  auto r = load_orders_file(data_path("good.csv"));
  check_good_orders(r);
}

BOOST_AUTO_TEST_CASE(bom_and_crlf_read_the_same) {
  std::string text = read_file(data_path("good.csv"));
  std::string crlf;
  for (char c : text) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  auto r = parse_orders_csv("\xEF\xBB\xBF" + crlf, "bom-crlf.csv");
  check_good_orders(r);
  auto plain = parse_orders_csv(text, "good.csv");
  for (std::size_t i = 0; i < r.orders.size(); ++i) BOOST_TEST(same(r.orders[i], plain.orders[i]));
}

BOOST_AUTO_TEST_CASE(every_kind_of_bad_row_has_its_line_and_field) {
  auto r = load_orders_file(data_path("bad.csv"));
  BOOST_TEST(r.rows == 22u);
  BOOST_TEST_REQUIRE(r.orders.size() == 2u, errors_text(r));
  BOOST_TEST(r.orders[0].id == "SO2001");
  BOOST_TEST(r.orders[1].id == "SO2022");
  BOOST_TEST(r.orders[1].weight_g == 750);
  struct Want {
    int line;
    std::string field, says;
  };
  const std::vector<Want> want{
      {3, "order_id", "is empty"},
      {4, "weight_kg", "not a number"},
      {5, "weight_kg", "must not be negative"},
      {6, "service", "unknown service level 'overnight'"},
      {7, "codes", "code PK200000000001 is already used by order SO2001 on line 2"},
      {8, "", "wrong number of fields: 10, the header has 21"},
      {9, "cod", "at most 2 decimals"},
      {10, "province", "unknown province '火星'"},
      {11, "status", "unknown status 'lost'"},
      {12, "invoice", "not a yes/no value"},
      {13, "address", "invalid UTF-8"},
      {14, "order_id", "order SO2001 appears twice in this file (first on line 2)"},
      {15, "postcode", "not a 6-digit postcode"},
      {16, "width_mm", "give all three sizes or none"},
      {17, "forbidden", "courier sf is both preferred and forbidden"},
      {18, "codes", "no code"},
      {19, "weight_kg", "must be more than 0"},
      {20, "address", "a quote inside an unquoted field"},
      {21, "codes", "a character a barcode cannot carry"},
      {22, "forbidden", "not a courier id: 'UPS!'"},
  };
  BOOST_TEST_REQUIRE(r.errors.size() == want.size(), errors_text(r));
  for (std::size_t i = 0; i < want.size(); ++i) {
    const ImportError& e = r.errors[i];
    BOOST_TEST_CONTEXT("error " << e.str()) {
      BOOST_TEST(e.source == data_path("bad.csv"));
      BOOST_TEST(e.line == want[i].line);
      BOOST_TEST(e.field == want[i].field);
      BOOST_TEST(e.message.find(want[i].says) != std::string::npos);
    }
  }
  BOOST_TEST(r.errors[1].str() == data_path("bad.csv") + ":4: weight_kg: not a number: 'abc'");
}

BOOST_AUTO_TEST_CASE(quoting_edge_cases_keep_line_numbers) {
  auto r = load_orders_file(data_path("quoting.csv"));
  BOOST_TEST(r.rows == 8u);
  BOOST_TEST_REQUIRE(r.orders.size() == 4u, errors_text(r));
  BOOST_TEST(r.orders[0].address == "建国路88号, SOHO现代城");
  BOOST_TEST(r.orders[0].recipient == "刘洋");
  BOOST_TEST(r.orders[1].address == "中关村大街\"1\"号");
  BOOST_TEST(r.orders[2].address == "王府井大街1号\n北京百货大楼");
  BOOST_TEST(r.orders[3].id == "SO3005");
  BOOST_TEST(r.orders[3].address == "金融大街\n\n\"5\"号, 2楼");
  BOOST_TEST_REQUIRE(r.errors.size() == 4u, errors_text(r));
  // Rows after the multi-line fields still report the line they start on.
  BOOST_TEST(r.errors[0].line == 6);
  BOOST_TEST(r.errors[0].field == "weight_kg");
  BOOST_TEST(r.errors[1].line == 10);
  BOOST_TEST(r.errors[1].field == "service");
  BOOST_TEST(r.errors[2].line == 11);
  BOOST_TEST(r.errors[2].message == "empty row");
  BOOST_TEST(r.errors[3].line == 12);
  BOOST_TEST(r.errors[3].field == "address");
  BOOST_TEST(r.errors[3].message == "is empty");
}

BOOST_AUTO_TEST_CASE(quoting_with_crlf_inside_quotes) {
  const std::string text =
      "order_id,codes,province,city,address,weight_g\r\n"
      "A1,C1,广东省,广州市,\"天河路\r\n385号\",500\r\n"
      "A2,C2,广东省,广州市,\"a\"\"b\",oops\r\n"
      "A3,C3,广东省,广州市,x,1\r\n";
  auto r = parse_orders_csv(text, "crlf.csv");
  BOOST_TEST_REQUIRE(r.orders.size() == 2u, errors_text(r));
  BOOST_TEST(r.orders[0].address == "天河路\r\n385号");
  BOOST_TEST(r.orders[1].id == "A3");
  BOOST_TEST_REQUIRE(r.errors.size() == 1u);
  BOOST_TEST(r.errors[0].line == 4);
  BOOST_TEST(r.errors[0].field == "weight_g");
}

BOOST_AUTO_TEST_CASE(broken_quoting) {
  const std::string head = "order_id,codes,province,city,address,weight_g\n";
  // Text after a closing quote: that row only.
  auto r =
      parse_orders_csv(head + "A1,C1,广东省,广州市,\"x\"y,500\nA2,C2,广东省,广州市,z,1\n", "q.csv");
  BOOST_TEST_REQUIRE(r.errors.size() == 1u, errors_text(r));
  BOOST_TEST(r.errors[0].line == 2);
  BOOST_TEST(r.errors[0].field == "address");
  BOOST_TEST(r.errors[0].message.find("after the closing quote") != std::string::npos);
  BOOST_TEST(r.orders.size() == 1u);
  // An unterminated quote swallows the rest of the file: said once, with where it opened.
  r = parse_orders_csv(head + "A1,C1,广东省,广州市,a,1\nA2,C2,广东省,广州市,\"open\n\nA3,C3\n",
                       "q.csv");
  BOOST_TEST_REQUIRE(r.errors.size() == 1u, errors_text(r));
  BOOST_TEST(r.errors[0].line == 3);
  BOOST_TEST(r.errors[0].field == "address");
  BOOST_TEST(r.errors[0].message.find("unterminated quoted field") != std::string::npos);
  BOOST_TEST(r.orders.size() == 1u);
}

BOOST_AUTO_TEST_CASE(header_problems_refuse_the_file) {
  auto r = parse_orders_csv(
      "order_id,codes,province,city,address,weight_kg,colour\nA,B,浙江,杭州,x,1,red\n", "h.csv");
  BOOST_TEST(r.orders.empty());
  BOOST_TEST_REQUIRE(r.errors.size() == 1u);
  BOOST_TEST(r.errors[0].line == 1);
  BOOST_TEST(r.errors[0].field == "colour");
  BOOST_TEST(r.errors[0].message.find("unknown column") != std::string::npos);

  r = parse_orders_csv("order_id,codes,province,city,weight_kg\n", "h.csv");
  BOOST_TEST_REQUIRE(r.errors.size() == 1u);
  BOOST_TEST(r.errors[0].field == "address");
  BOOST_TEST(r.errors[0].message == "required column is missing");

  r = parse_orders_csv("order_id,codes,province,city,address,weight_kg,weight_g,codes\n", "h.csv");
  BOOST_TEST_REQUIRE(r.errors.size() == 2u, errors_text(r));
  BOOST_TEST(r.errors[0].field == "codes");
  BOOST_TEST(r.errors[0].message == "column appears twice");
  BOOST_TEST(r.errors[1].field == "weight_g");

  r = parse_orders_csv("", "empty.csv");
  BOOST_TEST_REQUIRE(r.errors.size() == 1u);
  BOOST_TEST(r.errors[0].message.find("no header") != std::string::npos);

  // Header names are case-insensitive and may carry spaces; cm columns are converted.
  r = parse_orders_csv(
      "Order_ID, Codes ,PROVINCE,city,address,weight_g,length_cm,width_cm,height_cm\n"
      "A,B,浙江,杭州,x,1,30.5,20,10\n",
      "h.csv");
  BOOST_TEST_REQUIRE(r.orders.size() == 1u, errors_text(r));
  BOOST_TEST(r.orders[0].length_mm == 305);
  BOOST_TEST(r.orders[0].width_mm == 200);
}

BOOST_AUTO_TEST_CASE(python_csv_reads_the_same_fields) {
  // Demo orders with the nastiest addresses a CSV can carry, written by our writer, read by
  // our parser and by Python's csv module.
  auto orders = make_demo_orders(300, 7);
  const std::vector<std::string> nasty{
      "a,b",         "\"quoted\"", "line\nbreak", "crlf\r\ninside", " leading space",
      "tab\tinside", "尾巴,\"\"",  "\"\""};
  for (std::size_t i = 0; i < orders.size(); i += 7)
    orders[i].address = nasty[(i / 7) % nasty.size()] + orders[i].address;
  TempDir dir;
  std::string path = dir.file("demo.csv", orders_to_csv(orders));
  auto mine = load_orders_file(path);
  BOOST_TEST_REQUIRE(mine.errors.empty(), errors_text(mine));
  BOOST_TEST_REQUIRE(mine.orders.size() == orders.size());
  auto py = peer("csv", path);
  BOOST_TEST_REQUIRE(py["rows"].size() == orders.size());
  const auto& header = py["header"];
  BOOST_TEST(header[0].get<std::string>() == "order_id");
  for (std::size_t i = 0; i < orders.size(); ++i) {
    const auto& f = py["rows"][i]["fields"];
    const Order& o = mine.orders[i];
    BOOST_TEST_CONTEXT("row " << i) {
      BOOST_TEST(same(o, orders[i]));
      BOOST_TEST(f[0].get<std::string>() == o.id);
      BOOST_TEST(f[2].get<std::string>() == o.province);
      BOOST_TEST(f[3].get<std::string>() == o.city);
      BOOST_TEST(f[6].get<std::string>() == o.address);
      BOOST_TEST(f[7].get<std::string>() == o.recipient);
    }
  }
}

BOOST_AUTO_TEST_CASE(python_csv_agrees_on_quoting_file) {
  auto mine = load_orders_file(data_path("quoting.csv"));
  auto py = peer("csv", data_path("quoting.csv"));
  const auto& rows = py["rows"];
  BOOST_TEST_REQUIRE(rows.size() == mine.rows);
  // Every good order matches Python's fields; every error is on the line Python starts it on.
  std::map<std::string, const Order*> by_id;
  for (const auto& o : mine.orders) by_id[o.id] = &o;
  std::set<int> starts;
  for (const auto& row : rows) {
    starts.insert(row["line"].get<int>());
    auto it = by_id.find(row["fields"][0].get<std::string>());
    if (it == by_id.end()) continue;
    BOOST_TEST(row["fields"][6].get<std::string>() == it->second->address);
  }
  for (const auto& e : mine.errors) BOOST_TEST(starts.count(e.line) == 1u, e.str());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(import_json)

BOOST_AUTO_TEST_CASE(happy_path_same_as_csv) {
  auto j = load_orders_file(data_path("good.json"));
  check_good_orders(j);
  auto c = load_orders_file(data_path("good.csv"));
  for (std::size_t i = 0; i < c.orders.size(); ++i)
    BOOST_TEST(same(j.orders[i], c.orders[i]), "order " << i);
}

BOOST_AUTO_TEST_CASE(wrapped_form_and_empty) {
  auto r = parse_orders_json(
      "{\"orders\": [{\"order_id\": 12345, \"codes\": [\"X1\"], \"province\": \"湖北\", "
      "\"city\": \"武汉\", \"address\": \"光谷大道1号\", \"weight_g\": 800}]}",
      "w.json");
  BOOST_TEST_REQUIRE(r.orders.size() == 1u, errors_text(r));
  BOOST_TEST(r.orders[0].id == "12345");  // a numeric id is taken as text
  // cod in yuan, or cod_fen in fen (what the bus codec writes), not both.
  r = parse_orders_json(
      "[{\"order_id\": \"A\", \"codes\": [\"X2\"], \"province\": \"湖北\", \"city\": "
      "\"武汉\", \"address\": \"x\", \"weight_g\": 800, \"cod_fen\": 12990},\n"
      "{\"order_id\": \"B\", \"codes\": [\"X3\"], \"province\": \"湖北\", \"city\": "
      "\"武汉\", \"address\": \"x\", \"weight_g\": 800, \"cod\": 129.9},\n"
      "{\"order_id\": \"C\", \"codes\": [\"X4\"], \"province\": \"湖北\", \"city\": "
      "\"武汉\", \"address\": \"x\", \"weight_g\": 800, \"cod\": 1, \"cod_fen\": 100}]",
      "cod.json");
  BOOST_TEST_REQUIRE(r.orders.size() == 2u, errors_text(r));
  BOOST_TEST(r.orders[0].cod_fen == 12990);
  BOOST_TEST(r.orders[1].cod_fen == 12990);
  BOOST_TEST_REQUIRE(r.errors.size() == 1u);
  BOOST_TEST(r.errors[0].line == 3);
  BOOST_TEST(r.errors[0].field == "cod_fen");
  r = parse_orders_json("[]", "e.json");
  BOOST_TEST(r.orders.empty());
  BOOST_TEST(r.errors.empty());
  r = parse_orders_json("{\"orders\": []}", "e.json");
  BOOST_TEST(r.errors.empty());
}

BOOST_AUTO_TEST_CASE(bad_objects_report_their_line) {
  const std::string text = R"([
  {"order_id": "J1", "codes": ["C1"], "province": "浙江", "city": "杭州", "address": "a",
   "weight_g": 100},
  {"order_id": "J2", "codes": ["C2"], "province": "浙江", "city": "杭州", "address": "a",
   "weight_g": 100, "colour": "red"},
  {"order_id": "J3", "codes": [123456], "province": "浙江", "city": "杭州", "address": "a",
   "weight_g": 100},
  {"order_id": "J4", "codes": ["C4"], "province": "浙江", "city": "杭州", "address": "a",
   "weight_kg": "heavy"},
  "not an order",
  {"order_id": "J6", "codes": ["C1"], "province": "浙江", "city": "杭州", "address": "a",
   "weight_g": 100},
  {"order_id": "J7", "codes": ["C7"], "province": "浙江", "city": "杭州",
   "address": "a",
   "weight_g": 100 "service": "express"},
  {"order_id": "J8", "codes": ["C8"], "province": "浙江", "city": "杭州", "address": "a",
   "weight_g": -5},
  {"order_id": "J9", "codes": ["C9"], "province": "浙江", "city": "杭州", "address": "a"},
  {"order_id": "J10", "codes": ["C10"], "province": "浙江", "city": "杭州", "address": "a",
   "weight_g": 100, "invoice": "perhaps"},
  {"order_id": "J11", "codes": ["C11"], "province": "浙江", "city": "杭州", "address": "a",
   "weight_g": 100, "fragile": true}
])";
  auto r = parse_orders_json(text, "bad.json");
  BOOST_TEST(r.rows == 11u);
  BOOST_TEST_REQUIRE(r.orders.size() == 2u, errors_text(r));
  BOOST_TEST(r.orders[0].id == "J1");
  BOOST_TEST(r.orders[1].id == "J11");
  struct Want {
    int line;
    std::string field, says;
  };
  const std::vector<Want> want{
      {4, "colour", "unknown key"},
      {6, "codes", "a number loses leading zeros"},
      {8, "weight_kg", "not a number"},
      {10, "", "expected an order object, got string"},
      {11, "codes", "code C1 is already used by order J1 on line 2"},
      {15, "", "bad JSON in the order starting on line 13"},
      {16, "weight_g", "must not be negative"},
      {18, "weight_g", "is required"},
      {19, "invoice", "not a yes/no value"},
  };
  BOOST_TEST_REQUIRE(r.errors.size() == want.size(), errors_text(r));
  for (std::size_t i = 0; i < want.size(); ++i) {
    BOOST_TEST_CONTEXT("error " << r.errors[i].str()) {
      BOOST_TEST(r.errors[i].line == want[i].line);
      BOOST_TEST(r.errors[i].field == want[i].field);
      BOOST_TEST(r.errors[i].message.find(want[i].says) != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(broken_documents) {
  struct Case {
    std::string text;
    int line;
    std::string says;
  };
  const std::vector<Case> cases{
      {"", 1, "expected an array of orders"},
      {"{\"order\": []}", 1, "unknown top-level key 'order'"},
      {"[\n{\"order_id\": \"A\"},\n{\"order_id\": \"B\"\n", 3, "unterminated object"},
      {"[\n{\"order_id\": \"A\"}\n{\"order_id\": \"B\"}]", 3, "expected ',' or ']'"},
      {"[]\n]", 2, "unexpected text after the orders"},
      {"\n\n  42", 3, "expected an array of orders"},
  };
  for (const auto& c : cases) {
    auto r = parse_orders_json(c.text, "doc.json");
    BOOST_TEST_CONTEXT("document: " << c.text) {
      BOOST_TEST_REQUIRE(!r.errors.empty());
      BOOST_TEST(r.errors.back().line == c.line);
      BOOST_TEST(r.errors.back().message.find(c.says) != std::string::npos, r.errors.back().str());
    }
  }
  // Invalid UTF-8 inside a string is a bad row, not a crash.
  auto r = parse_orders_json(
      "[{\"order_id\": \"A\", \"codes\": [\"C\"], \"province\": \"浙江\", \"city\": \"杭州\", "
      "\"address\": \"\xD5\xE3\xBD\xAD\", \"weight_g\": 1}]",
      "gbk.json");
  BOOST_TEST_REQUIRE(r.errors.size() == 1u);
  BOOST_TEST(r.errors[0].line == 1);
  BOOST_TEST(r.orders.empty());
}

BOOST_AUTO_TEST_CASE(writer_round_trip_and_python_peer) {
  auto orders = make_demo_orders(500, 11);
  orders[3].address = "带\"引号\"和\\反斜杠\n换行";
  TempDir dir;
  std::string path = dir.file("demo.json", orders_to_json(orders));
  auto mine = load_orders_file(path);
  BOOST_TEST_REQUIRE(mine.errors.empty(), errors_text(mine));
  BOOST_TEST_REQUIRE(mine.orders.size() == orders.size());
  for (std::size_t i = 0; i < orders.size(); ++i) BOOST_TEST(same(mine.orders[i], orders[i]));
  auto py = peer("json", path);
  BOOST_TEST_REQUIRE(py.size() == orders.size());
  for (std::size_t i = 0; i < orders.size(); ++i) {
    BOOST_TEST(py[i]["order_id"].get<std::string>() == orders[i].id);
    BOOST_TEST(py[i]["address"].get<std::string>() == orders[i].address);
    BOOST_TEST(py[i]["weight_g"].get<int>() == orders[i].weight_g);
    BOOST_TEST(py[i]["codes"].get<std::vector<std::string>>() == orders[i].codes);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(files_and_validation)

BOOST_AUTO_TEST_CASE(load_orders_file_errors) {
  BOOST_CHECK_THROW(load_orders_file("/nonexistent/orders.csv"), std::runtime_error);
  BOOST_CHECK_THROW(load_orders_file(data_path("peer.py")), std::runtime_error);
  TempDir dir;
  auto r = load_orders_file(dir.file("ORDERS.JSON", "[]"));
  BOOST_TEST(r.errors.empty());
}

BOOST_AUTO_TEST_CASE(validate_order_rules) {
  Order o = make_demo_orders(1, 3)[0];
  BOOST_TEST(!validate_order(o).has_value());
  auto bad = [&](auto change, const std::string& field) {
    Order x = o;
    change(x);
    auto e = validate_order(x);
    BOOST_TEST_REQUIRE(e.has_value());
    BOOST_TEST(e->field == field, e->message);
  };
  bad([](Order& x) { x.codes.push_back(x.codes[0]); }, "codes");
  bad([](Order& x) { x.codes.assign(17, "X"); }, "codes");
  bad([](Order& x) { x.province = "Atlantis"; }, "province");
  bad([](Order& x) { x.city.clear(); }, "city");
  bad([](Order& x) { x.phone = "call me"; }, "phone");
  bad([](Order& x) { x.weight_g = 2'000'000; }, "weight_g");
  bad([](Order& x) { x.length_mm = -1; }, "length_mm");
  bad([](Order& x) { x.cod_fen = -100; }, "cod");
  bad([](Order& x) { x.preferred = {"sf", "sf"}; }, "preferred");
  bad([](Order& x) { x.recipient = "a\x01z"; }, "recipient");
  bad([](Order& x) { x.id = std::string(65, 'x'); }, "order_id");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(demo)

BOOST_AUTO_TEST_CASE(deterministic_and_sliceable) {
  auto all = make_demo_orders(300, 42);
  auto again = make_demo_orders(300, 42);
  auto slice = make_demo_orders(100, 42, 150);
  for (std::size_t i = 0; i < all.size(); ++i) BOOST_TEST(same(all[i], again[i]));
  for (std::size_t i = 0; i < slice.size(); ++i) BOOST_TEST(same(slice[i], all[150 + i]));
  auto other = make_demo_orders(300, 43);
  int differ = 0;
  for (std::size_t i = 0; i < all.size(); ++i) differ += all[i].codes[0] != other[i].codes[0];
  BOOST_TEST(differ == 300);
}

BOOST_AUTO_TEST_CASE(realistic_and_valid) {
  const std::size_t n = 100'000;
  auto orders = make_demo_orders(n, 2024);
  std::set<std::string> ids, codes, provinces, couriers;
  std::size_t cod = 0, cod_high = 0, invoice = 0, express = 0, same_day = 0, pickup = 0,
              fragile = 0, held = 0, cancelled = 0, second_code = 0, heavy = 0, prefs = 0,
              forbs = 0, lhasa = 0, urumqi = 0;
  for (const auto& o : orders) {
    auto e = validate_order(o);
    BOOST_TEST_REQUIRE(!e.has_value(), o.id << ": " << e->field << ": " << e->message);
    BOOST_TEST_REQUIRE(ids.insert(o.id).second);
    for (const auto& c : o.codes) BOOST_TEST_REQUIRE(codes.insert(c).second, c);
    BOOST_TEST(o.codes[0].size() == 14u);
    BOOST_TEST(o.codes[0].rfind("PK", 0) == 0u);
    provinces.insert(o.province);
    cod += o.cod_fen > 0;
    cod_high += o.cod_fen > 500'000;  // above 5,000 yuan
    invoice += o.invoice;
    express += o.service == ServiceLevel::Express;
    same_day += o.service == ServiceLevel::SameDay;
    pickup += o.pickup_point;
    fragile += o.fragile;
    held += o.status == OrderStatus::Held;
    cancelled += o.status == OrderStatus::Cancelled;
    second_code += o.codes.size() > 1;
    heavy += o.weight_g > 30'000;
    prefs += !o.preferred.empty();
    forbs += !o.forbidden.empty();
    lhasa += o.city == "拉萨市";
    urumqi += o.city == "乌鲁木齐市";
    for (const auto& c : o.preferred) couriers.insert(c);
    for (const auto& c : o.forbidden) couriers.insert(c);
  }
  BOOST_TEST(provinces.size() == 31u);  // the mainland's provincial-level regions
  BOOST_TEST(lhasa > 0u);
  BOOST_TEST(urumqi > 0u);
  for (const auto& c : couriers)
    BOOST_TEST((c == "sf" || c == "jd" || c == "zto" || c == "yto" || c == "yunda" || c == "ems" ||
                c == "jt"),
               c);
  // Shares: each feature is present and a minority (the generator's probabilities).
  for (std::size_t k :
       {cod, invoice, express, same_day, pickup, fragile, held, cancelled, second_code, heavy})
    BOOST_TEST((k > n / 200 && k < n / 2), k);
  BOOST_TEST(cod_high > 0u);
  BOOST_TEST(prefs > 0u);
  BOOST_TEST(forbs > 0u);
}

// config/demo-orders.csv is generated: make_demo_orders(2000, 2024). Regenerate it with
//   SORTD_REGENERATE=1 build/tests/test_orders --run_test=demo/shipped_file_matches_generator
BOOST_AUTO_TEST_CASE(shipped_file_matches_generator) {
  const std::string path = std::string(SORTD_SOURCE_DIR) + "/config/demo-orders.csv";
  auto orders = make_demo_orders(2000, 2024);
  if (std::getenv("SORTD_REGENERATE"))
    std::ofstream(path, std::ios::binary) << orders_to_csv(orders);
  auto r = load_orders_file(path);
  BOOST_TEST_REQUIRE(r.errors.empty(), errors_text(r));
  BOOST_TEST_REQUIRE(r.orders.size() == orders.size());
  for (std::size_t i = 0; i < orders.size(); ++i) BOOST_TEST_REQUIRE(same(r.orders[i], orders[i]));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(order_book)

BOOST_AUTO_TEST_CASE(find_by_id_and_every_code) {
  auto orders = make_demo_orders(20'000, 5);
  OrderBook book;
  for (const auto& o : orders) BOOST_TEST_REQUIRE(book.upsert(o));
  BOOST_TEST(book.size() == orders.size());
  for (const auto& o : orders) {
    auto f = book.find(o.id);
    BOOST_TEST_REQUIRE(f.has_value());
    BOOST_TEST_REQUIRE(same(*f, o));
    for (const auto& c : o.codes) {
      auto byc = book.find_by_code(c);
      BOOST_TEST_REQUIRE(byc.has_value());
      BOOST_TEST_REQUIRE(byc->id == o.id);
      BOOST_TEST_REQUIRE(book.id_by_code(c).value() == o.id);
    }
  }
  BOOST_TEST(!book.find("SO9999999999").has_value());
  BOOST_TEST(!book.find_by_code("PK000").has_value());
  BOOST_TEST(!book.id_by_code("").has_value());
  std::size_t seen = 0;
  book.for_each([&](const Order& o) { BOOST_TEST_REQUIRE(same(o, orders[seen++])); });
  BOOST_TEST(seen == orders.size());
}

BOOST_AUTO_TEST_CASE(reimport_updates_and_drops_old_codes) {
  OrderBook book;
  auto orders = make_demo_orders(100, 9);
  for (const auto& o : orders) book.upsert(o);
  Order o = orders[10];
  o.codes = {orders[10].codes[0] + "X", "NEWCODE1"};
  o.address = "更新后的地址 1号";
  o.weight_g += 100;
  BOOST_TEST(!book.upsert(o));  // not new
  BOOST_TEST(book.size() == 100u);
  BOOST_TEST(same(*book.find(o.id), o));
  for (const auto& c : orders[10].codes) BOOST_TEST(!book.find_by_code(c).has_value(), c);
  BOOST_TEST(book.find_by_code("NEWCODE1")->id == o.id);
  // The other orders are untouched.
  BOOST_TEST(same(*book.find(orders[11].id), orders[11]));
  BOOST_TEST(same(*book.find_by_code(orders[9].codes[0]), orders[9]));
}

BOOST_AUTO_TEST_CASE(a_code_moves_to_its_new_order) {
  OrderBook book;
  auto orders = make_demo_orders(3, 9);
  orders[0].codes = {"SHARED", "A-ONLY"};
  book.upsert(orders[0]);
  orders[1].codes = {"SHARED"};
  book.upsert(orders[1]);
  BOOST_TEST(book.id_by_code("SHARED").value() == orders[1].id);
  BOOST_TEST(book.find(orders[0].id)->codes == std::vector<std::string>{"A-ONLY"});
  BOOST_TEST(book.id_by_code("A-ONLY").value() == orders[0].id);
  // Re-importing the first order without the shared code leaves the second one alone.
  orders[0].codes = {"A-ONLY"};
  book.upsert(orders[0]);
  BOOST_TEST(book.id_by_code("SHARED").value() == orders[1].id);
}

BOOST_AUTO_TEST_CASE(status_changes) {
  OrderBook book;
  auto orders = make_demo_orders(10, 1);
  for (auto& o : orders) {
    o.status = OrderStatus::Active;
    book.upsert(o);
  }
  BOOST_TEST(book.set_status(orders[4].id, OrderStatus::Cancelled));
  BOOST_TEST((book.find(orders[4].id)->status == OrderStatus::Cancelled));
  BOOST_TEST((book.find_by_code(orders[4].codes[0])->status == OrderStatus::Cancelled));
  BOOST_TEST(book.set_status(orders[4].id, OrderStatus::Held));
  BOOST_TEST((book.find(orders[4].id)->status == OrderStatus::Held));
  BOOST_TEST((book.find(orders[5].id)->status == OrderStatus::Active));
  BOOST_TEST(!book.set_status("NOPE", OrderStatus::Held));
}

BOOST_AUTO_TEST_CASE(many_rewrites_compact_the_arena) {
  OrderBook book;
  auto orders = make_demo_orders(20'000, 77);
  for (int round = 0; round < 8; ++round) {
    for (auto& o : orders) {
      o.address = "第" + std::to_string(round) + "轮 " + o.address.substr(o.address.find(' ') + 1);
      o.codes.resize(1);
      o.codes.push_back("R" + std::to_string(round) + "-" + o.id);
      book.upsert(o);
    }
  }
  BOOST_TEST(book.size() == orders.size());
  for (const auto& o : orders) {
    BOOST_TEST_REQUIRE(same(*book.find(o.id), o));
    BOOST_TEST_REQUIRE(book.id_by_code(o.codes[1]).value() == o.id);
    BOOST_TEST_REQUIRE(!book.find_by_code("R6-" + o.id).has_value());
  }
  // Garbage was reclaimed: well under what 8 copies of the text would take.
  BOOST_TEST(book.memory_bytes() < orders.size() * 600);
}

BOOST_AUTO_TEST_CASE(compact_per_order) {
  auto orders = make_demo_orders(200'000, 2024);
  OrderBook book;
  for (const auto& o : orders) book.upsert(o);
  double per_order = static_cast<double>(book.memory_bytes()) / static_cast<double>(book.size());
  BOOST_TEST_MESSAGE("order book: " << per_order << " bytes per order");
  BOOST_TEST(per_order < 400.0);  // 1,000,000 orders in under 400 MB
}

BOOST_AUTO_TEST_SUITE_END()
