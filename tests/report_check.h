// Checks a report (controller/reports.h) against the store it was made from, figure by figure,
// with independent queries: plain COUNT(*) / sum() per period, where the period of a row is
// found with SQLite's own date functions (strftime with the station's offset), not with the
// report's integer arithmetic.
#pragma once

#include <sqlite3.h>

#include <boost/test/unit_test.hpp>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace report_check {

using nlohmann::json;

// Every row of a query, columns joined with '|', rows with '\n'.
inline std::string rows(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  BOOST_REQUIRE_MESSAGE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK,
                        sqlite3_errmsg(db) << ": " << sql);
  std::string out;
  while (sqlite3_step(s) == SQLITE_ROW) {
    for (int i = 0; i < sqlite3_column_count(s); ++i) {
      if (i) out += '|';
      const unsigned char* t = sqlite3_column_text(s, i);
      out += t ? reinterpret_cast<const char*>(t) : "";
    }
    out += '\n';
  }
  sqlite3_finalize(s);
  return out;
}
inline std::int64_t count(sqlite3* db, const std::string& sql) {
  const std::string r = rows(db, sql);
  return r.empty() ? 0 : std::stoll(r);
}

// The period label of a time column, by SQLite's date functions.
inline std::string label_sql(const std::string& col, const json& rep) {
  const bool hour = rep["period"] == "hour";
  return "strftime('" + std::string(hour ? "%Y-%m-%d %H:00" : "%Y-%m-%d") + "', " + col +
         " / 1000, 'unixepoch', '" + std::to_string(rep["utc_offset_min"].get<int>()) +
         " minutes')";
}

// CSV back into {period|section|key|metric -> value}.
inline std::map<std::string, std::string> parse_csv(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  BOOST_REQUIRE(std::getline(in, line));
  BOOST_CHECK_EQUAL(line, "period,section,key,metric,value\r");
  while (std::getline(in, line)) {
    BOOST_REQUIRE_MESSAGE(!line.empty() && line.back() == '\r', "no CRLF: " << line);
    line.pop_back();
    std::vector<std::string> f(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (quoted) {
        if (c == '"' && i + 1 < line.size() && line[i + 1] == '"')
          f.back() += '"', ++i;
        else if (c == '"')
          quoted = false;
        else
          f.back() += c;
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        f.emplace_back();
      } else {
        f.back() += c;
      }
    }
    BOOST_REQUIRE_MESSAGE(f.size() == 5, "not 5 fields: " << line);
    const std::string key = f[0] + "|" + f[1] + "|" + f[2] + "|" + f[3];
    BOOST_CHECK_MESSAGE(out.emplace(key, f[4]).second, "twice: " << key);
  }
  return out;
}

// Compares every figure of `rep` with the stored rows; returns how many figures were checked.
inline std::size_t check_report(sqlite3* db, const json& rep) {
  std::size_t checked = 0;
  const std::string range_p = " created_ms >= " + std::to_string(rep["from_ms"].get<long long>()) +
                              " AND created_ms < " + std::to_string(rep["to_ms"].get<long long>());
  auto range_t = [&](const std::string& col) {
    return " " + col + " >= " + std::to_string(rep["from_ms"].get<long long>()) + " AND " + col +
           " < " + std::to_string(rep["to_ms"].get<long long>());
  };
  auto check = [&](const json& got, std::int64_t want, const std::string& what) {
    BOOST_CHECK_MESSAGE(got.is_number_integer() && got.get<std::int64_t>() == want,
                        what << ": report " << got.dump() << ", store " << want);
    ++checked;
  };
  std::vector<json> buckets(rep["buckets"].begin(), rep["buckets"].end());
  json total = rep["total"];
  total["start"] = "";  // the whole range
  buckets.push_back(total);
  json sum = json::object();
  for (const auto& b : buckets) {
    const std::string label = b["start"];
    const bool is_total = label.empty();
    const std::string where_p =
        is_total ? range_p
                 : range_p + " AND " + label_sql("created_ms", rep) + " = '" + label + "'";
    auto where_t = [&](const std::string& col) {
      return is_total ? range_t(col)
                      : range_t(col) + " AND " + label_sql(col, rep) + " = '" + label + "'";
    };
    const std::string at = " [" + (is_total ? std::string("total") : label) + "]";
    check(b["parcels"], count(db, "SELECT count(*) FROM parcels WHERE" + where_p), "parcels" + at);
    check(b["sorted"],
          count(db, "SELECT count(*) FROM parcels WHERE" + where_p +
                        " AND state = 'diverted' AND exception = 'none'"),
          "sorted" + at);
    check(b["exceptions"],
          count(db, "SELECT count(*) FROM parcels WHERE" + where_p + " AND exception <> 'none'"),
          "exceptions" + at);
    check(b["in_flight"],
          count(db, "SELECT count(*) FROM parcels WHERE" + where_p +
                        " AND exception = 'none' AND state IN ('decided', 'commanded')"),
          "in_flight" + at);
    // The three make up every parcel.
    BOOST_CHECK_EQUAL(b["parcels"].get<std::int64_t>(), b["sorted"].get<std::int64_t>() +
                                                            b["exceptions"].get<std::int64_t>() +
                                                            b["in_flight"].get<std::int64_t>());
    check(b["reads"], count(db, "SELECT count(*) FROM reads WHERE" + where_t("time_ms")),
          "reads" + at);
    check(b["no_reads"],
          count(db, "SELECT count(*) FROM reads WHERE" + where_t("time_ms") +
                        " AND (no_read = 1 OR json_array_length(codes) = 0)"),
          "no_reads" + at);
    for (const char* o : {"diverted", "recirculated", "rejected", "lost"})
      check(b["confirmations"][o],
            count(db, "SELECT count(*) FROM confirmations WHERE" + where_t("time_ms") +
                          " AND outcome = '" + o + "'"),
            std::string("confirmations ") + o + at);
    check(b["recirculated"], b["confirmations"]["recirculated"].get<std::int64_t>(),
          "recirculated" + at);
    for (const auto& [k, kind] :
         {std::pair{"missorts", "missort"}, std::pair{"not_taken", "not_taken"},
          std::pair{"not_on_manifest", "not_on_manifest"}})
      check(b[k],
            count(db, "SELECT count(*) FROM handover_issues WHERE" + where_t("time_ms") +
                          " AND kind = '" + kind + "'"),
            std::string(k) + at);
    // Rates from the counts.
    if (b["reads"].get<std::int64_t>() > 0)
      BOOST_CHECK_CLOSE(b["read_rate"].get<double>(),
                        double(b["reads"].get<std::int64_t>() - b["no_reads"].get<std::int64_t>()) /
                            double(b["reads"].get<std::int64_t>()),
                        1e-9);
    else
      BOOST_CHECK(b["read_rate"].is_null());
    if (b["parcels"].get<std::int64_t>() > 0)
      BOOST_CHECK_CLOSE(
          b["recirculation_rate"].get<double>(),
          double(b["recirculated"].get<std::int64_t>()) / double(b["parcels"].get<std::int64_t>()),
          1e-9);
    // By courier: parcels from `parcels`, handover issues from `handover_issues`.
    std::string want;
    for (const auto& c : b["by_courier"])
      want += c["courier"].get<std::string>() + "|" + c["parcels"].dump() + "|" +
              c["sorted"].dump() + "|" + c["grams"].dump() + "|" + c["missorts"].dump() + "|" +
              c["not_taken"].dump() + "|" + c["not_on_manifest"].dump() + "\n";
    const std::string got = rows(
        db,
        "SELECT courier, sum(n), sum(s), sum(g), sum(m), sum(t), sum(x) FROM (SELECT courier, "
        "count(*) n, sum(state = 'diverted' AND exception = 'none') s, sum(weight_g) g, 0 m, 0 "
        "t, 0 x FROM parcels WHERE" +
            where_p +
            " GROUP BY courier UNION ALL SELECT courier, 0, 0, 0, sum(kind = 'missort'), "
            "sum(kind = 'not_taken'), sum(kind = 'not_on_manifest') FROM handover_issues "
            "WHERE" +
            where_t("time_ms") + " GROUP BY courier) GROUP BY courier ORDER BY courier");
    BOOST_CHECK_MESSAGE(got == want, "by courier" << at << ":\nreport\n"
                                                  << want << "store\n"
                                                  << got);
    ++checked;
    want.clear();
    for (const auto& l : b["by_lane"])
      want += l["lane"].dump() + "|" + l["parcels"].dump() + "|" + l["sorted"].dump() + "\n";
    const std::string got_l =
        rows(db,
             "SELECT lane, count(*), sum(state = 'diverted' AND exception = 'none') FROM "
             "parcels WHERE" +
                 where_p + " GROUP BY lane ORDER BY lane");
    BOOST_CHECK_MESSAGE(got_l == want, "by lane" << at << ":\nreport\n"
                                                 << want << "store\n"
                                                 << got_l);
    ++checked;
    want.clear();
    for (const auto& e : b["exceptions_by_reason"])
      want += e["reason"].get<std::string>() + "|" + e["parcels"].dump() + "\n";
    const std::string got_e = rows(db, "SELECT exception, count(*) FROM parcels WHERE" + where_p +
                                           " AND exception <> 'none' GROUP BY exception ORDER BY "
                                           "exception");
    BOOST_CHECK_MESSAGE(got_e == want, "exceptions by reason" << at << ":\nreport\n"
                                                              << want << "store\n"
                                                              << got_e);
    ++checked;
    if (!is_total)
      for (const char* k : {"parcels", "sorted", "exceptions", "in_flight", "reads", "no_reads",
                            "recirculated", "missorts", "not_taken", "not_on_manifest"})
        sum[k] = sum.value(k, std::int64_t{0}) + b[k].get<std::int64_t>();
  }
  for (const auto& [k, v] : sum.items()) check(rep["total"][k], v.get<std::int64_t>(), "sum " + k);
  // Capacity: the ledger's rows for the days of the range.
  std::string want;
  for (const auto& c : rep["capacity"])
    want += c["day"].get<std::string>() + "|" + c["courier"].get<std::string>() + "|" +
            c["parcels"].dump() + "|" + c["grams"].dump() + "\n";
  const int off = rep["utc_offset_min"].get<int>();
  const std::string got =
      rows(db,
           "SELECT date(day * 86400, 'unixepoch'), courier, parcels, grams FROM capacity WHERE "
           "date(day * 86400, 'unixepoch') BETWEEN strftime('%Y-%m-%d', " +
               std::to_string(rep["from_ms"].get<long long>()) + " / 1000, 'unixepoch', '" +
               std::to_string(off) + " minutes') AND strftime('%Y-%m-%d', (" +
               std::to_string(rep["to_ms"].get<long long>()) + " - 1) / 1000, 'unixepoch', '" +
               std::to_string(off) + " minutes') ORDER BY day, courier");
  BOOST_CHECK_MESSAGE(got == want, "capacity:\nreport\n" << want << "store\n" << got);
  ++checked;
  return checked;
}

}  // namespace report_check
