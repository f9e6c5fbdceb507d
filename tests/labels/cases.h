// Test data shared by the label tests: a station with two couriers, Chinese parcels in every
// mode, and every template kind x size x dpi.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "events.h"
#include "label.h"
#include "model.h"

namespace sortd::test {

inline StationConfig label_station() {
  StationConfig c;
  c.station_id = "sh-01";
  Courier sf;
  sf.id = "sf";
  sf.name = "顺丰速运";
  sf.color = "#000000";
  Courier yto;
  yto.id = "yto";
  yto.name = "圆通速递";
  yto.color = "#5b2c83";
  c.couriers = {sf, yto};
  Lane l7;
  l7.id = 7;
  l7.chute = 7;
  l7.courier = "sf";
  l7.regions = {"广东省", "广西壮族自治区/南宁市"};
  Lane l3;
  l3.id = 3;
  l3.chute = 3;
  l3.courier = "yto";
  l3.regions = {"浙江省/杭州市", "上海市"};
  c.lanes = {l7, l3};
  return c;
}

inline Order chinese_order(const std::string& tracking) {
  Order o;
  o.id = "SO20261122-0001";
  o.codes = {tracking, "ORD-88001"};
  o.province = "广东省";
  o.city = "深圳市";
  o.district = "南山区";
  o.postcode = "518057";
  o.address = "科技园南区深南大道10000号 腾讯滨海大厦 A座 12楼";
  o.recipient = "张三丰";
  o.phone = "13812345678";
  o.weight_g = 1250;
  return o;
}

struct LabelCase {
  std::string id;  // file-name friendly
  PrintJob job;
  std::map<std::string, std::string> extra;
  // Expected content of each barcode, by template element name, from the job's own data.
  std::map<std::string, std::string> expect;
  bool gs1 = false;
};

inline std::vector<LabelCase> label_cases() {
  std::vector<LabelCase> cases;
  {  // default template, COD and invoice
    LabelCase c;
    c.id = "parcel-yto-cod";
    c.job.job_id = 1001;
    c.job.parcel_id = 42;
    c.job.courier = "yto";
    c.job.lane = 3;
    c.job.order = chinese_order("YT7788990011223");
    c.job.order.province = "浙江省";
    c.job.order.city = "杭州市";
    c.job.order.district = "西湖区";
    c.job.order.cod_fen = 12850;
    c.job.order.invoice = true;
    c.expect["tracking_barcode"] = "YT7788990011223";
    c.expect["qr"] = "YT7788990011223|SO20261122-0001|浙江省|杭州市|西湖区|3";
    cases.push_back(c);
  }
  {  // courier sf's own template (QR + Data Matrix), an exception label
    LabelCase c;
    c.id = "parcel-sf-exception";
    c.job.job_id = 1002;
    c.job.parcel_id = 43;
    c.job.courier = "sf";
    c.job.lane = 7;
    c.job.order = chinese_order("SF1402345678901");
    c.job.exception = ExceptionKind::MultiRead;
    c.job.reason = "一次读到两个包裹的条码 (two parcels in one read)";
    c.expect["tracking_barcode"] = "SF1402345678901";
    c.expect["qr"] = "SF1402345678901|SO20261122-0001|广东省|深圳市|南山区|7";
    c.expect["datamatrix"] = "SF1402345678901|L07";
    cases.push_back(c);
  }
  {  // a GS1 tracking code (SSCC) -> GS1-128
    LabelCase c;
    c.id = "parcel-gs1";
    c.job.job_id = 1003;
    c.job.parcel_id = 44;
    c.job.courier = "yto";
    c.job.lane = 3;
    c.job.order = chinese_order("(00)069412345678901238");
    c.expect["tracking_barcode"] = "00069412345678901238";
    c.expect["qr"] = "(00)069412345678901238|SO20261122-0001|广东省|深圳市|南山区|3";
    c.gs1 = true;
    cases.push_back(c);
  }
  {
    LabelCase c;
    c.id = "lane-sf";
    c.job.job_id = 1004;
    c.job.kind = "lane";
    c.job.courier = "sf";
    c.job.lane = 7;
    c.expect["lane_barcode"] = "LANE07";
    cases.push_back(c);
  }
  {
    LabelCase c;
    c.id = "bag-yto";
    c.job.job_id = 1005;
    c.job.kind = "bag";
    c.job.courier = "yto";
    c.job.lane = 3;
    c.extra = {{"bag_id", "BAG-YTO-20261122-03-004"},
               {"count", "37"},
               {"weight_kg", "18.40"},
               {"closed_at", "2026-11-22 16:05"},
               {"station", "上海一号站 sh-01"}};
    c.expect["bag_barcode"] = "BAG-YTO-20261122-03-004";
    cases.push_back(c);
  }
  return cases;
}

inline std::vector<labels::LabelSize> label_sizes() {
  return {{100, 150, 203}, {100, 150, 300}, {76, 130, 203}, {76, 130, 300}};
}

inline std::string size_id(const labels::LabelSize& s) {
  return std::to_string(static_cast<int>(s.width_mm)) + "x" +
         std::to_string(static_cast<int>(s.height_mm)) + "-" + std::to_string(s.dpi);
}

}  // namespace sortd::test
