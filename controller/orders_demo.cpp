// Demo orders (deterministic, realistic) and the writers for the CSV and JSON order formats.
#include <cmath>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "orders.h"

namespace sortd {

// ---------------------------------------------------------------------------------------------
// Writers

namespace {

void csv_field(std::string& out, std::string_view v) {
  bool quote = v.find_first_of(",\"\r\n") != std::string_view::npos ||
               (!v.empty() &&
                (v.front() == ' ' || v.back() == ' ' || v.front() == '\t' || v.back() == '\t'));
  if (!quote) {
    out.append(v);
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void csv_list(std::string& out, const std::vector<std::string>& items) {
  std::string joined;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) joined += '|';
    joined += items[i];
  }
  csv_field(out, joined);
}

// 1250 g -> "1.25"; 2000 -> "2"
std::string kg(std::int32_t g) {
  std::string s = std::to_string(g / 1000);
  int frac = g % 1000;
  if (frac) {
    char buf[8];
    std::snprintf(buf, sizeof buf, ".%03d", frac);
    std::string f = buf;
    while (f.back() == '0') f.pop_back();
    s += f;
  }
  return s;
}

// 12850 fen -> "128.50"; 0 -> ""
std::string yuan(Fen f) {
  if (f == 0) return {};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%02lld", static_cast<long long>(f / 100),
                static_cast<long long>(f % 100));
  return buf;
}

}  // namespace

std::string orders_csv_header() {
  return "order_id,codes,province,city,district,postcode,address,recipient,phone,weight_kg,"
         "length_mm,width_mm,height_mm,cod,invoice,service,pickup_point,fragile,preferred,"
         "forbidden,status\r\n";
}

void append_order_csv(std::string& out, const Order& o) {
  csv_field(out, o.id);
  out += ',';
  csv_list(out, o.codes);
  for (const std::string* s :
       {&o.province, &o.city, &o.district, &o.postcode, &o.address, &o.recipient, &o.phone}) {
    out += ',';
    csv_field(out, *s);
  }
  out += ',';
  out += kg(o.weight_g);
  for (std::int32_t d : {o.length_mm, o.width_mm, o.height_mm}) {
    out += ',';
    if (d) out += std::to_string(d);
  }
  out += ',';
  out += yuan(o.cod_fen);
  out += o.invoice ? ",1," : ",0,";
  out += to_string(o.service);
  out += o.pickup_point ? ",1" : ",0";
  out += o.fragile ? ",1," : ",0,";
  csv_list(out, o.preferred);
  out += ',';
  csv_list(out, o.forbidden);
  out += ',';
  out += to_string(o.status);
  out += "\r\n";
}

std::string orders_to_csv(const std::vector<Order>& orders) {
  std::string out = orders_csv_header();
  out.reserve(orders.size() * 200);
  for (const auto& o : orders) append_order_csv(out, o);
  return out;
}

std::string orders_to_json(const std::vector<Order>& orders) {
  std::string out = "{\"orders\": [\n";
  for (std::size_t i = 0; i < orders.size(); ++i) {
    const Order& o = orders[i];
    nlohmann::ordered_json j;
    j["order_id"] = o.id;
    j["codes"] = o.codes;
    j["province"] = o.province;
    j["city"] = o.city;
    j["district"] = o.district;
    j["postcode"] = o.postcode;
    j["address"] = o.address;
    j["recipient"] = o.recipient;
    j["phone"] = o.phone;
    j["weight_g"] = o.weight_g;
    if (o.length_mm || o.width_mm || o.height_mm) {
      j["length_mm"] = o.length_mm;
      j["width_mm"] = o.width_mm;
      j["height_mm"] = o.height_mm;
    }
    j["cod_fen"] = o.cod_fen;
    j["invoice"] = o.invoice;
    j["service"] = to_string(o.service);
    j["pickup_point"] = o.pickup_point;
    j["fragile"] = o.fragile;
    j["preferred"] = o.preferred;
    j["forbidden"] = o.forbidden;
    j["status"] = to_string(o.status);
    out += "  ";
    out += j.dump();
    out += i + 1 < orders.size() ? ",\n" : "\n";
  }
  out += "]}\n";
  return out;
}

// ---------------------------------------------------------------------------------------------
// Demo orders

namespace {

// Provinces (P name weight), their cities (C name postcode districts...). Weights are a rough
// share of e-commerce parcels; the remote regions are rare but present.
constexpr const char* kGeo = R"(
P 广东省 160
C 广州市 510000 天河区 越秀区 海珠区 白云区 番禺区 荔湾区
C 深圳市 518000 南山区 福田区 罗湖区 宝安区 龙岗区 龙华区
C 东莞市 523000 -
C 佛山市 528000 禅城区 南海区 顺德区
C 珠海市 519000 香洲区 斗门区
C 汕头市 515000 金平区 龙湖区
P 浙江省 120
C 杭州市 310000 西湖区 上城区 拱墅区 滨江区 余杭区 萧山区
C 宁波市 315000 海曙区 鄞州区 北仑区 江北区
C 温州市 325000 鹿城区 瓯海区 龙湾区
C 金华市 321000 婺城区 义乌市 东阳市
C 绍兴市 312000 越城区 柯桥区
C 嘉兴市 314000 南湖区 秀洲区
P 江苏省 110
C 南京市 210000 玄武区 鼓楼区 秦淮区 建邺区 江宁区
C 苏州市 215000 姑苏区 吴中区 相城区 昆山市 常熟市
C 无锡市 214000 梁溪区 滨湖区 新吴区
C 常州市 213000 天宁区 武进区
C 南通市 226000 崇川区 通州区
C 徐州市 221000 鼓楼区 云龙区
P 山东省 70
C 济南市 250000 历下区 市中区 槐荫区
C 青岛市 266000 市南区 市北区 崂山区 黄岛区
C 烟台市 264000 芝罘区 莱山区
C 潍坊市 261000 奎文区 潍城区
P 上海市 60
C 上海市 200000 浦东新区 徐汇区 静安区 黄浦区 闵行区 宝山区 杨浦区 长宁区
P 北京市 50
C 北京市 100000 朝阳区 海淀区 东城区 西城区 丰台区 通州区 昌平区
P 四川省 50
C 成都市 610000 锦江区 武侯区 青羊区 成华区 金牛区 双流区
C 绵阳市 621000 涪城区 游仙区
C 宜宾市 644000 翠屏区 叙州区
P 河南省 50
C 郑州市 450000 金水区 中原区 二七区 管城回族区
C 洛阳市 471000 洛龙区 西工区
P 福建省 40
C 福州市 350000 鼓楼区 仓山区 台江区
C 厦门市 361000 思明区 湖里区 集美区
C 泉州市 362000 丰泽区 鲤城区 晋江市
P 湖北省 40
C 武汉市 430000 江汉区 洪山区 武昌区 江岸区
C 宜昌市 443000 西陵区 伍家岗区
P 湖南省 30
C 长沙市 410000 岳麓区 芙蓉区 天心区 开福区
C 株洲市 412000 天元区 芦淞区
P 河北省 30
C 石家庄市 050000 长安区 裕华区 桥西区
C 保定市 071000 竞秀区 莲池区
C 唐山市 063000 路北区 路南区
P 安徽省 30
C 合肥市 230000 蜀山区 包河区 庐阳区
C 芜湖市 241000 镜湖区 弋江区
P 陕西省 20
C 西安市 710000 雁塔区 碑林区 未央区 长安区
P 重庆市 20
C 重庆市 400000 渝中区 江北区 南岸区 沙坪坝区 九龙坡区
P 辽宁省 20
C 沈阳市 110000 和平区 沈河区 皇姑区
C 大连市 116000 中山区 甘井子区 沙河口区
P 江西省 20
C 南昌市 330000 东湖区 红谷滩区 青山湖区
C 赣州市 341000 章贡区 南康区
P 广西壮族自治区 20
C 南宁市 530000 青秀区 兴宁区 西乡塘区
C 桂林市 541000 秀峰区 七星区
P 天津市 15
C 天津市 300000 和平区 南开区 河西区 滨海新区
P 云南省 15
C 昆明市 650000 五华区 盘龙区 官渡区
C 大理白族自治州 671000 大理市
P 贵州省 10
C 贵阳市 550000 南明区 云岩区 观山湖区
P 山西省 10
C 太原市 030000 小店区 迎泽区 杏花岭区
P 黑龙江省 10
C 哈尔滨市 150000 南岗区 道里区 香坊区
P 吉林省 10
C 长春市 130000 朝阳区 南关区 绿园区
P 内蒙古自治区 8
C 呼和浩特市 010000 新城区 赛罕区
C 包头市 014000 昆都仑区 青山区
P 海南省 6
C 海口市 570000 龙华区 美兰区
C 三亚市 572000 吉阳区 天涯区
P 甘肃省 6
C 兰州市 730000 城关区 七里河区 安宁区
P 新疆维吾尔自治区 6
C 乌鲁木齐市 830000 天山区 沙依巴克区 新市区 水磨沟区
C 喀什地区 844000 喀什市
C 伊犁哈萨克自治州 835000 伊宁市
P 宁夏回族自治区 3
C 银川市 750000 兴庆区 金凤区
P 青海省 3
C 西宁市 810000 城中区 城西区
P 西藏自治区 3
C 拉萨市 850000 城关区 堆龙德庆区 达孜区
C 日喀则市 857000 桑珠孜区
C 林芝市 860000 巴宜区
)";

struct City {
  std::string name;
  int postcode = 0;
  std::vector<std::string> districts;  // empty: a city without districts (e.g. 东莞市)
};
struct Province {
  std::string name;
  int weight = 0;
  std::vector<City> cities;
};

const std::vector<Province>& geo() {
  static const std::vector<Province> provinces = [] {
    std::vector<Province> ps;
    std::istringstream in(kGeo);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream l(line);
      std::string tag;
      if (!(l >> tag)) continue;
      if (tag == "P") {
        Province p;
        l >> p.name >> p.weight;
        ps.push_back(std::move(p));
      } else {
        City c;
        l >> c.name >> c.postcode;
        std::string d;
        while (l >> d)
          if (d != "-") c.districts.push_back(d);
        ps.back().cities.push_back(std::move(c));
      }
    }
    return ps;
  }();
  return provinces;
}

constexpr const char* kSurnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
                                     "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高",
                                     "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "欧阳"};
constexpr const char* kGiven[] = {
    "伟",   "芳",   "娜",   "敏",   "静",   "丽",   "强",   "磊",   "军",   "洋",   "勇",   "艳",
    "杰",   "娟",   "涛",   "明",   "超",   "秀英", "霞",   "平",   "刚",   "婷",   "建华", "志强",
    "晓东", "丽娟", "子涵", "雨桐", "浩然", "欣怡", "俊杰", "思远", "佳怡", "一鸣", "梓萱"};
constexpr const char* kStreets[] = {
    "人民路", "解放路", "中山路", "建设路", "文三路",   "南京路",   "长江路", "和平路",
    "新华路", "朝阳路", "学院路", "幸福路", "东风路",   "滨江大道", "科技路", "青年路",
    "胜利路", "复兴路", "光明街", "文化路", "环城北路", "创业大道", "园区路", "世纪大道"};
constexpr const char* kEstates[] = {"阳光小区", "翠苑小区",     "金地花园",     "万科城",
                                    "碧桂园",   "世纪花园",     "锦绣家园",     "幸福里",
                                    "滨江花园", "香樟苑",       "绿城桂花园",   "保利天悦",
                                    "融创玖玺", "华润二十四城", "龙湖春江郦城", "恒大名都"};
constexpr const char* kTowers[] = {"国贸大厦", "环球中心", "科创园",   "金融中心",
                                   "创新大厦", "时代广场", "财富中心", "软件园"};
constexpr const char* kCouriers[] = {"sf", "jd", "zto", "yto", "yunda", "ems", "jt"};

// splitmix64: small, fast, and every order has its own stream.
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  bool chance(double p) { return unit() < p; }
  template <typename T, std::size_t N>
  const T& pick(const T (&a)[N]) {
    return a[below(N)];
  }
};

// A bijection of [0, 10^digits) (digits even): a small Feistel network over the two halves, so
// that distinct orders always get distinct codes that do not look sequential.
std::uint64_t permute(std::uint64_t index, std::uint64_t seed, int digits) {
  std::uint64_t half = 1;
  for (int i = 0; i < digits / 2; ++i) half *= 10;
  std::uint64_t l = (index / half) % half, r = index % half;
  for (std::uint64_t round = 0; round < 4; ++round) {
    Rng f{seed ^ (r * 0x9E3779B97F4A7C15ull) ^ (round << 56)};
    std::uint64_t nl = r;
    r = (l + f.next()) % half;
    l = nl;
  }
  return l * half + r;
}

std::string digits(std::uint64_t v, int n) {
  std::string s = std::to_string(v);
  if (static_cast<int>(s.size()) < n) s.insert(0, static_cast<std::size_t>(n) - s.size(), '0');
  return s;
}

Order demo_order(std::uint64_t index, std::uint64_t seed) {
  Rng rng{seed * 0x2545F4914F6CDD1Dull ^ (index + 1) * 0x9E3779B97F4A7C15ull};
  rng.next();
  Order o;
  o.id = "SO" + digits(index + 1, 10);
  o.codes.push_back("PK" + digits(permute(index, seed, 12), 12));
  if (rng.chance(0.25)) o.codes.push_back("DD" + digits(permute(index, seed * 31 + 7, 14), 14));

  // Destination
  const auto& ps = geo();
  int total = 0;
  for (const auto& p : ps) total += p.weight;
  int w = static_cast<int>(rng.below(static_cast<std::uint64_t>(total)));
  const Province* prov = &ps.back();
  for (const auto& p : ps) {
    if (w < p.weight) {
      prov = &p;
      break;
    }
    w -= p.weight;
  }
  // The first city of a province gets about half of its parcels.
  std::size_t ci = rng.chance(0.5) ? 0 : rng.below(prov->cities.size());
  const City& city = prov->cities[ci];
  o.province = prov->name;
  o.city = city.name;
  std::size_t di = 0;
  if (!city.districts.empty()) {
    di = rng.below(city.districts.size());
    o.district = city.districts[di];
  }
  o.postcode = digits(static_cast<std::uint64_t>(city.postcode) + di * 10 + rng.below(3), 6);
  std::string street = rng.pick(kStreets);
  int num = 1 + static_cast<int>(rng.below(999));
  double form = rng.unit();
  if (o.district.empty() && rng.chance(0.7)) {
    static constexpr const char* kTowns[] = {"长安镇", "虎门镇", "塘厦镇", "松山湖"};
    o.address = rng.pick(kTowns);
  }
  // One draw per statement: the operands of + are unsequenced, so two draws in one expression
  // would give different orders with different compilers.
  if (form < 0.6) {
    const std::string estate = rng.pick(kEstates);
    const auto building = 1 + rng.below(30);
    const auto unit = 1 + rng.below(4);
    const auto floor = 1 + rng.below(28);
    const auto room = floor * 100 + 1 + rng.below(4);
    o.address += street + std::to_string(num) + "号" + estate + std::to_string(building) + "幢" +
                 std::to_string(unit) + "单元" + std::to_string(room) + "室";
  } else if (form < 0.85) {
    const std::string tower = rng.pick(kTowers);
    const int floor = 2 + static_cast<int>(rng.below(40));
    const int room = floor * 100 + 1 + static_cast<int>(rng.below(20));
    o.address += street + std::to_string(num) + "号" + tower + std::to_string(floor) + "楼" +
                 std::to_string(room);
  } else if (form < 0.95) {
    o.address += street + std::to_string(num) + "号" + "一楼商铺";
  } else {
    o.address += street + std::to_string(num) + "号" + rng.pick(kEstates) + "菜鸟驿站";
  }
  const std::string surname = rng.pick(kSurnames);
  o.recipient = surname + rng.pick(kGiven);
  static constexpr const char* kMobile[] = {"13", "15", "17", "18", "19"};
  const std::string prefix = rng.pick(kMobile);
  std::string phone = prefix + digits(rng.below(1'000'000'000), 9);
  if (rng.chance(0.05)) phone = phone.substr(0, 3) + "****" + phone.substr(7);
  o.phone = phone;

  // Weight and size
  double u = rng.unit();
  double kgs = u < 0.45    ? 0.1 + rng.unit() * 0.9
               : u < 0.80  ? 1.0 + rng.unit() * 2.0
               : u < 0.92  ? 3.0 + rng.unit() * 7.0
               : u < 0.98  ? 10.0 + rng.unit() * 20.0
               : u < 0.995 ? 30.0 + rng.unit() * 20.0
                           : 50.0 + rng.unit() * 30.0;  // over most couriers' limits
  o.weight_g = std::max(50, static_cast<int>(std::lround(kgs * 100)) * 10);
  if (!rng.chance(0.1)) {
    // Density in g/cm^3: most parcels 0.15..0.4, some bulky and light (pillows, toys).
    double density = rng.chance(0.06) ? 0.03 + rng.unit() * 0.04 : 0.15 + rng.unit() * 0.25;
    double volume_cm3 = o.weight_g / density;
    double l = 1.0 + rng.unit() * 0.8, wd = 0.7 + rng.unit() * 0.3, h = 0.3 + rng.unit() * 0.5;
    double k = std::cbrt(volume_cm3 / (l * wd * h));
    auto mm = [](double cm) { return std::max(50, static_cast<int>(std::lround(cm)) * 10); };
    o.length_mm = mm(l * k);
    o.width_mm = mm(wd * k);
    o.height_mm = mm(h * k);
    if (o.width_mm > o.length_mm) std::swap(o.width_mm, o.length_mm);
  }

  // Mode
  if (rng.chance(0.12)) {
    double c = rng.unit();
    long yuan_whole = c < 0.70   ? 19 + static_cast<long>(rng.below(480))
                      : c < 0.95 ? 500 + static_cast<long>(rng.below(2500))
                      : c < 0.99 ? 3000 + static_cast<long>(rng.below(5000))
                                 : 8000 + static_cast<long>(rng.below(25000));  // over most limits
    o.cod_fen = yuan_whole * 100 + (rng.chance(0.5) ? 90 : 0);
  }
  o.invoice = rng.chance(0.18);
  double s = rng.unit();
  o.service = s < 0.72   ? ServiceLevel::Standard
              : s < 0.94 ? ServiceLevel::Express
                         : ServiceLevel::SameDay;
  o.pickup_point = rng.chance(0.10);
  o.fragile = rng.chance(0.08);
  if (rng.chance(0.04)) {
    static constexpr const char* kPreferred[] = {"sf", "sf", "sf", "jd", "jd", "ems", "zto", "yto"};
    o.preferred.push_back(rng.pick(kPreferred));
  }
  if (rng.chance(0.03)) {
    std::string a = rng.pick(kCouriers);
    if (o.preferred.empty() || o.preferred[0] != a) o.forbidden.push_back(a);
    if (rng.chance(0.3)) {
      std::string b = rng.pick(kCouriers);
      bool clash = (!o.preferred.empty() && o.preferred[0] == b) ||
                   (!o.forbidden.empty() && o.forbidden[0] == b);
      if (!clash) o.forbidden.push_back(b);
    }
  }
  double st = rng.unit();
  o.status = st < 0.010   ? OrderStatus::Held
             : st < 0.025 ? OrderStatus::Cancelled
                          : OrderStatus::Active;
  return o;
}

}  // namespace

std::vector<Order> make_demo_orders(std::size_t n, std::uint64_t seed, std::size_t first) {
  std::vector<Order> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(demo_order(first + i, seed));
  return out;
}

}  // namespace sortd
