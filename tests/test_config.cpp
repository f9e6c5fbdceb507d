// Station configuration: the demo station loads clean with the values it says; every kind of
// mistake is reported with the file, the line (marked "# ERROR" in each fixture under
// tests/data/config/) and the dotted key; several mistakes are reported at once; and an
// independent TOML parser (Python's tomllib) agrees with ours on the demo file and on which
// fixtures are TOML syntax errors.
#define BOOST_TEST_MODULE config
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config.h"

using namespace sortd;

namespace {

const std::string kData = std::string(SORTD_SOURCE_DIR) + "/tests/data/config/";
const std::string kDemo = std::string(SORTD_SOURCE_DIR) + "/config/demo-station.toml";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot open " << path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Lines (1-based) of a fixture carrying the "# ERROR" marker.
std::vector<int> marked_lines(const std::string& path) {
  std::istringstream in(slurp(path));
  std::vector<int> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n)
    if (line.find("# ERROR") != std::string::npos) out.push_back(n);
  return out;
}

std::vector<ConfigIssue> issues_of(const std::string& fixture) {
  try {
    load_config_file(kData + fixture);
  } catch (const ConfigError& e) {
    BOOST_TEST_MESSAGE(e.what());
    return e.issues();
  }
  BOOST_FAIL(fixture << " loaded without an error");
  return {};
}

// One fixture, one problem: on the marked line, under `key`, saying `words`.
void expect_one(const std::string& fixture, const std::string& key, const std::string& words) {
  auto issues = issues_of(fixture);
  BOOST_REQUIRE_EQUAL(issues.size(), 1u);
  const ConfigIssue& i = issues[0];
  auto lines = marked_lines(kData + fixture);
  BOOST_REQUIRE_EQUAL(lines.size(), 1u);
  BOOST_TEST(i.line == lines[0]);
  BOOST_TEST(i.key == key);
  BOOST_TEST(i.message.find(words) != std::string::npos,
             "message '" << i.message << "' lacks '" << words << "'");
  BOOST_TEST(i.file == kData + fixture);
  // The operator's line: "file:line:column: key: message".
  std::string prefix = kData + fixture + ":" + std::to_string(lines[0]) + ":";
  BOOST_TEST(i.str().rfind(prefix, 0) == 0u, i.str());
  BOOST_TEST(i.str().find(": " + key + ": ") != std::string::npos, i.str());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(demo)

BOOST_AUTO_TEST_CASE(demo_station_loads_clean) {
  StationConfig cfg;
  BOOST_REQUIRE_NO_THROW(cfg = load_config_file(kDemo));
  BOOST_TEST(cfg.source == kDemo);
  BOOST_TEST(cfg.station_id == "hz-xiaoshan-01");
  BOOST_TEST(cfg.policies.origin_province == "浙江");
  BOOST_TEST(cfg.policies.utc_offset_min == 8 * 60);
  BOOST_TEST(cfg.scan_delay_ms == 250);
  BOOST_TEST(cfg.scan_tolerance_ms == 400);
  BOOST_TEST(cfg.couriers.size() >= 6u);
  BOOST_TEST(cfg.lanes.size() >= 24u);
  BOOST_TEST(cfg.devices.size() == 3u);

  // Values converted to the model's units.
  const Courier* sf = cfg.courier("sf");
  BOOST_REQUIRE(sf);
  BOOST_TEST(sf->name == "顺丰速运");
  BOOST_TEST((sf->pricing == Pricing::ByWeight));
  BOOST_TEST(sf->volumetric_divisor == 6000);
  BOOST_TEST(sf->cod_limit_fen == 500000);
  BOOST_TEST(sf->max_weight_g == 50000);
  BOOST_TEST(sf->max_side_mm == 1500);
  BOOST_TEST(sf->cutoff_min == 20 * 60 + 30);
  BOOST_TEST((sf->express && sf->same_day && sf->standard));
  BOOST_REQUIRE_EQUAL(sf->zones.size(), 4u);
  BOOST_TEST(sf->zones[0].first_fen == 1200);
  BOOST_TEST(sf->zones[0].first_g == 1000);
  BOOST_TEST(sf->zone_of.at("浙江") == "local");
  BOOST_TEST(sf->zone_of.at("*") == "far");
  const Courier* zto = cfg.courier("zto");
  BOOST_REQUIRE(zto);
  BOOST_TEST((zto->pricing == Pricing::PerPiece));
  BOOST_TEST(zto->piece_fen == 320);
  BOOST_TEST(!zto->cod);
  const Courier* ems = cfg.courier("ems");
  BOOST_REQUIRE(ems);
  BOOST_TEST(ems->zones.at(2).step_g == 500);
  BOOST_TEST(ems->excludes.size() == 1u);  // serves Tibet and Xinjiang
  BOOST_TEST(cfg.courier("yunda")->daily_parcels == 300);
  BOOST_TEST(cfg.courier("yunda")->fragile == false);

  // Lanes: every courier has one, overflow lanes exist, every exception kind has a typed lane,
  // and there is a catch-all.
  std::set<int> chutes;
  int overflow_lanes = 0, catch_all = 0;
  std::set<ExceptionKind> taken;
  for (const Lane& l : cfg.lanes) {
    BOOST_TEST(chutes.insert(l.chute).second);
    if (l.kind == LaneKind::Overflow) ++overflow_lanes;
    if (l.kind == LaneKind::Exception && l.takes.empty()) ++catch_all;
    for (auto k : l.takes) taken.insert(k);
  }
  BOOST_TEST(overflow_lanes >= 3);
  BOOST_TEST(catch_all == 1);
  for (int k = 1; k <= int(ExceptionKind::Degraded); ++k)
    BOOST_TEST(taken.count(ExceptionKind(k)) == 1u, to_string(ExceptionKind(k)));
  for (const Courier& c : cfg.couriers) {
    int n = 0;
    for (const Lane& l : cfg.lanes) n += l.kind == LaneKind::Courier && l.courier == c.id;
    BOOST_TEST(n >= 1, c.id);
  }
  const Lane* hz = cfg.lane(3);
  BOOST_REQUIRE(hz);
  BOOST_TEST(hz->regions.at(0) == "浙江/杭州");
  BOOST_TEST(hz->overflow == 4);

  for (const auto& d : cfg.devices) {
    BOOST_TEST(d.driver == "sim");
    BOOST_TEST(d.line > 0);
  }
}

BOOST_AUTO_TEST_CASE(minimal_base_of_the_fixtures_loads_clean) {
  StationConfig cfg;
  BOOST_REQUIRE_NO_THROW(cfg = load_config_file(kData + "good-minimal.toml"));
  BOOST_TEST(cfg.couriers.size() == 2u);
  BOOST_TEST(cfg.lanes.size() == 4u);
  // Defaults documented in docs/configuration.md.
  BOOST_TEST(cfg.policies.utc_offset_min == 480);
  BOOST_TEST(cfg.policies.weights.price == 0.30);
  BOOST_TEST(cfg.courier("jd")->cutoff_min == 24 * 60);
  BOOST_TEST(cfg.courier("jd")->invoice == true);
  BOOST_TEST(cfg.courier("jd")->standard == true);
  BOOST_TEST(cfg.courier("jd")->express == false);
  BOOST_TEST(cfg.lane(2)->enabled == true);
  BOOST_TEST((cfg.lane(2)->kind == LaneKind::Courier));
}

BOOST_AUTO_TEST_CASE(the_example_in_the_documentation_loads) {
  std::string doc = slurp(std::string(SORTD_SOURCE_DIR) + "/docs/configuration.md");
  auto at = doc.find("## Example");
  BOOST_REQUIRE(at != std::string::npos);
  auto begin = doc.find("```toml\n", at);
  BOOST_REQUIRE(begin != std::string::npos);
  begin += 8;
  auto end = doc.find("```", begin);
  StationConfig cfg;
  BOOST_REQUIRE_NO_THROW(cfg = parse_config(doc.substr(begin, end - begin), "configuration.md"));
  BOOST_TEST(cfg.couriers.size() == 2u);
  BOOST_TEST(cfg.lane(19)->overflow == 0);
  BOOST_TEST(cfg.lane(1)->overflow == 19);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(unknown_key_suggests_the_right_one) {
  expect_one("unknown-key.toml", "couriers[0].max_wieght_kg", "did you mean 'max_weight_kg'");
}
BOOST_AUTO_TEST_CASE(unknown_top_level_table) {
  expect_one("unknown-table.toml", "polices", "unknown key 'polices'");
}
BOOST_AUTO_TEST_CASE(bag_close_prefix_must_be_a_readable_barcode) {
  expect_one("bad-close-prefix.toml", "station.bag_close_prefix",
             "'CLOSE L' is not a barcode prefix");
}
BOOST_AUTO_TEST_CASE(wrong_type) {
  expect_one("wrong-type.toml", "couriers[1].daily_parcels", "expected an integer, got a string");
}
BOOST_AUTO_TEST_CASE(missing_required_key) {
  expect_one("missing-key.toml", "couriers[1].pricing", "missing");
}
BOOST_AUTO_TEST_CASE(lane_names_a_missing_courier) {
  expect_one("missing-courier.toml", "lanes[1].courier", "no courier 'zto' (couriers are: sf, jd)");
}
BOOST_AUTO_TEST_CASE(two_lanes_on_one_chute) {
  expect_one("duplicate-chute.toml", "lanes[1].chute", "chute 1 is already lane 1's");
}
BOOST_AUTO_TEST_CASE(duplicate_lane_id) {
  expect_one("duplicate-lane-id.toml", "lanes[1].id", "duplicate lane id 1");
}
BOOST_AUTO_TEST_CASE(duplicate_courier_id) {
  expect_one("duplicate-courier.toml", "couriers[1].id", "duplicate courier id 'sf'");
}
BOOST_AUTO_TEST_CASE(duplicate_device_name) {
  expect_one("duplicate-device.toml", "devices[1].name", "duplicate device name 'scanner-1'");
}
BOOST_AUTO_TEST_CASE(overflow_names_a_missing_lane) {
  expect_one("overflow-missing.toml", "lanes[0].overflow", "no lane 99");
}
BOOST_AUTO_TEST_CASE(overflow_into_an_exception_lane) {
  expect_one("overflow-exception.toml", "lanes[0].overflow", "is an exception lane");
}
BOOST_AUTO_TEST_CASE(overflow_loop) {
  auto issues = issues_of("overflow-loop.toml");
  // Both lanes of the loop are reported; the first one on the marked line.
  BOOST_REQUIRE_EQUAL(issues.size(), 2u);
  BOOST_TEST(issues[0].line == marked_lines(kData + "overflow-loop.toml").at(0));
  BOOST_TEST(issues[0].key == "lanes[0].overflow");
  BOOST_TEST(issues[0].message == "overflow loop: 1 -> 4 -> 1");
  BOOST_TEST(issues[1].key == "lanes[3].overflow");
  BOOST_TEST(issues[1].message == "overflow loop: 4 -> 1 -> 4");
}
BOOST_AUTO_TEST_CASE(negative_price) {
  expect_one("negative-price.toml", "couriers[1].piece_price", "must not be negative");
}
BOOST_AUTO_TEST_CASE(negative_weight) {
  expect_one("negative-weight.toml", "couriers[0].max_weight_kg", "must not be negative");
}
BOOST_AUTO_TEST_CASE(price_finer_than_a_fen) {
  expect_one("fen-precision.toml", "couriers[0].zones[0].first_price", "finer than one fen");
}
BOOST_AUTO_TEST_CASE(cutoff_not_a_time) {
  expect_one("bad-cutoff.toml", "couriers[0].cutoff", "'25:00' is not a time of day");
}
BOOST_AUTO_TEST_CASE(unknown_exception_kind) {
  expect_one("unknown-takes.toml", "lanes[2].takes[1]", "unknown exception kind 'unkown_code'");
}
BOOST_AUTO_TEST_CASE(ranking_weight_out_of_range) {
  expect_one("weight-range.toml", "policies.weights.region", "out of range");
}
BOOST_AUTO_TEST_CASE(unknown_province) {
  expect_one("unknown-province.toml", "lanes[1].regions[0]", "unknown province '浙将'");
}
BOOST_AUTO_TEST_CASE(zone_of_names_a_missing_zone) {
  expect_one("unknown-zone.toml", "couriers[0].zone_of.*",
             "no zone 'farr' (zones are: far, local)");
}
BOOST_AUTO_TEST_CASE(no_exception_lane) {
  auto issues = issues_of("no-exception-lane.toml");
  BOOST_REQUIRE_EQUAL(issues.size(), 1u);
  BOOST_TEST(issues[0].key == "lanes");
  BOOST_TEST(issues[0].line == 0);  // a whole-file problem: no line to point at
  BOOST_TEST(issues[0].message.find("no exception lane") != std::string::npos);
}
BOOST_AUTO_TEST_CASE(toml_syntax_error_with_its_line) {
  auto issues = issues_of("syntax-error.toml");
  BOOST_REQUIRE_EQUAL(issues.size(), 1u);
  BOOST_TEST(issues[0].line == marked_lines(kData + "syntax-error.toml").at(0));
  BOOST_TEST(issues[0].message.rfind("TOML syntax error: ", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(several_errors_reported_at_once_in_file_order) {
  auto issues = issues_of("several-errors.toml");
  auto lines = marked_lines(kData + "several-errors.toml");
  BOOST_REQUIRE_EQUAL(issues.size(), lines.size());
  BOOST_REQUIRE_EQUAL(issues.size(), 4u);
  std::vector<std::string> keys{"couriers[0].max_weight_kg", "couriers[1].cutoff",
                                "lanes[1].courier", "lanes[3].chute"};
  for (std::size_t i = 0; i < issues.size(); ++i) {
    BOOST_TEST(issues[i].line == lines[i]);
    BOOST_TEST(issues[i].key == keys[i]);
  }
}

BOOST_AUTO_TEST_CASE(error_text_lists_every_problem) {
  try {
    load_config_file(kData + "several-errors.toml");
    BOOST_FAIL("no error");
  } catch (const ConfigError& e) {
    std::string what = e.what();
    BOOST_TEST(what.find("4 problems") != std::string::npos);
    for (const auto& i : e.issues()) BOOST_TEST(what.find(i.str()) != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(unreadable_file) {
  try {
    load_config_file(kData + "no-such-file.toml");
    BOOST_FAIL("no error");
  } catch (const ConfigError& e) {
    BOOST_REQUIRE_EQUAL(e.issues().size(), 1u);
    BOOST_TEST(e.issues()[0].message.find("cannot read") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(values)

BOOST_AUTO_TEST_CASE(time_of_day) {
  BOOST_TEST(parse_time_of_day("18:00").value() == 1080);
  BOOST_TEST(parse_time_of_day("8:05").value() == 485);
  BOOST_TEST(parse_time_of_day("00:00").value() == 0);
  BOOST_TEST(parse_time_of_day("24:00").value() == 1440);
  for (const char* bad : {"24:01", "25:00", "18:60", "1800", "18:0", ":30", "ab:cd", "", "18:00:00",
                          "-1:00", "123:00"})
    BOOST_TEST(!parse_time_of_day(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(units_and_native_toml_times) {
  std::string base = slurp(kData + "good-minimal.toml");
  // yuan -> fen, kg -> g, cm -> mm; a TOML local time is a cutoff too; full province names.
  std::string text = base;
  text.replace(text.find("piece_price = 8"), 15,
               "piece_price = 12.5\nmax_side_cm = 60.5\ndaily_kg = 900\ncutoff = 17:45:00\n"
               "serves = [\"浙江省\", \"新疆维吾尔自治区\"]");
  StationConfig cfg = parse_config(text, "inline.toml");
  const Courier* jd = cfg.courier("jd");
  BOOST_REQUIRE(jd);
  BOOST_TEST(jd->piece_fen == 1250);
  BOOST_TEST(jd->max_side_mm == 605);
  BOOST_TEST(jd->daily_kg == 900);
  BOOST_TEST(jd->cutoff_min == 17 * 60 + 45);
  BOOST_REQUIRE_EQUAL(jd->serves.size(), 2u);
  BOOST_TEST(jd->serves[0] == "浙江");
  BOOST_TEST(jd->serves[1] == "新疆");
}

BOOST_AUTO_TEST_CASE(device_options_are_kept_for_the_driver) {
  std::string text = slurp(kData + "good-minimal.toml") +
                     "\n[[devices]]\nname = \"plc\"\nkind = \"sorter\"\ndriver = \"modbus-tcp\"\n"
                     "host = \"127.0.0.1\"\nport = 1502\nrtu = false\nchutes = [1, 2, 3]\n"
                     "map = { sequence = 100, ack = 101 }\n";
  StationConfig cfg = parse_config(text, "inline.toml");
  BOOST_REQUIRE_EQUAL(cfg.devices.size(), 2u);
  const auto& d = cfg.devices[1];
  BOOST_TEST(d.name == "plc");
  BOOST_TEST(d.options.at("host") == "127.0.0.1");
  BOOST_TEST(d.options.at("port") == "1502");
  BOOST_TEST(d.options.at("rtu") == "false");
  BOOST_TEST(d.options.at("chutes") == "1,2,3");
  BOOST_TEST(d.options.at("map.sequence") == "100");
  BOOST_TEST(d.options.at("map.ack") == "101");
  BOOST_TEST(d.options.size() == 6u);
  BOOST_TEST(d.line > cfg.devices[0].line);
}

BOOST_AUTO_TEST_CASE(garbage_is_rejected_not_crashed_on) {
  for (std::string junk : {std::string("\x00\x01\x02", 3), std::string("[[[["), std::string("=1"),
                           std::string("\xff\xfe\xfd"), std::string(""), std::string("a = 1")}) {
    BOOST_CHECK_THROW(parse_config(junk, "junk.toml"), ConfigError);
  }
}

BOOST_AUTO_TEST_SUITE_END()

// An independent TOML parser (Python's standard tomllib) reads the same files.
BOOST_AUTO_TEST_SUITE(peer)

namespace {
std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  BOOST_REQUIRE(p);
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  BOOST_REQUIRE_MESSAGE(rc == 0, cmd << " failed: " << out);
  return out;
}
}  // namespace

BOOST_AUTO_TEST_CASE(python_tomllib_reads_the_demo_station_the_same) {
  // Prints: one line per courier "id|pieces fen or -|cutoff", then one per lane "id|chute|kind".
  std::string py =
      "import sys, tomllib\n"
      "d = tomllib.load(open(sys.argv[1], 'rb'))\n"
      "for c in d['couriers']:\n"
      "    p = c.get('piece_price')\n"
      "    print(c['id'], '-' if p is None else round(p * 100), c.get('cutoff', '24:00'), "
      "sep='|')\n"
      "for l in d['lanes']:\n"
      "    print(l['id'], l['chute'], l.get('kind', 'courier'), sep='|')\n";
  std::ofstream("peer_demo.py") << py;
  std::string theirs = run("/usr/bin/python3 peer_demo.py " + kDemo);

  StationConfig cfg = load_config_file(kDemo);
  std::string ours;
  for (const Courier& c : cfg.couriers) {
    char cut[24];
    std::snprintf(cut, sizeof cut, "%02d:%02d", c.cutoff_min / 60, c.cutoff_min % 60);
    ours += c.id + "|" +
            (c.pricing == Pricing::PerPiece ? std::to_string(c.piece_fen) : std::string("-")) +
            "|" + cut + "\n";
  }
  for (const Lane& l : cfg.lanes)
    ours += std::to_string(l.id) + "|" + std::to_string(l.chute) + "|" + to_string(l.kind) + "\n";
  BOOST_TEST(ours == theirs);
}

BOOST_AUTO_TEST_CASE(python_tomllib_agrees_which_fixtures_are_syntax_errors) {
  std::string py =
      "import sys, tomllib, pathlib\n"
      "for f in sorted(pathlib.Path(sys.argv[1]).glob('*.toml')):\n"
      "    try:\n"
      "        tomllib.loads(f.read_text('utf-8')); print(f.name, 'ok')\n"
      "    except tomllib.TOMLDecodeError:\n"
      "        print(f.name, 'syntax')\n";
  std::ofstream("peer_fixtures.py") << py;
  std::istringstream theirs(run("/usr/bin/python3 peer_fixtures.py " + kData));
  std::string name, verdict;
  int files = 0;
  while (theirs >> name >> verdict) {
    ++files;
    bool our_syntax = false;
    try {
      load_config_file(kData + name);
    } catch (const ConfigError& e) {
      our_syntax = e.issues().at(0).message.rfind("TOML syntax error", 0) == 0;
    }
    BOOST_TEST(our_syntax == (verdict == "syntax"), name);
  }
  BOOST_TEST(files >= 20);
}

BOOST_AUTO_TEST_SUITE_END()
