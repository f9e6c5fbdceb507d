// The SQLite store: migrations (from empty, re-open, upgrade from version 1, a newer database
// refused), apply() of every StoreOp read back row by row, rollback of a failing transaction,
// recover() after a sequence of parcel steps, order upserts, WAL checkpoints. The sqlite3
// command-line shell checks the files independently (integrity and foreign keys).
#define BOOST_TEST_MODULE store
#include <boost/test/unit_test.hpp>

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "orders.h"
#include "store.h"
#include "temp_dir.h"

using namespace sortd;
namespace fs = std::filesystem;

using sortd::test::TempDir;

namespace {

// One value of a query on the store's own connection.
std::string q1(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  BOOST_REQUIRE_MESSAGE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK,
                        sqlite3_errmsg(db) << ": " << sql);
  std::string v = "<no row>";
  if (sqlite3_step(s) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(s, 0);
    v = t ? reinterpret_cast<const char*>(t) : "<null>";
  }
  sqlite3_finalize(s);
  return v;
}
// Every row of a query, columns joined with '|', rows with '\n'.
std::string rows(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  BOOST_REQUIRE_MESSAGE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK,
                        sqlite3_errmsg(db) << ": " << sql);
  std::string out;
  while (sqlite3_step(s) == SQLITE_ROW) {
    for (int i = 0; i < sqlite3_column_count(s); ++i) {
      if (i) out += '|';
      const unsigned char* t = sqlite3_column_text(s, i);
      out += t ? reinterpret_cast<const char*>(t) : "<null>";
    }
    out += '\n';
  }
  sqlite3_finalize(s);
  return out;
}

// The sqlite3 shell, an independent reader of the file.
std::string shell(const std::string& db, const std::string& sql) {
  std::string cmd = "sqlite3 -batch '" + db + "' \"" + sql + "\" 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  BOOST_REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

void raw_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  BOOST_REQUIRE_MESSAGE(rc == SQLITE_OK, (err ? err : "?"));
  sqlite3_close(db);
}

std::string str(std::int64_t v) {
  return std::to_string(v);
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

std::vector<Order> all_orders(const Store& s) {
  std::vector<Order> out;
  s.for_each_order([&](Order&& o) { out.push_back(std::move(o)); });
  return out;
}

constexpr TimeMs kT0 = 1'710'000'000'000;  // 2024-03-09

// The operations of one parcel step as the core would write them.
std::vector<StoreOp> parcel_step(std::uint64_t parcel, std::uint64_t read_id, std::uint32_t seq,
                                 const std::string& order, const std::string& courier, int lane,
                                 TimeMs t, std::int32_t day) {
  StoreRead r;
  r.read_id = read_id;
  r.parcel_id = parcel;
  r.time = t;
  r.read.scanner = "scan1";
  r.read.tracking_id = 1000 + static_cast<std::uint32_t>(parcel);
  r.read.codes = {{"PK" + str(static_cast<std::int64_t>(parcel)), "C1"}};
  StoreDecision d;
  d.parcel_id = parcel;
  d.order_id = order;
  d.tracking_id = r.read.tracking_id;
  d.time = t + 1;
  d.courier = courier;
  d.lane = lane;
  d.chute = lane + 100;
  d.reason = "";
  d.candidates_json = R"({"ranked":[{"courier":")" + courier + R"(","score":0.8}],"excluded":[]})";
  d.weight_g = 1200;
  d.day = day;
  StoreSortCommand c{seq, parcel, r.read.tracking_id, lane + 100, t + 2};
  StoreCapacity cap{day, courier, 1, 1200};
  return {r, d, c, cap};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(migrations)

BOOST_AUTO_TEST_CASE(from_empty_and_pragmas) {
  TempDir dir;
  Store s(dir.db());
  BOOST_TEST(s.schema_version() == Store::current_schema_version());
  BOOST_TEST(Store::current_schema_version() >= 2);
  sqlite3* db = s.handle();
  BOOST_TEST(q1(db, "PRAGMA journal_mode") == "wal");
  BOOST_TEST(q1(db, "PRAGMA synchronous") == "2");  // FULL
  BOOST_TEST(q1(db, "PRAGMA foreign_keys") == "1");
  BOOST_TEST(q1(db, "PRAGMA wal_autocheckpoint") == "0");
  BOOST_TEST(q1(db, "PRAGMA busy_timeout") != "0");
  for (const char* t :
       {"orders", "order_codes", "parcels", "reads", "decisions", "sort_commands", "confirmations",
        "label_jobs", "lanes", "capacity", "alarms", "alarm_log", "audit"})
    BOOST_TEST(q1(db, std::string("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                  "name = '") +
                          t + "'") == "1",
               t);
  for (const char* i : {"order_codes_order", "parcels_order", "parcels_open", "reads_parcel",
                        "decisions_parcel", "sort_commands_seq"})
    BOOST_TEST(q1(db, std::string("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                                  "name = '") +
                          i + "'") == "1",
               i);
}

BOOST_AUTO_TEST_CASE(reopen_is_idempotent) {
  TempDir dir;
  auto orders = make_demo_orders(10, 1);
  {
    Store s(dir.db());
    s.upsert_orders(orders);
  }
  std::string schema;
  {
    Store s(dir.db());
    BOOST_TEST(s.schema_version() == Store::current_schema_version());
    BOOST_TEST(s.order_count() == 10u);
    schema = rows(s.handle(), "SELECT sql FROM sqlite_master ORDER BY name");
  }
  Store s(dir.db());
  BOOST_TEST(rows(s.handle(), "SELECT sql FROM sqlite_master ORDER BY name") == schema);
  BOOST_TEST(s.order_count() == 10u);
}

BOOST_AUTO_TEST_CASE(upgrade_from_version_1_keeps_data) {
  TempDir dir;
  raw_exec(dir.db(), Store::migration_sql(1) +
                         "PRAGMA user_version = 1;"
                         "INSERT INTO orders (id, province, city, address, weight_g) VALUES "
                         "('OLD1', '浙江省', '杭州市', '文一路1号', 500);"
                         "INSERT INTO order_codes (code, order_id, pos) VALUES ('OLDCODE', 'OLD1', "
                         "0);");
  Store s(dir.db());
  BOOST_TEST(s.schema_version() == Store::current_schema_version());
  auto orders = all_orders(s);
  BOOST_TEST_REQUIRE(orders.size() == 1u);
  BOOST_TEST(orders[0].id == "OLD1");
  BOOST_TEST(orders[0].codes == std::vector<std::string>{"OLDCODE"});
  BOOST_TEST(orders[0].weight_g == 500);
  BOOST_TEST(q1(s.handle(), "SELECT count(*) FROM parcels") == "0");
}

BOOST_AUTO_TEST_CASE(newer_database_is_refused) {
  TempDir dir;
  const int future = Store::current_schema_version() + 1;
  raw_exec(dir.db(), "CREATE TABLE x (a); PRAGMA user_version = " + str(future) + ";");
  try {
    Store s(dir.db());
    BOOST_FAIL("a newer database was opened");
  } catch (const StoreError& e) {
    std::string m = e.what();
    BOOST_TEST(m.find("newer") != std::string::npos, m);
    BOOST_TEST(m.find(dir.db()) != std::string::npos, m);
    BOOST_TEST(m.find("schema version " + str(future)) != std::string::npos, m);
  }
  // Untouched: still the same version and not switched to WAL.
  BOOST_TEST(shell(dir.db(), "PRAGMA user_version") == str(future));
  BOOST_TEST(shell(dir.db(), "PRAGMA journal_mode") == "delete");
}

BOOST_AUTO_TEST_CASE(garbage_file_is_refused) {
  TempDir dir;
  std::ofstream(dir.db(), std::ios::binary) << std::string(8192, 'x');
  try {
    Store s(dir.db());
    BOOST_FAIL("a garbage file was opened");
  } catch (const StoreError& e) {
    std::string m = e.what();
    BOOST_TEST(m.find(dir.db()) != std::string::npos, m);
    BOOST_TEST(m.find("not a database") != std::string::npos, m);
  }
  BOOST_CHECK_THROW(Store("/nonexistent-dir/sortd.db"), StoreError);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(apply_ops)

BOOST_AUTO_TEST_CASE(every_op_type_reads_back) {
  TempDir dir;
  Store s(dir.db());
  auto orders = make_demo_orders(3, 4);
  orders[0].status = OrderStatus::Active;
  s.upsert_orders(orders);

  StoreRead read;
  read.read_id = 7;
  read.parcel_id = 1;
  read.time = kT0;
  read.read.scanner = "scan-in";
  read.read.tracking_id = 4242;
  read.read.codes = {{orders[0].codes[0], "C1"}, {"q\"uo\\te", ""}, {"bad\xff", "Q1"}};
  StoreRead noread;
  noread.read_id = 8;
  noread.time = kT0 + 5;
  noread.read.scanner = "scan-in";
  noread.read.no_read = true;
  StoreDecision dec;
  dec.parcel_id = 1;
  dec.order_id = orders[0].id;
  dec.tracking_id = 4242;
  dec.attempt = 0;
  dec.time = kT0 + 1;
  dec.courier = "sf";
  dec.lane = 3;
  dec.chute = 13;
  dec.candidates_json = R"({"ranked":[{"courier":"sf"}],"excluded":[{"courier":"ems"}]})";
  dec.weight_g = 950;
  dec.day = 19791;
  StoreDecision exc;
  exc.parcel_id = 2;
  exc.tracking_id = 4243;
  exc.time = kT0 + 6;
  exc.lane = 24;
  exc.chute = 99;
  exc.exception = ExceptionKind::NoRead;
  exc.reason = "no barcode could be read";
  StoreSortCommand cmd{17, 1, 4242, 13, kT0 + 2};
  StoreSortAck ack{17, kT0 + 3};
  StoreConfirmation conf{17, 1, 4242, 13, DivertOutcome::Diverted, kT0 + 4};
  StoreParcelState done{1, ParcelState::Diverted, ExceptionKind::None, 3, kT0 + 4};
  StoreCapacity cap{19791, "sf", 1, 950};
  StoreLane lane{3, true, 12, 11'400};
  StoreLabelJob job{501, 1, "parcel", "zebra1", JobOutcome::Queued, "", kT0 + 1};
  StoreLabelJob printed{501, 0, "", "", JobOutcome::Printed, "ok", kT0 + 2};
  StoreOrderStatus st{orders[1].id, OrderStatus::Cancelled};
  StoreAlarm alarm{"printer:zebra1:paper_out", true, "error", "打印机缺纸", kT0 + 3};
  StoreAudit audit{"supervisor", "lane.disable", "lane 5", kT0 + 9};

  s.apply(
      {read, noread, dec, exc, cmd, ack, conf, done, cap, lane, job, printed, st, alarm, audit});
  sqlite3* db = s.handle();

  BOOST_TEST(rows(db,
                  "SELECT id, parcel_id, time_ms, scanner, tracking_id, no_read FROM reads "
                  "ORDER BY id") ==
             "7|1|" + str(kT0) + "|scan-in|4242|0\n8|<null>|" + str(kT0 + 5) + "|scan-in|0|1\n");
  // The codes are valid JSON that SQLite's own JSON functions read back.
  BOOST_TEST(q1(db, "SELECT json_valid(codes) FROM reads WHERE id = 7") == "1");
  BOOST_TEST(q1(db, "SELECT json_extract(codes, '$[0].text') FROM reads WHERE id = 7") ==
             orders[0].codes[0]);
  BOOST_TEST(q1(db, "SELECT json_extract(codes, '$[1].text') FROM reads WHERE id = 7") ==
             "q\"uo\\te");
  BOOST_TEST(q1(db, "SELECT json_extract(codes, '$[2].symbology') FROM reads WHERE id = 7") ==
             "Q1");
  BOOST_TEST(q1(db, "SELECT codes FROM reads WHERE id = 8") == "[]");

  BOOST_TEST(rows(db,
                  "SELECT parcel_id, order_id, tracking_id, attempt, courier, lane, chute, "
                  "exception, reason, weight_g, day FROM decisions ORDER BY id") ==
             "1|" + orders[0].id + "|4242|0|sf|3|13|none||950|19791\n" +
                 "2|<null>|4243|0||24|99|no_read|no barcode could be read|0|0\n");
  BOOST_TEST(q1(db,
                "SELECT json_extract(candidates, '$.excluded[0].courier') FROM decisions "
                "WHERE parcel_id = 1") == "ems");
  BOOST_TEST(rows(db,
                  "SELECT id, order_id, tracking_id, state, exception, courier, lane, chute, "
                  "last_seq, weight_g, day FROM parcels ORDER BY id") ==
             "1|" + orders[0].id + "|4242|diverted|none|sf|3|13|17|950|19791\n" +
                 "2|<null>|4243|decided|no_read||24|99|0|0|0\n");
  BOOST_TEST(rows(db,
                  "SELECT seq, parcel_id, tracking_id, chute, sent_ms, ack_ms FROM "
                  "sort_commands") == "17|1|4242|13|" + str(kT0 + 2) + "|" + str(kT0 + 3) + "\n");
  BOOST_TEST(rows(db,
                  "SELECT seq, parcel_id, tracking_id, chute, outcome, time_ms FROM "
                  "confirmations") == "17|1|4242|13|diverted|" + str(kT0 + 4) + "\n");
  BOOST_TEST(rows(db, "SELECT day, courier, parcels, grams FROM capacity") == "19791|sf|1|950\n");
  BOOST_TEST(rows(db, "SELECT id, enabled, fill_count, fill_grams FROM lanes") == "3|1|12|11400\n");
  BOOST_TEST(rows(db,
                  "SELECT id, parcel_id, kind, printer, outcome, detail, created_ms, "
                  "updated_ms FROM label_jobs") ==
             "501|1|parcel|zebra1|printed|ok|" + str(kT0 + 1) + "|" + str(kT0 + 2) + "\n");
  BOOST_TEST(q1(db, "SELECT status FROM orders WHERE id = '" + orders[1].id + "'") == "cancelled");
  BOOST_TEST(rows(db, "SELECT key, raised, severity, text, raised_ms, cleared_ms FROM alarms") ==
             "printer:zebra1:paper_out|1|error|打印机缺纸|" + str(kT0 + 3) + "|<null>\n");
  BOOST_TEST(q1(db, "SELECT count(*) FROM alarm_log") == "1");
  BOOST_TEST(rows(db, "SELECT time_ms, user, action, detail FROM audit") ==
             str(kT0 + 9) + "|supervisor|lane.disable|lane 5\n");

  // Capacity is a signed delta; an alarm clear keeps its text; a lane is overwritten.
  s.apply({StoreCapacity{19791, "sf", -1, -950}, StoreCapacity{19791, "sf", 2, 3000},
           StoreAlarm{"printer:zebra1:paper_out", false, "", "", kT0 + 20},
           StoreLane{3, false, 0, 0}});
  BOOST_TEST(rows(db, "SELECT parcels, grams FROM capacity") == "2|3000\n");
  BOOST_TEST(rows(db, "SELECT raised, text, cleared_ms FROM alarms") ==
             "0|打印机缺纸|" + str(kT0 + 20) + "\n");
  BOOST_TEST(q1(db, "SELECT count(*) FROM alarm_log") == "2");
  BOOST_TEST(rows(db, "SELECT enabled, fill_count FROM lanes") == "0|0\n");

  // The file is sound for an independent reader.
  BOOST_TEST(shell(dir.db(), "PRAGMA integrity_check") == "ok");
  BOOST_TEST(shell(dir.db(), "PRAGMA foreign_key_check") == "");
  BOOST_TEST(shell(dir.db(), "SELECT count(*) FROM decisions") == "2");
}

BOOST_AUTO_TEST_CASE(ack_goes_to_the_latest_command_with_that_seq) {
  TempDir dir;
  Store s(dir.db());
  // The PLC sequence wraps: seq 5 is used twice; the ack belongs to the later command.
  s.apply({StoreSortCommand{5, 1, 11, 3, kT0}});
  s.apply({StoreSortAck{5, kT0 + 1}});
  s.apply({StoreSortCommand{5, 2, 12, 4, kT0 + 100}});
  s.apply({StoreSortAck{5, kT0 + 101}});
  BOOST_TEST(rows(s.handle(), "SELECT parcel_id, ack_ms FROM sort_commands ORDER BY id") ==
             "1|" + str(kT0 + 1) + "\n2|" + str(kT0 + 101) + "\n");
}

BOOST_AUTO_TEST_CASE(a_failing_op_rolls_back_the_whole_transaction) {
  TempDir dir;
  Store s(dir.db());
  auto ops = parcel_step(1, 1, 1, "SO1", "sf", 3, kT0, 19791);
  auto count = [&](const char* table) {
    return q1(s.handle(), std::string("SELECT count(*) FROM ") + table);
  };
  // 1. The status of an order the store does not have.
  auto bad = ops;
  bad.push_back(StoreOrderStatus{"NO-SUCH-ORDER", OrderStatus::Held});
  try {
    s.apply(bad);
    BOOST_FAIL("apply() did not throw");
  } catch (const StoreError& e) {
    BOOST_TEST(std::string(e.what()).find("NO-SUCH-ORDER") != std::string::npos, e.what());
  }
  for (const char* t : {"reads", "decisions", "parcels", "sort_commands", "capacity"})
    BOOST_TEST(count(t) == "0", t);
  // 2. A constraint failure in the middle (the same read id twice), with SQLite's message.
  bad = ops;
  bad.push_back(ops[0]);
  try {
    s.apply(bad);
    BOOST_FAIL("apply() did not throw");
  } catch (const StoreError& e) {
    BOOST_TEST(
        std::string(e.what()).find("UNIQUE constraint failed: reads.id") != std::string::npos,
        e.what());
  }
  // 3. A value the schema refuses (a parcel state that does not exist).
  bad = ops;
  bad.push_back(StoreParcelState{1, static_cast<ParcelState>(9), ExceptionKind::None, 0, kT0});
  BOOST_CHECK_THROW(s.apply(bad), StoreError);
  for (const char* t : {"reads", "decisions", "parcels", "sort_commands", "capacity"})
    BOOST_TEST(count(t) == "0", t);
  // The store is still usable, and the same operations go through.
  s.apply(ops);
  for (const char* t : {"reads", "decisions", "parcels", "sort_commands", "capacity"})
    BOOST_TEST(count(t) == "1", t);
}

BOOST_AUTO_TEST_CASE(committed_steps_survive_reopen_without_checkpoint) {
  TempDir dir;
  {
    Store s(dir.db());
    for (std::uint64_t p = 1; p <= 50; ++p)
      s.apply(parcel_step(p, p, static_cast<std::uint32_t>(p),
                          "SO" + str(static_cast<std::int64_t>(p)), "zto", 4,
                          kT0 + static_cast<TimeMs>(p) * 1000, 19791));
    // No checkpoint has run: everything is in the WAL, the main file holds only the schema.
    BOOST_TEST(fs::file_size(dir.db() + "-wal") > 0u);
  }
  BOOST_TEST(shell(dir.db(), "SELECT count(*) FROM decisions") == "50");
  Store s(dir.db());
  BOOST_TEST(q1(s.handle(), "SELECT sum(parcels) FROM capacity") == "50");
}

BOOST_AUTO_TEST_CASE(checkpoint_moves_the_wal_into_the_database) {
  TempDir dir;
  Store s(dir.db());
  auto size = [&] { return fs::file_size(dir.db()); };
  const auto before = size();
  s.upsert_orders(make_demo_orders(2000, 3));
  for (std::uint64_t p = 1; p <= 200; ++p)
    s.apply(parcel_step(p, p, static_cast<std::uint32_t>(p), "", "jt", 2, kT0, 19791));
  // wal_autocheckpoint is off: the database file has not grown by itself.
  BOOST_TEST(size() == before);
  s.checkpoint();
  BOOST_TEST(size() > before + 100'000);
  BOOST_TEST(s.order_count() == 2000u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(recovery)

BOOST_AUTO_TEST_CASE(empty_store) {
  TempDir dir;
  Store s(dir.db());
  RecoveredState r = s.recover();
  BOOST_TEST(r.next_parcel_id == 1u);
  BOOST_TEST(r.next_read_id == 1u);
  BOOST_TEST(r.next_job_id == 1u);
  BOOST_TEST(r.next_seq == 1u);
  BOOST_TEST(r.in_flight.empty());
  BOOST_TEST(r.capacity.empty());
  BOOST_TEST(r.lanes.empty());
  BOOST_TEST(r.order_parcels.empty());
  BOOST_TEST(r.alarms.empty());
}

BOOST_AUTO_TEST_CASE(after_a_sequence_of_steps) {
  TempDir dir;
  const std::int32_t day = 19791;
  {
    Store s(dir.db());
    // Parcel 1: decided, commanded, diverted.
    s.apply(parcel_step(1, 1, 1, "SO1", "sf", 3, kT0, day));
    s.apply({StoreSortAck{1, kT0 + 10},
             StoreParcelState{1, ParcelState::Commanded, ExceptionKind::None, 0, kT0 + 10}});
    s.apply({StoreConfirmation{1, 1, 1001, 103, DivertOutcome::Diverted, kT0 + 20},
             StoreParcelState{1, ParcelState::Diverted, ExceptionKind::None, 3, kT0 + 20},
             StoreLane{3, true, 1, 1200},
             StoreLabelJob{1, 1, "parcel", "zebra1", JobOutcome::Printed, "", kT0 + 5}});
    // Parcel 2: commanded, not yet confirmed.
    s.apply(parcel_step(2, 2, 2, "SO2", "zto", 5, kT0 + 100, day));
    s.apply({StoreSortAck{2, kT0 + 110},
             StoreParcelState{2, ParcelState::Commanded, ExceptionKind::None, 0, kT0 + 110}});
    // Parcel 3: recirculated once, decided again for another courier; its first capacity
    // reservation released.
    s.apply(parcel_step(3, 3, 3, "SO3", "yto", 7, kT0 + 200, day));
    s.apply({StoreConfirmation{3, 3, 1003, 107, DivertOutcome::Recirculated, kT0 + 300}});
    {
      auto again = parcel_step(3, 4, 4, "SO3", "jd", 8, kT0 + 400, day);
      std::get<StoreDecision>(again[1]).attempt = 1;
      again.push_back(StoreCapacity{day, "yto", -1, -1200});
      s.apply(again);
    }
    // Parcel 4: the order is cancelled: an exception, its capacity released.
    s.apply(parcel_step(4, 5, 5, "SO4", "sf", 3, kT0 + 500, day));
    s.apply({StoreParcelState{4, ParcelState::Exception, ExceptionKind::Cancelled, 24, kT0 + 600},
             StoreCapacity{day, "sf", -1, -1200}});
    // Parcel 5 on the next day.
    s.apply(parcel_step(5, 6, 6, "SO5", "sf", 3, kT0 + 86'400'000, day + 1));
    s.apply({StoreParcelState{5, ParcelState::Diverted, ExceptionKind::None, 3, kT0 + 86'400'100}});
    // Parcel 6: its order is on hold: decided to an exception lane, on its way there.
    {
      auto held = parcel_step(6, 7, 7, "SO6", "", 24, kT0 + 650, day);
      std::get<StoreDecision>(held[1]).exception = ExceptionKind::Held;
      held.pop_back();  // no capacity for an exception
      s.apply(held);
    }
    // Alarms: one raised, one raised then cleared.
    s.apply({StoreAlarm{"sorter:plc1:down", true, "error", "PLC 无响应", kT0 + 700},
             StoreAlarm{"printer:zebra1:head_open", true, "warning", "打印头打开", kT0 + 710}});
    s.apply({StoreAlarm{"printer:zebra1:head_open", false, "", "", kT0 + 720}});
    s.apply({StoreLane{5, false, 0, 0},
             StoreLabelJob{9, 4, "parcel", "", JobOutcome::Failed, "paper out", kT0 + 800}});
  }
  Store s(dir.db());  // as after a restart
  RecoveredState r = s.recover();
  BOOST_TEST(r.next_parcel_id == 7u);
  BOOST_TEST(r.next_read_id == 8u);
  BOOST_TEST(r.next_job_id == 10u);
  BOOST_TEST(r.next_seq == 8u);

  BOOST_TEST_REQUIRE(r.in_flight.size() == 3u);
  BOOST_TEST(r.in_flight[2].parcel_id == 6u);
  BOOST_TEST(r.in_flight[2].lane == 24);
  const auto& p2 = r.in_flight[0];
  BOOST_TEST(p2.parcel_id == 2u);
  BOOST_TEST(p2.order_id == "SO2");
  BOOST_TEST(p2.tracking_id == 1002u);
  BOOST_TEST(p2.seq == 2u);
  BOOST_TEST(p2.courier == "zto");
  BOOST_TEST(p2.lane == 5);
  BOOST_TEST(p2.chute == 105);
  BOOST_TEST(p2.attempt == 0);
  BOOST_TEST(p2.weight_g == 1200);
  BOOST_TEST(p2.day == day);
  BOOST_TEST((p2.state == ParcelState::Commanded));
  const auto& p3 = r.in_flight[1];
  BOOST_TEST(p3.parcel_id == 3u);
  BOOST_TEST(p3.seq == 4u);
  BOOST_TEST(p3.courier == "jd");
  BOOST_TEST(p3.lane == 8);
  BOOST_TEST(p3.attempt == 1);
  BOOST_TEST((p3.state == ParcelState::Decided));

  std::map<std::pair<int, std::string>, std::pair<int, std::int64_t>> cap;
  for (const auto& c : r.capacity) cap[{c.day, c.courier}] = {c.parcels, c.grams};
  BOOST_TEST(cap.size() == 5u);
  BOOST_TEST((cap[{day, "sf"}] == std::pair<int, std::int64_t>{1, 1200}));
  BOOST_TEST((cap[{day, "zto"}] == std::pair<int, std::int64_t>{1, 1200}));
  BOOST_TEST((cap[{day, "yto"}] == std::pair<int, std::int64_t>{0, 0}));
  BOOST_TEST((cap[{day, "jd"}] == std::pair<int, std::int64_t>{1, 1200}));
  BOOST_TEST((cap[{day + 1, "sf"}] == std::pair<int, std::int64_t>{1, 1200}));

  BOOST_TEST_REQUIRE(r.lanes.size() == 2u);
  BOOST_TEST(r.lanes[0].lane == 3);
  BOOST_TEST(r.lanes[0].enabled);
  BOOST_TEST(r.lanes[0].fill_count == 1);
  BOOST_TEST(r.lanes[0].fill_grams == 1200);
  BOOST_TEST(r.lanes[1].lane == 5);
  BOOST_TEST(!r.lanes[1].enabled);

  // Duplicate detection: every order's parcel except those that ended in (or are going to) an
  // exception.
  std::vector<std::pair<std::string, std::uint64_t>> want{
      {"SO1", 1}, {"SO2", 2}, {"SO3", 3}, {"SO5", 5}};
  BOOST_TEST((r.order_parcels == want));

  BOOST_TEST_REQUIRE(r.alarms.size() == 1u);
  BOOST_TEST(r.alarms[0].key == "sorter:plc1:down");
  BOOST_TEST(r.alarms[0].raised);
  BOOST_TEST(r.alarms[0].severity == "error");
  BOOST_TEST(r.alarms[0].text == "PLC 无响应");
  BOOST_TEST(r.alarms[0].time == kT0 + 700);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(orders)

BOOST_AUTO_TEST_CASE(round_trip_of_demo_orders) {
  TempDir dir;
  Store s(dir.db());
  auto orders = make_demo_orders(3000, 8);
  s.upsert_orders(orders);
  BOOST_TEST(s.order_count() == orders.size());
  auto back = all_orders(s);  // in id order; demo ids sort in generation order
  BOOST_TEST_REQUIRE(back.size() == orders.size());
  for (std::size_t i = 0; i < orders.size(); ++i) BOOST_TEST_REQUIRE(same(back[i], orders[i]));
  BOOST_TEST(shell(dir.db(), "PRAGMA foreign_key_check") == "");
}

BOOST_AUTO_TEST_CASE(upsert_twice_is_one_row_and_drops_old_codes) {
  TempDir dir;
  Store s(dir.db());
  Order o = make_demo_orders(1, 8)[0];
  o.codes = {"PK111111111111", "DD22222222222222"};
  s.upsert_orders({o});
  s.upsert_orders({o});
  BOOST_TEST(s.order_count() == 1u);
  BOOST_TEST(q1(s.handle(), "SELECT count(*) FROM order_codes") == "2");
  o.codes = {"PK111111111111", "NEW-CODE"};
  o.address = "改过的地址";
  o.status = OrderStatus::Held;
  s.upsert_orders({o});
  BOOST_TEST(s.order_count() == 1u);
  BOOST_TEST(rows(s.handle(), "SELECT code, order_id FROM order_codes ORDER BY pos") ==
             "PK111111111111|" + o.id + "\nNEW-CODE|" + o.id + "\n");
  auto back = all_orders(s);
  BOOST_TEST_REQUIRE(back.size() == 1u);
  BOOST_TEST(same(back[0], o));
}

BOOST_AUTO_TEST_CASE(a_code_moves_to_its_new_order) {
  TempDir dir;
  Store s(dir.db());
  auto orders = make_demo_orders(2, 8);
  orders[0].codes = {"SHARED", "A-ONLY"};
  orders[1].codes = {"SHARED"};
  s.upsert_orders({orders[0]});
  s.upsert_orders({orders[1]});
  BOOST_TEST(q1(s.handle(), "SELECT order_id FROM order_codes WHERE code = 'SHARED'") ==
             orders[1].id);
  auto back = all_orders(s);
  BOOST_TEST(back[0].codes == std::vector<std::string>{"A-ONLY"});
  BOOST_TEST(back[1].codes == std::vector<std::string>{"SHARED"});
}

BOOST_AUTO_TEST_CASE(set_order_status) {
  TempDir dir;
  Store s(dir.db());
  auto orders = make_demo_orders(5, 8);
  s.upsert_orders(orders);
  s.set_order_status(orders[2].id, OrderStatus::Cancelled);
  auto back = all_orders(s);
  BOOST_TEST((back[2].status == OrderStatus::Cancelled));
  BOOST_CHECK_THROW(s.set_order_status("NOPE", OrderStatus::Held), StoreError);
}

BOOST_AUTO_TEST_SUITE_END()
