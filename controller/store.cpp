// The durable record: prepared statements over SQLite in WAL mode, versioned migrations.
// See docs/storage.md for the schema and the durability rules.
#include "store.h"

#include <sqlite3.h>

#include <array>
#include <cstring>
#include <iterator>
#include <variant>

namespace sortd {

namespace {

// ---------------------------------------------------------------------------------------------
// Schema: an ordered list of steps. A database records the last step applied in
// PRAGMA user_version; each step runs in its own transaction. Never edit a step that has
// shipped: add a new one.

struct Migration {
  int version;
  const char* what;
  const char* sql;
};

constexpr Migration kMigrations[] = {
    {1, "orders", R"sql(
CREATE TABLE orders (
  id           TEXT PRIMARY KEY NOT NULL,
  province     TEXT NOT NULL,
  city         TEXT NOT NULL,
  district     TEXT NOT NULL DEFAULT '',
  postcode     TEXT NOT NULL DEFAULT '',
  address      TEXT NOT NULL DEFAULT '',
  recipient    TEXT NOT NULL DEFAULT '',
  phone        TEXT NOT NULL DEFAULT '',
  weight_g     INTEGER NOT NULL,
  length_mm    INTEGER NOT NULL DEFAULT 0,
  width_mm     INTEGER NOT NULL DEFAULT 0,
  height_mm    INTEGER NOT NULL DEFAULT 0,
  cod_fen      INTEGER NOT NULL DEFAULT 0,
  invoice      INTEGER NOT NULL DEFAULT 0,
  service      TEXT NOT NULL DEFAULT 'standard'
               CHECK (service IN ('standard', 'express', 'same_day')),
  pickup_point INTEGER NOT NULL DEFAULT 0,
  fragile      INTEGER NOT NULL DEFAULT 0,
  preferred    TEXT NOT NULL DEFAULT '',  -- courier ids separated by '|'
  forbidden    TEXT NOT NULL DEFAULT '',
  status       TEXT NOT NULL DEFAULT 'active'
               CHECK (status IN ('active', 'held', 'cancelled'))
) WITHOUT ROWID;
CREATE TABLE order_codes (
  code     TEXT PRIMARY KEY NOT NULL,
  order_id TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  pos      INTEGER NOT NULL  -- order of the codes within the order
) WITHOUT ROWID;
CREATE INDEX order_codes_order ON order_codes(order_id, pos);
)sql"},
    {2, "station record", R"sql(
CREATE TABLE parcels (
  id          INTEGER PRIMARY KEY,  -- parcel id given by the station core
  order_id    TEXT,                 -- NULL when not identified
  tracking_id INTEGER NOT NULL DEFAULT 0,
  state       TEXT NOT NULL CHECK (state IN ('decided', 'commanded', 'diverted', 'exception')),
  exception   TEXT NOT NULL DEFAULT 'none',
  courier     TEXT NOT NULL DEFAULT '',
  lane        INTEGER NOT NULL DEFAULT 0,
  chute       INTEGER NOT NULL DEFAULT 0,
  attempt     INTEGER NOT NULL DEFAULT 0,
  weight_g    INTEGER NOT NULL DEFAULT 0,
  day         INTEGER NOT NULL DEFAULT 0,  -- local day its capacity was reserved on
  last_seq    INTEGER NOT NULL DEFAULT 0,  -- last sort command sent for it
  created_ms  INTEGER NOT NULL,
  updated_ms  INTEGER NOT NULL
);
CREATE INDEX parcels_order ON parcels(order_id) WHERE order_id IS NOT NULL;
CREATE INDEX parcels_open ON parcels(state) WHERE state IN ('decided', 'commanded');

CREATE TABLE reads (
  id          INTEGER PRIMARY KEY,
  parcel_id   INTEGER,  -- NULL when the read was paired with no parcel
  time_ms     INTEGER NOT NULL,
  scanner     TEXT NOT NULL,
  tracking_id INTEGER NOT NULL DEFAULT 0,
  no_read     INTEGER NOT NULL DEFAULT 0,
  codes       TEXT NOT NULL DEFAULT '[]'  -- JSON: [{"text": "...", "symbology": "C1"}, ...]
);
CREATE INDEX reads_parcel ON reads(parcel_id);

CREATE TABLE decisions (
  id          INTEGER PRIMARY KEY,
  parcel_id   INTEGER NOT NULL,
  order_id    TEXT,
  tracking_id INTEGER NOT NULL DEFAULT 0,
  attempt     INTEGER NOT NULL DEFAULT 0,
  time_ms     INTEGER NOT NULL,
  courier     TEXT NOT NULL DEFAULT '',
  lane        INTEGER NOT NULL DEFAULT 0,
  chute       INTEGER NOT NULL DEFAULT 0,
  exception   TEXT NOT NULL DEFAULT 'none',
  reason      TEXT NOT NULL DEFAULT '',
  candidates  TEXT NOT NULL DEFAULT '[]',  -- JSON: ranked candidates and exclusions
  weight_g    INTEGER NOT NULL DEFAULT 0,
  day         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX decisions_parcel ON decisions(parcel_id, attempt);

CREATE TABLE sort_commands (
  id          INTEGER PRIMARY KEY,
  seq         INTEGER NOT NULL,  -- the PLC handshake number (may wrap: not unique)
  parcel_id   INTEGER,
  tracking_id INTEGER NOT NULL DEFAULT 0,
  chute       INTEGER NOT NULL,
  sent_ms     INTEGER NOT NULL,
  ack_ms      INTEGER            -- NULL until the PLC acknowledges it
);
CREATE INDEX sort_commands_seq ON sort_commands(seq);

CREATE TABLE confirmations (
  id          INTEGER PRIMARY KEY,
  seq         INTEGER NOT NULL,
  parcel_id   INTEGER,  -- NULL when the sequence matched no parcel
  tracking_id INTEGER NOT NULL DEFAULT 0,
  chute       INTEGER NOT NULL DEFAULT 0,
  outcome     TEXT NOT NULL CHECK (outcome IN ('diverted', 'recirculated', 'rejected', 'lost')),
  time_ms     INTEGER NOT NULL
);
CREATE INDEX confirmations_parcel ON confirmations(parcel_id);

CREATE TABLE label_jobs (
  id         INTEGER PRIMARY KEY,  -- job id given by the station core
  parcel_id  INTEGER,
  kind       TEXT NOT NULL DEFAULT 'parcel',  -- parcel | bag | lane
  printer    TEXT NOT NULL DEFAULT '',
  outcome    TEXT NOT NULL CHECK (outcome IN ('queued', 'printed', 'failed', 'held', 'cancelled')),
  detail     TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE INDEX label_jobs_parcel ON label_jobs(parcel_id);

CREATE TABLE lanes (
  id         INTEGER PRIMARY KEY,  -- lane number
  enabled    INTEGER NOT NULL DEFAULT 1,
  fill_count INTEGER NOT NULL DEFAULT 0,
  fill_grams INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE capacity (
  day     INTEGER NOT NULL,  -- local day number in the station's time zone
  courier TEXT NOT NULL,
  parcels INTEGER NOT NULL DEFAULT 0,
  grams   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, courier)
) WITHOUT ROWID;

CREATE TABLE alarms (  -- the current state of every alarm key
  key        TEXT PRIMARY KEY NOT NULL,
  raised     INTEGER NOT NULL,
  severity   TEXT NOT NULL DEFAULT '',
  text       TEXT NOT NULL DEFAULT '',
  raised_ms  INTEGER,
  cleared_ms INTEGER,
  updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE alarm_log (  -- every raise and clear
  id       INTEGER PRIMARY KEY,
  key      TEXT NOT NULL,
  raised   INTEGER NOT NULL,
  severity TEXT NOT NULL DEFAULT '',
  text     TEXT NOT NULL DEFAULT '',
  time_ms  INTEGER NOT NULL
);

CREATE TABLE audit (
  id      INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  user    TEXT NOT NULL,
  action  TEXT NOT NULL,
  detail  TEXT NOT NULL DEFAULT ''
);
)sql"},
    {3, "bags, manifests, handover", R"sql(
CREATE TABLE manifests (  -- one courier's handover for one wave (local day + cutoff)
  id         INTEGER PRIMARY KEY,  -- given by the station core
  courier    TEXT NOT NULL,
  day        INTEGER NOT NULL,     -- local day number of the wave
  cutoff_min INTEGER NOT NULL,     -- the courier's cutoff, minutes after local midnight
  state      TEXT NOT NULL CHECK (state IN ('open', 'closed')),
  opened_ms  INTEGER NOT NULL,
  closed_ms  INTEGER,
  closed_by  TEXT NOT NULL DEFAULT '',
  forced     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX manifests_open ON manifests(courier, day) WHERE state = 'open';

CREATE TABLE bags (
  id          TEXT PRIMARY KEY NOT NULL,  -- B<yyyymmdd>-<lane>-<seq>
  lane        INTEGER NOT NULL,
  courier     TEXT NOT NULL,
  day         INTEGER NOT NULL,           -- local day it opened on
  seq         INTEGER NOT NULL,           -- its number among the lane's bags of that day
  state       TEXT NOT NULL CHECK (state IN ('open', 'closed')),
  opened_ms   INTEGER NOT NULL,
  closed_ms   INTEGER,
  count       INTEGER NOT NULL DEFAULT 0,
  grams       INTEGER NOT NULL DEFAULT 0,
  reason      TEXT NOT NULL DEFAULT '',   -- count | weight | chute_full | manual | scan
  closed_by   TEXT NOT NULL DEFAULT '',
  manifest_id INTEGER,
  label_job   INTEGER,
  picked_ms   INTEGER,                    -- scanned at handover
  picked_by   TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX bags_manifest ON bags(manifest_id);
CREATE INDEX bags_lane ON bags(lane, day, seq);

CREATE TABLE bag_parcels (  -- a parcel belongs to exactly one bag
  parcel_id INTEGER PRIMARY KEY,
  bag_id    TEXT NOT NULL,
  time_ms   INTEGER NOT NULL  -- when its divert into the lane was confirmed
);
CREATE INDEX bag_parcels_bag ON bag_parcels(bag_id);

CREATE TABLE handover_issues (  -- what handover reconciliation found
  id          INTEGER PRIMARY KEY,
  manifest_id INTEGER,
  kind        TEXT NOT NULL CHECK (kind IN ('not_taken', 'not_on_manifest', 'missort')),
  bag_id      TEXT,
  parcel_id   INTEGER,
  courier     TEXT NOT NULL DEFAULT '',
  time_ms     INTEGER NOT NULL,
  detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX handover_issues_manifest ON handover_issues(manifest_id);
)sql"},
    // Reports (controller/reports.cpp, docs/reports.md): each query scans one time range of one
    // table, grouped by period; these indexes hold every column it reads (no table lookups).
    {4, "report indexes", R"sql(
CREATE INDEX parcels_report ON parcels(created_ms, courier, lane, state, exception, weight_g);
CREATE INDEX reads_report ON reads(time_ms, no_read, codes);
CREATE INDEX confirmations_report ON confirmations(time_ms, outcome);
CREATE INDEX handover_issues_report ON handover_issues(time_ms, courier, kind);
)sql"},
    {5, "sorter ring cursor", R"sql(
CREATE TABLE sorter_cursor (  -- the next confirmation ring entry to read, per sorter PLC
  device     TEXT PRIMARY KEY NOT NULL,
  plc_boot   INTEGER NOT NULL,  -- the PLC boot id the entry number belongs to
  conf_next  INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
)sql"},
};

constexpr int kCurrentVersion = static_cast<int>(std::size(kMigrations));

// Names as stored (the same words as to_string() of the enums).
constexpr std::array<const char*, 3> kService{"standard", "express", "same_day"};
constexpr std::array<const char*, 3> kStatus{"active", "held", "cancelled"};
constexpr std::array<const char*, 5> kParcelState{"?", "decided", "commanded", "diverted",
                                                  "exception"};
constexpr std::array<const char*, 5> kOutcome{"?", "diverted", "recirculated", "rejected", "lost"};
constexpr std::array<const char*, 5> kJobOutcome{"queued", "printed", "failed", "held",
                                                 "cancelled"};

template <std::size_t N>
const char* name_in(const std::array<const char*, N>& names, unsigned v) {
  return v < N ? names[v] : "?";
}
template <typename E, std::size_t N>
E value_in(const std::array<const char*, N>& names, const char* s, E fallback) {
  if (!s) return fallback;
  for (std::size_t i = 0; i < N; ++i)
    if (std::strcmp(names[i], s) == 0) return static_cast<E>(i);
  return fallback;
}

// ---------------------------------------------------------------------------------------------
// A prepared statement, kept for the life of the store.

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, const char* sql, bool persistent = true) : db_(db), sql_(sql) {
    if (sqlite3_prepare_v3(db, sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0, &s_, nullptr) !=
        SQLITE_OK)
      throw StoreError(std::string("store: cannot prepare statement: ") + sqlite3_errmsg(db) +
                       " [" + sql + "]");
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_), sql_(o.sql_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept {
    std::swap(db_, o.db_);
    std::swap(s_, o.s_);
    std::swap(sql_, o.sql_);
    return *this;
  }

  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  // Text is bound without a copy: it must live until the statement has run.
  Stmt& bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind_null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  Stmt& bind_id(int i, std::uint64_t id) {  // 0 = none -> NULL
    return id ? bind(i, static_cast<std::int64_t>(id)) : bind_null(i);
  }
  Stmt& bind_opt(int i, std::string_view v) { return v.empty() ? bind_null(i) : bind(i, v); }

  // Runs a statement that returns no rows.
  void run(const char* what) {
    int rc = sqlite3_step(s_);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) fail(what);
    sqlite3_reset(s_);
  }
  // Steps a query: true while there is a row.
  bool row(const char* what) {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) fail(what);
    sqlite3_reset(s_);
    return false;
  }
  void reset() { sqlite3_reset(s_); }

  std::int64_t i64(int col) const { return sqlite3_column_int64(s_, col); }
  int i32(int col) const { return sqlite3_column_int(s_, col); }
  bool null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  const char* cstr(int col) const {
    return reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
  }
  std::string str(int col) const {
    const char* p = cstr(col);
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
             : std::string();
  }
  std::string_view view(int col) const {
    const char* p = cstr(col);
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
             : std::string_view();
  }

 private:
  [[noreturn]] void fail(const char* what) {
    std::string msg = std::string("store: ") + what + ": " + sqlite3_errmsg(db_);
    sqlite3_reset(s_);
    throw StoreError(msg);
  }
  sqlite3* db_ = nullptr;
  sqlite3_stmt* s_ = nullptr;
  const char* sql_ = "";
};

void exec(sqlite3* db, const std::string& sql, const std::string& what) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = "store: " + what + ": " + (err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    throw StoreError(msg);
  }
}

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || i + len > n) return false;
    std::uint32_t cp = c & (0x7Fu >> len);
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// A JSON string literal. Bytes that are not UTF-8 (a scanner with the wrong keyboard layout)
// are written as \u00XX so that the column always holds valid JSON.
void json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  const bool utf8 = valid_utf8(s);
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || (c >= 0x80 && !utf8)) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  out += '"';
}

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) s += '|';
    s += items[i];
  }
  return s;
}
std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  std::size_t start = 0;
  while (true) {
    std::size_t bar = s.find('|', start);
    out.emplace_back(s.substr(start, bar == std::string_view::npos ? bar : bar - start));
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct Store::Impl {
  // The connection, closed after every statement below is finalized (members are destroyed in
  // reverse order).
  struct Connection {
    sqlite3* db = nullptr;
    ~Connection() {
      if (db) sqlite3_close_v2(db);
    }
  } conn;
  std::string path;
  sqlite3*& db = conn.db;

  // Cached statements.
  Stmt begin, commit, rollback;
  Stmt ins_read, ins_decision, upsert_parcel_decided, ins_command, parcel_seq, ack_command,
      ins_confirmation, upsert_parcel_state, add_capacity, upsert_lane, upsert_job, order_status,
      upsert_alarm, log_alarm, ins_audit, upsert_cursor;
  Stmt upsert_bag, ins_bag_parcel, upsert_manifest, bag_picked, ins_issue;
  Stmt insert_order, update_order, del_codes, ins_code;

  std::string json;  // scratch for the codes of a read

  int user_version() {
    Stmt q(db, "PRAGMA user_version", false);
    if (!q.row("reading the schema version")) return 0;
    int v = q.i32(0);
    q.reset();
    return v;
  }

  void migrate() {
    int have = user_version();
    if (have > kCurrentVersion)
      throw StoreError("store: " + path + " has schema version " + std::to_string(have) +
                       ", newer than this sortd understands (" + std::to_string(kCurrentVersion) +
                       "): run the sortd that wrote it, or use another database file");
    for (const auto& m : kMigrations) {
      if (m.version <= have) continue;
      exec(db, "BEGIN IMMEDIATE", "migration " + std::to_string(m.version));
      try {
        // Another process may have migrated while we waited for the write lock.
        int now = user_version();
        if (now >= m.version) {
          exec(db, "COMMIT", "migration");
          have = now;
          continue;
        }
        exec(db, m.sql,
             "migration to schema version " + std::to_string(m.version) + " (" + m.what + ")");
        exec(db, "PRAGMA user_version = " + std::to_string(m.version), "migration");
        exec(db, "COMMIT", "migration " + std::to_string(m.version));
      } catch (...) {
        if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
      have = m.version;
    }
  }

  void prepare() {
    begin = Stmt(db, "BEGIN IMMEDIATE");
    commit = Stmt(db, "COMMIT");
    rollback = Stmt(db, "ROLLBACK");
    ins_read = Stmt(db,
                    "INSERT INTO reads (id, parcel_id, time_ms, scanner, tracking_id, no_read, "
                    "codes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    ins_decision = Stmt(db,
                        "INSERT INTO decisions (parcel_id, order_id, tracking_id, attempt, "
                        "time_ms, courier, lane, chute, exception, reason, candidates, weight_g, "
                        "day) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
    upsert_parcel_decided =
        Stmt(db,
             "INSERT INTO parcels (id, order_id, tracking_id, state, exception, courier, lane, "
             "chute, attempt, weight_g, day, created_ms, updated_ms) VALUES (?1, ?2, ?3, "
             "'decided', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11) ON CONFLICT (id) DO UPDATE SET "
             "order_id = coalesce(excluded.order_id, order_id), tracking_id = "
             "excluded.tracking_id, state = 'decided', exception = excluded.exception, courier = "
             "excluded.courier, lane = excluded.lane, chute = excluded.chute, attempt = "
             "excluded.attempt, weight_g = excluded.weight_g, day = excluded.day, updated_ms = "
             "excluded.updated_ms");
    ins_command = Stmt(db,
                       "INSERT INTO sort_commands (seq, parcel_id, tracking_id, chute, sent_ms) "
                       "VALUES (?1, ?2, ?3, ?4, ?5)");
    parcel_seq = Stmt(db, "UPDATE parcels SET last_seq = ?1, updated_ms = ?2 WHERE id = ?3");
    ack_command = Stmt(db,
                       "UPDATE sort_commands SET ack_ms = ?2 WHERE id = (SELECT max(id) FROM "
                       "sort_commands WHERE seq = ?1)");
    ins_confirmation = Stmt(db,
                            "INSERT INTO confirmations (seq, parcel_id, tracking_id, chute, "
                            "outcome, time_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    upsert_parcel_state =
        Stmt(db,
             "INSERT INTO parcels (id, state, exception, lane, created_ms, updated_ms) VALUES "
             "(?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (id) DO UPDATE SET state = excluded.state, "
             "exception = excluded.exception, lane = CASE WHEN excluded.lane <> 0 THEN "
             "excluded.lane ELSE lane END, updated_ms = excluded.updated_ms");
    add_capacity = Stmt(db,
                        "INSERT INTO capacity (day, courier, parcels, grams) VALUES (?1, ?2, ?3, "
                        "?4) ON CONFLICT (day, courier) DO UPDATE SET parcels = parcels + "
                        "excluded.parcels, grams = grams + excluded.grams");
    upsert_lane = Stmt(db,
                       "INSERT INTO lanes (id, enabled, fill_count, fill_grams) VALUES (?1, ?2, "
                       "?3, ?4) ON CONFLICT (id) DO UPDATE SET enabled = excluded.enabled, "
                       "fill_count = excluded.fill_count, fill_grams = excluded.fill_grams");
    upsert_job = Stmt(db,
                      "INSERT INTO label_jobs (id, parcel_id, kind, printer, outcome, detail, "
                      "created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) ON "
                      "CONFLICT (id) DO UPDATE SET parcel_id = coalesce(excluded.parcel_id, "
                      "parcel_id), kind = CASE WHEN excluded.kind <> '' THEN excluded.kind ELSE "
                      "kind END, printer = CASE WHEN excluded.printer <> '' THEN excluded.printer "
                      "ELSE printer END, outcome = excluded.outcome, detail = excluded.detail, "
                      "updated_ms = excluded.updated_ms");
    order_status = Stmt(db, "UPDATE orders SET status = ?2 WHERE id = ?1");
    upsert_alarm = Stmt(db,
                        "INSERT INTO alarms (key, raised, severity, text, raised_ms, cleared_ms, "
                        "updated_ms) VALUES (?1, ?2, ?3, ?4, CASE WHEN ?2 THEN ?5 END, CASE WHEN "
                        "?2 THEN NULL ELSE ?5 END, ?5) ON CONFLICT (key) DO UPDATE SET raised = "
                        "excluded.raised, severity = CASE WHEN excluded.severity <> '' THEN "
                        "excluded.severity ELSE severity END, text = CASE WHEN excluded.text <> "
                        "'' THEN excluded.text ELSE text END, raised_ms = CASE WHEN "
                        "excluded.raised THEN excluded.updated_ms ELSE raised_ms END, cleared_ms "
                        "= excluded.cleared_ms, updated_ms = excluded.updated_ms");
    log_alarm = Stmt(db,
                     "INSERT INTO alarm_log (key, raised, severity, text, time_ms) VALUES (?1, "
                     "?2, ?3, ?4, ?5)");
    ins_audit =
        Stmt(db, "INSERT INTO audit (time_ms, user, action, detail) VALUES (?1, ?2, ?3, ?4)");
    upsert_cursor = Stmt(db,
                         "INSERT INTO sorter_cursor (device, plc_boot, conf_next, updated_ms) "
                         "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (device) DO UPDATE SET plc_boot = "
                         "excluded.plc_boot, conf_next = excluded.conf_next, updated_ms = "
                         "excluded.updated_ms");
    upsert_bag = Stmt(db,
                      "INSERT INTO bags (id, lane, courier, day, seq, state, opened_ms, closed_ms, "
                      "count, grams, reason, closed_by, manifest_id, label_job) VALUES (?1, ?2, "
                      "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) ON CONFLICT (id) DO "
                      "UPDATE SET state = excluded.state, closed_ms = excluded.closed_ms, count = "
                      "excluded.count, grams = excluded.grams, reason = excluded.reason, "
                      "closed_by = excluded.closed_by, manifest_id = excluded.manifest_id, "
                      "label_job = excluded.label_job");
    ins_bag_parcel =
        Stmt(db, "INSERT INTO bag_parcels (parcel_id, bag_id, time_ms) VALUES (?1, ?2, ?3)");
    upsert_manifest = Stmt(db,
                           "INSERT INTO manifests (id, courier, day, cutoff_min, state, opened_ms, "
                           "closed_ms, closed_by, forced) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                           "?9) ON CONFLICT (id) DO UPDATE SET state = excluded.state, closed_ms "
                           "= excluded.closed_ms, closed_by = excluded.closed_by, forced = "
                           "excluded.forced");
    bag_picked = Stmt(db,
                      "UPDATE bags SET picked_ms = ?2, picked_by = ?3 WHERE id = ?1 AND "
                      "picked_ms IS NULL");
    ins_issue = Stmt(db,
                     "INSERT INTO handover_issues (manifest_id, kind, bag_id, parcel_id, courier, "
                     "time_ms, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    // A new order is one INSERT (the common case of a bulk import); an existing one is updated
    // and its codes replaced.
    insert_order = Stmt(db,
                        "INSERT OR IGNORE INTO orders (id, province, city, district, postcode, "
                        "address, recipient, phone, weight_g, length_mm, width_mm, height_mm, "
                        "cod_fen, invoice, service, pickup_point, fragile, preferred, forbidden, "
                        "status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                        "?14, ?15, ?16, ?17, ?18, ?19, ?20)");
    update_order = Stmt(db,
                        "UPDATE orders SET province = ?2, city = ?3, district = ?4, postcode = ?5, "
                        "address = ?6, recipient = ?7, phone = ?8, weight_g = ?9, length_mm = "
                        "?10, width_mm = ?11, height_mm = ?12, cod_fen = ?13, invoice = ?14, "
                        "service = ?15, pickup_point = ?16, fragile = ?17, preferred = ?18, "
                        "forbidden = ?19, status = ?20 WHERE id = ?1");
    del_codes = Stmt(db, "DELETE FROM order_codes WHERE order_id = ?1");
    ins_code = Stmt(db,
                    "INSERT INTO order_codes (code, order_id, pos) VALUES (?1, ?2, ?3) ON "
                    "CONFLICT (code) DO UPDATE SET order_id = excluded.order_id, pos = "
                    "excluded.pos");
  }

  // --- one StoreOp each -----------------------------------------------------------------------

  void op(const StoreRead& r) {
    json.clear();
    json += '[';
    for (std::size_t i = 0; i < r.read.codes.size(); ++i) {
      if (i) json += ',';
      json += "{\"text\":";
      json_string(json, r.read.codes[i].text);
      json += ",\"symbology\":";
      json_string(json, r.read.codes[i].symbology);
      json += '}';
    }
    json += ']';
    ins_read.bind_id(1, r.read_id)
        .bind_id(2, r.parcel_id)
        .bind(3, r.time)
        .bind(4, r.read.scanner)
        .bind(5, static_cast<std::int64_t>(r.read.tracking_id))
        .bind(6, std::int64_t{r.read.no_read})
        .bind(7, json)
        .run("storing a read");
  }
  void op(const StoreDecision& d) {
    const char* exc = to_string(d.exception);
    ins_decision.bind(1, static_cast<std::int64_t>(d.parcel_id))
        .bind_opt(2, d.order_id)
        .bind(3, static_cast<std::int64_t>(d.tracking_id))
        .bind(4, std::int64_t{d.attempt})
        .bind(5, d.time)
        .bind(6, d.courier)
        .bind(7, std::int64_t{d.lane})
        .bind(8, std::int64_t{d.chute})
        .bind(9, exc)
        .bind(10, d.reason)
        .bind(11, d.candidates_json.empty() ? std::string_view("[]") : d.candidates_json)
        .bind(12, std::int64_t{d.weight_g})
        .bind(13, std::int64_t{d.day})
        .run("storing a decision");
    upsert_parcel_decided.bind(1, static_cast<std::int64_t>(d.parcel_id))
        .bind_opt(2, d.order_id)
        .bind(3, static_cast<std::int64_t>(d.tracking_id))
        .bind(4, exc)
        .bind(5, d.courier)
        .bind(6, std::int64_t{d.lane})
        .bind(7, std::int64_t{d.chute})
        .bind(8, std::int64_t{d.attempt})
        .bind(9, std::int64_t{d.weight_g})
        .bind(10, std::int64_t{d.day})
        .bind(11, d.time)
        .run("storing a parcel's decision");
  }
  void op(const StoreSortCommand& c) {
    ins_command.bind(1, static_cast<std::int64_t>(c.seq))
        .bind_id(2, c.parcel_id)
        .bind(3, static_cast<std::int64_t>(c.tracking_id))
        .bind(4, std::int64_t{c.chute})
        .bind(5, c.time)
        .run("storing a sort command");
    if (c.parcel_id)
      parcel_seq.bind(1, static_cast<std::int64_t>(c.seq))
          .bind(2, c.time)
          .bind(3, static_cast<std::int64_t>(c.parcel_id))
          .run("storing a parcel's sort command");
  }
  void op(const StoreSortAck& a) {
    ack_command.bind(1, static_cast<std::int64_t>(a.seq))
        .bind(2, a.time)
        .run("storing a sort acknowledgement");
  }
  void op(const StoreConfirmation& c) {
    ins_confirmation.bind(1, static_cast<std::int64_t>(c.seq))
        .bind_id(2, c.parcel_id)
        .bind(3, static_cast<std::int64_t>(c.tracking_id))
        .bind(4, std::int64_t{c.chute})
        .bind(5, name_in(kOutcome, static_cast<unsigned>(c.outcome)))
        .bind(6, c.time)
        .run("storing a divert confirmation");
  }
  void op(const StoreParcelState& s) {
    upsert_parcel_state.bind(1, static_cast<std::int64_t>(s.parcel_id))
        .bind(2, name_in(kParcelState, static_cast<unsigned>(s.state)))
        .bind(3, to_string(s.exception))
        .bind(4, std::int64_t{s.lane})
        .bind(5, s.time)
        .run("storing a parcel's state");
  }
  void op(const StoreCapacity& c) {
    add_capacity.bind(1, std::int64_t{c.day})
        .bind(2, c.courier)
        .bind(3, std::int64_t{c.parcels})
        .bind(4, c.grams)
        .run("storing a capacity change");
  }
  void op(const StoreLane& l) {
    upsert_lane.bind(1, std::int64_t{l.lane})
        .bind(2, std::int64_t{l.enabled})
        .bind(3, std::int64_t{l.fill_count})
        .bind(4, l.fill_grams)
        .run("storing a lane");
  }
  void op(const StoreLabelJob& j) {
    upsert_job.bind(1, static_cast<std::int64_t>(j.job_id))
        .bind_id(2, j.parcel_id)
        .bind(3, j.kind)
        .bind(4, j.printer)
        .bind(5, name_in(kJobOutcome, static_cast<unsigned>(j.outcome)))
        .bind(6, j.detail)
        .bind(7, j.time)
        .run("storing a label job");
  }
  void op(const StoreOrderStatus& s) {
    order_status.bind(1, s.order_id)
        .bind(2, name_in(kStatus, static_cast<unsigned>(s.status)))
        .run("storing an order's status");
    if (sqlite3_changes(db) == 0)
      throw StoreError("store: cannot set the status of order " + s.order_id +
                       ": no such order in the store");
  }
  void op(const StoreAlarm& a) {
    upsert_alarm.bind(1, a.key)
        .bind(2, std::int64_t{a.raised})
        .bind(3, a.severity)
        .bind(4, a.text)
        .bind(5, a.time)
        .run("storing an alarm");
    log_alarm.bind(1, a.key)
        .bind(2, std::int64_t{a.raised})
        .bind(3, a.severity)
        .bind(4, a.text)
        .bind(5, a.time)
        .run("logging an alarm");
  }
  void op(const StoreSorterCursor& c) {
    upsert_cursor.bind(1, c.device)
        .bind(2, std::int64_t{c.plc_boot})
        .bind(3, std::int64_t{c.conf_next})
        .bind(4, c.time)
        .run("storing the sorter's ring position");
  }
  void op(const StoreAudit& a) {
    ins_audit.bind(1, a.time)
        .bind(2, a.user)
        .bind(3, a.action)
        .bind(4, a.detail)
        .run("storing an audit entry");
  }

  void op(const StoreBag& b) {
    upsert_bag.bind(1, b.bag_id)
        .bind(2, std::int64_t{b.lane})
        .bind(3, b.courier)
        .bind(4, std::int64_t{b.day})
        .bind(5, std::int64_t{b.seq})
        .bind(6, b.closed ? "closed" : "open")
        .bind(7, b.opened);
    if (b.closed)
      upsert_bag.bind(8, b.closed_time);
    else
      upsert_bag.bind_null(8);
    upsert_bag.bind(9, std::int64_t{b.count})
        .bind(10, b.grams)
        .bind(11, b.reason)
        .bind(12, b.closed_by)
        .bind_id(13, b.manifest_id)
        .bind_id(14, b.label_job)
        .run("storing a bag");
  }
  void op(const StoreBagParcel& p) {
    ins_bag_parcel.bind(1, static_cast<std::int64_t>(p.parcel_id))
        .bind(2, p.bag_id)
        .bind(3, p.time)
        .run("storing a parcel's bag");
  }
  void op(const StoreManifest& m) {
    upsert_manifest.bind(1, static_cast<std::int64_t>(m.manifest_id))
        .bind(2, m.courier)
        .bind(3, std::int64_t{m.day})
        .bind(4, std::int64_t{m.cutoff_min})
        .bind(5, m.closed ? "closed" : "open")
        .bind(6, m.opened);
    if (m.closed)
      upsert_manifest.bind(7, m.closed_time);
    else
      upsert_manifest.bind_null(7);
    upsert_manifest.bind(8, m.closed_by).bind(9, std::int64_t{m.forced}).run("storing a manifest");
  }
  void op(const StoreBagPicked& p) {
    bag_picked.bind(1, p.bag_id).bind(2, p.time).bind(3, p.user).run("storing a handover scan");
  }
  void op(const StoreHandoverIssue& i) {
    ins_issue.bind_id(1, i.manifest_id)
        .bind(2, i.kind)
        .bind_opt(3, i.bag_id)
        .bind_id(4, i.parcel_id)
        .bind(5, i.courier)
        .bind(6, i.time)
        .bind(7, i.detail)
        .run("storing a handover issue");
  }

  void bind_order(Stmt& st, const Order& o, const std::string& pref, const std::string& forb) {
    st.bind(1, o.id)
        .bind(2, o.province)
        .bind(3, o.city)
        .bind(4, o.district)
        .bind(5, o.postcode)
        .bind(6, o.address)
        .bind(7, o.recipient)
        .bind(8, o.phone)
        .bind(9, std::int64_t{o.weight_g})
        .bind(10, std::int64_t{o.length_mm})
        .bind(11, std::int64_t{o.width_mm})
        .bind(12, std::int64_t{o.height_mm})
        .bind(13, o.cod_fen)
        .bind(14, std::int64_t{o.invoice})
        .bind(15, name_in(kService, static_cast<unsigned>(o.service)))
        .bind(16, std::int64_t{o.pickup_point})
        .bind(17, std::int64_t{o.fragile})
        .bind(18, pref)
        .bind(19, forb)
        .bind(20, name_in(kStatus, static_cast<unsigned>(o.status)));
  }

  void put_order(const Order& o) {
    const std::string pref = join(o.preferred), forb = join(o.forbidden);
    bind_order(insert_order, o, pref, forb);
    insert_order.run("storing an order");
    if (sqlite3_changes(db) == 0) {  // it exists: update it, and replace its codes
      bind_order(update_order, o, pref, forb);
      update_order.run("updating an order");
      if (sqlite3_changes(db) == 0)
        throw StoreError("store: order " + o.id + " cannot be stored: a value is out of range");
      del_codes.bind(1, o.id).run("removing an order's old codes");
    }
    for (std::size_t i = 0; i < o.codes.size(); ++i)
      ins_code.bind(1, o.codes[i])
          .bind(2, o.id)
          .bind(3, static_cast<std::int64_t>(i))
          .run("storing an order's code");
  }

  // Runs `body` in one BEGIN IMMEDIATE ... COMMIT; rolls back and rethrows on any error.
  template <typename Body>
  void transaction(Body&& body) {
    begin.run("starting a transaction");
    try {
      body();
      commit.run("committing");
    } catch (...) {
      if (!sqlite3_get_autocommit(db)) {
        try {
          rollback.run("rolling back");
        } catch (const StoreError&) {
          sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        }
      }
      throw;
    }
  }
};

Store::Store(const std::string& path) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.path = path;
  int rc =
      sqlite3_open_v2(path.c_str(), &m.db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = m.db ? sqlite3_errmsg(m.db) : sqlite3_errstr(rc);
    throw StoreError("store: cannot open " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(m.db, 1);
  sqlite3_busy_timeout(m.db, 5000);
  try {
    // Check the version before changing anything in the file.
    int have = m.user_version();
    if (have > kCurrentVersion)
      throw StoreError("store: " + path + " has schema version " + std::to_string(have) +
                       ", newer than this sortd understands (" + std::to_string(kCurrentVersion) +
                       "): run the sortd that wrote it, or use another database file");
    {
      Stmt q(m.db, "PRAGMA journal_mode = WAL", false);
      std::string mode = q.row("setting WAL mode") ? q.str(0) : "";
      q.reset();
      if (mode != "wal" && path != ":memory:")
        throw StoreError("store: " + path + ": cannot use WAL mode (journal mode is '" + mode +
                         "')");
    }
    exec(m.db,
         "PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 0; PRAGMA foreign_keys = ON; "
         "PRAGMA journal_size_limit = 67108864; PRAGMA cache_size = -65536; "
         "PRAGMA temp_store = MEMORY",
         "configuring " + path);
    m.migrate();
    m.prepare();
  } catch (const StoreError& e) {
    std::string what = e.what();
    if (what.find(path) == std::string::npos) what += " (" + path + ")";
    throw StoreError(what);
  }
}

Store::~Store() = default;

int Store::current_schema_version() {
  return kCurrentVersion;
}

std::string Store::migration_sql(int version) {
  for (const auto& m : kMigrations)
    if (m.version == version) return m.sql;
  throw StoreError("store: no migration " + std::to_string(version));
}

int Store::schema_version() const {
  return impl_->user_version();
}

void Store::apply(const std::vector<StoreOp>& ops) {
  if (ops.empty()) return;
  Impl& m = *impl_;
  m.transaction([&] {
    for (const auto& op : ops) std::visit([&](const auto& o) { m.op(o); }, op);
  });
}

void Store::upsert_orders(const std::vector<Order>& orders) {
  if (orders.empty()) return;
  Impl& m = *impl_;
  m.transaction([&] {
    for (const auto& o : orders) m.put_order(o);
  });
}

void Store::set_order_status(const std::string& order_id, OrderStatus s) {
  Impl& m = *impl_;
  m.transaction([&] { m.op(StoreOrderStatus{order_id, s}); });
}

void Store::for_each_order(const std::function<void(Order&&)>& fn) const {
  sqlite3* db = impl_->db;
  // Both queries walk their tables in order id order: merge them.
  Stmt orders(db,
              "SELECT id, province, city, district, postcode, address, recipient, phone, "
              "weight_g, length_mm, width_mm, height_mm, cod_fen, invoice, service, "
              "pickup_point, fragile, preferred, forbidden, status FROM orders ORDER BY id",
              false);
  Stmt codes(db, "SELECT order_id, code FROM order_codes ORDER BY order_id, pos", false);
  bool have_code = codes.row("reading order codes");
  while (orders.row("reading orders")) {
    Order o;
    o.id = orders.str(0);
    while (have_code && codes.view(0) < std::string_view(o.id))
      have_code = codes.row("reading order codes");
    while (have_code && codes.view(0) == std::string_view(o.id)) {
      o.codes.push_back(codes.str(1));
      have_code = codes.row("reading order codes");
    }
    o.province = orders.str(1);
    o.city = orders.str(2);
    o.district = orders.str(3);
    o.postcode = orders.str(4);
    o.address = orders.str(5);
    o.recipient = orders.str(6);
    o.phone = orders.str(7);
    o.weight_g = orders.i32(8);
    o.length_mm = orders.i32(9);
    o.width_mm = orders.i32(10);
    o.height_mm = orders.i32(11);
    o.cod_fen = orders.i64(12);
    o.invoice = orders.i32(13) != 0;
    o.service = value_in(kService, orders.cstr(14), ServiceLevel::Standard);
    o.pickup_point = orders.i32(15) != 0;
    o.fragile = orders.i32(16) != 0;
    o.preferred = split(orders.view(17));
    o.forbidden = split(orders.view(18));
    o.status = value_in(kStatus, orders.cstr(19), OrderStatus::Active);
    fn(std::move(o));
  }
}

std::size_t Store::order_count() const {
  Stmt q(impl_->db, "SELECT count(*) FROM orders", false);
  std::size_t n = q.row("counting orders") ? static_cast<std::size_t>(q.i64(0)) : 0;
  q.reset();
  return n;
}

RecoveredState Store::recover() const {
  sqlite3* db = impl_->db;
  RecoveredState st;
  auto scalar = [&](const char* sql) -> std::int64_t {
    Stmt q(db, sql, false);
    std::int64_t v = q.row("recovering") && !q.null(0) ? q.i64(0) : 0;
    q.reset();
    return v;
  };
  // Every place a parcel id can appear (all indexed, so each max() is one b-tree probe).
  std::int64_t max_parcel = 0;
  for (const char* sql :
       {"SELECT max(id) FROM parcels", "SELECT max(parcel_id) FROM reads",
        "SELECT max(parcel_id) FROM decisions", "SELECT max(parcel_id) FROM label_jobs",
        "SELECT max(parcel_id) FROM confirmations"})
    max_parcel = std::max(max_parcel, scalar(sql));
  st.next_parcel_id = static_cast<std::uint64_t>(max_parcel) + 1;
  st.next_read_id = static_cast<std::uint64_t>(scalar("SELECT max(id) FROM reads")) + 1;
  st.next_job_id = static_cast<std::uint64_t>(scalar("SELECT max(id) FROM label_jobs")) + 1;
  // The sequence continues from the last command sent (by insertion, as it may wrap).
  std::uint32_t last_seq =
      static_cast<std::uint32_t>(scalar("SELECT seq FROM sort_commands ORDER BY id DESC LIMIT 1"));
  st.next_seq = last_seq + 1 == 0 ? 1 : last_seq + 1;

  {
    Stmt q(db,
           "SELECT id, order_id, tracking_id, last_seq, courier, lane, chute, attempt, weight_g, "
           "day, state, updated_ms FROM parcels WHERE state IN ('decided', 'commanded') ORDER "
           "BY id",
           false);
    while (q.row("recovering parcels in flight")) {
      RecoveredState::InFlight f;
      f.parcel_id = static_cast<std::uint64_t>(q.i64(0));
      f.order_id = q.str(1);
      f.tracking_id = static_cast<std::uint32_t>(q.i64(2));
      f.seq = static_cast<std::uint32_t>(q.i64(3));
      f.courier = q.str(4);
      f.lane = q.i32(5);
      f.chute = q.i32(6);
      f.attempt = q.i32(7);
      f.weight_g = q.i32(8);
      f.day = q.i32(9);
      f.state = value_in(kParcelState, q.cstr(10), ParcelState::Decided);
      f.updated = q.i64(11);
      st.in_flight.push_back(std::move(f));
    }
  }
  {
    Stmt q(db, "SELECT day, courier, parcels, grams FROM capacity ORDER BY day, courier", false);
    while (q.row("recovering capacity"))
      st.capacity.push_back(StoreCapacity{q.i32(0), q.str(1), q.i32(2), q.i64(3)});
  }
  {
    Stmt q(db, "SELECT id, enabled, fill_count, fill_grams FROM lanes ORDER BY id", false);
    while (q.row("recovering lanes"))
      st.lanes.push_back(StoreLane{q.i32(0), q.i32(1) != 0, q.i32(2), q.i64(3)});
  }
  {
    // For duplicate detection: each order's latest parcel that went (or is going) to a courier;
    // a parcel intercepted as held or sent to an exception lane may be scanned again.
    Stmt q(db,
           "SELECT order_id, max(id) FROM parcels WHERE order_id IS NOT NULL AND state <> "
           "'exception' AND exception = 'none' GROUP BY order_id ORDER BY order_id",
           false);
    while (q.row("recovering order parcels"))
      st.order_parcels.emplace_back(q.str(0), static_cast<std::uint64_t>(q.i64(1)));
  }
  {
    Stmt q(db,
           "SELECT key, severity, text, coalesce(raised_ms, updated_ms) FROM alarms WHERE raised "
           "ORDER BY key",
           false);
    while (q.row("recovering alarms"))
      st.alarms.push_back(StoreAlarm{q.str(0), true, q.str(1), q.str(2), q.i64(3)});
  }
  {
    Stmt q(db, "SELECT device, plc_boot, conf_next, updated_ms FROM sorter_cursor ORDER BY device",
           false);
    while (q.row("recovering the sorters' ring positions"))
      st.sorter_cursors.push_back(
          StoreSorterCursor{q.str(0), std::uint16_t(q.i64(1)), std::uint16_t(q.i64(2)), q.i64(3)});
  }
  {
    // Bags: the open ones, and the closed ones of open manifests (handover is still to come).
    Stmt q(db,
           "SELECT b.id, b.lane, b.courier, b.day, b.seq, b.state, b.opened_ms, "
           "coalesce(b.closed_ms, 0), b.count, b.grams, b.reason, coalesce(b.manifest_id, 0), "
           "b.picked_ms IS NOT NULL FROM bags b LEFT JOIN manifests m ON m.id = b.manifest_id "
           "WHERE b.state = 'open' OR m.state = 'open' ORDER BY b.opened_ms, b.id",
           false);
    while (q.row("recovering bags")) {
      RecoveredState::Bag b;
      b.bag_id = q.str(0);
      b.lane = q.i32(1);
      b.courier = q.str(2);
      b.day = q.i32(3);
      b.seq = q.i32(4);
      b.closed = q.view(5) == "closed";
      b.opened = q.i64(6);
      b.closed_time = q.i64(7);
      b.count = q.i32(8);
      b.grams = q.i64(9);
      b.reason = q.str(10);
      b.manifest_id = static_cast<std::uint64_t>(q.i64(11));
      b.picked = q.i32(12) != 0;
      st.bags.push_back(std::move(b));
    }
  }
  {
    // Each lane's last bag number, so that the next bag id is new.
    Stmt q(db, "SELECT lane, day, max(seq) FROM bags GROUP BY lane, day ORDER BY day", false);
    while (q.row("recovering bag numbers")) st.bag_seq[q.i32(0)] = {q.i32(1), q.i32(2)};
  }
  {
    Stmt q(db,
           "SELECT id, courier, day, cutoff_min, opened_ms FROM manifests WHERE state = 'open' "
           "ORDER BY id",
           false);
    while (q.row("recovering manifests"))
      st.manifests.push_back(RecoveredState::Manifest{static_cast<std::uint64_t>(q.i64(0)),
                                                      q.str(1), q.i32(2), q.i32(3), q.i64(4)});
  }
  st.next_manifest_id = static_cast<std::uint64_t>(scalar("SELECT max(id) FROM manifests")) + 1;
  return st;
}

void Store::checkpoint() {
  int log = 0, done = 0;
  int rc = sqlite3_wal_checkpoint_v2(impl_->db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
    throw StoreError(std::string("store: checkpoint: ") + sqlite3_errmsg(impl_->db));
}

sqlite3* Store::handle() const {
  return impl_->db;
}

}  // namespace sortd
