// sortd: Chinese provincial-level regions, shared by the configuration check and routing.
// Header-only so that both parts (and the order import) can use it without linking each other.
//
// Province names are compared in their short form ("浙江", "新疆", "北京"); the full forms
// ("浙江省", "新疆维吾尔自治区", "北京市") are accepted everywhere and normalised to it. City names
// drop a trailing "市" ("杭州市" -> "杭州").
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace sortd::regions {

// The 34 provincial-level divisions, short names. Index = province id used by routing.
inline constexpr std::array<std::string_view, 34> kProvinces{
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海",
    "江苏", "浙江", "安徽", "福建", "江西",   "山东", "河南", "湖北",   "湖南",
    "广东", "广西", "海南", "重庆", "四川",   "贵州", "云南", "西藏",   "陕西",
    "甘肃", "青海", "宁夏", "新疆", "台湾",   "香港", "澳门"};
inline constexpr int kProvinceCount = static_cast<int>(kProvinces.size());

inline bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Short form of a province name; unchanged when it has no known suffix.
inline std::string_view province_short(std::string_view s) {
  s = trim(s);
  static constexpr std::array<std::string_view, 7> kSuffixes{
      "特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"};
  for (auto suf : kSuffixes)
    if (ends_with(s, suf) && s.size() > suf.size()) return s.substr(0, s.size() - suf.size());
  return s;
}

// Province id (index in kProvinces) or -1 when the name is not a province.
inline int province_id(std::string_view s) {
  std::string_view n = province_short(s);
  for (int i = 0; i < kProvinceCount; ++i)
    if (kProvinces[static_cast<std::size_t>(i)] == n) return i;
  return -1;
}

// City name without a trailing "市" (kept when the name would become shorter than two characters).
inline std::string_view city_short(std::string_view s) {
  s = trim(s);
  constexpr std::string_view kShi = "市";
  if (ends_with(s, kShi) && s.size() >= kShi.size() + 6) s.remove_suffix(kShi.size());
  return s;
}

}  // namespace sortd::regions
