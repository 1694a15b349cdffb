#pragma once
// One connection to a results store, whichever database holds it: a SQLite file (the default,
// one per workspace) or a PostgreSQL server (a research group's shared store). Store, ReadOnlyDb
// and everything above them speak to this interface; the two backends live in
// sqlite_connection.cpp and postgres_connection.cpp. No LibTorch here.
//
// SQL is written once, in the dialect both accept, with `?` placeholders (the PostgreSQL backend
// numbers them $1, $2, ...). Where the dialects differ (schema DDL, GLOB, LIMIT without a bound)
// the caller asks dialect() and chooses between two fixed fragments.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "tracking/store_errors.h"

namespace flowlab::tracking {

/// A value bound into, or read out of, SQL: NULL, integer, real or text.
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;

struct ResultSet {
  std::vector<std::string> columns;
  std::vector<std::vector<SqlValue>> rows;
};

// Reading a cell whatever type the backend gave it (SQLite may hand back an integer for a REAL
// column holding 3.0; PostgreSQL numeric aggregates come back as reals).
int64_t as_int(const SqlValue& v);  // NULL, text: 0
std::optional<int64_t> as_opt_int(const SqlValue& v);
double as_real(const SqlValue& v);  // NULL: NaN (the store writes NaN as NULL)
std::optional<double> as_opt_real(const SqlValue& v);
std::string as_text(const SqlValue& v);  // NULL: ""

enum class Dialect { kSqlite, kPostgres };

/// Where a results store lives. Written as a URI (MLflow's --backend-store-uri habit, which is
/// SQLAlchemy's): `sqlite:///runs.db` is the relative path runs.db, `sqlite:////abs/runs.db` an
/// absolute one; `postgresql://user@host:port/db?...` (also postgres://) is handed to libpq as it
/// is, so every libpq parameter works (host=/run/postgresql for a Unix socket, sslmode, ...).
/// A plain path with no scheme is a SQLite file.
struct StoreLocation {
  Dialect dialect = Dialect::kSqlite;
  std::filesystem::path sqlite_path;  // kSqlite
  std::string postgres_uri;           // kPostgres: the URI as given

  StoreLocation() = default;
  StoreLocation(const std::filesystem::path& sqlite_file);  // NOLINT: a path is a SQLite store
  /// Throws StoreError for an unknown scheme or an empty path.
  static StoreLocation parse(const std::string& uri);
  /// The URI with any password replaced by ***, for messages and listings.
  std::string display() const;
  bool is_sqlite() const { return dialect == Dialect::kSqlite; }
};

class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;
  /// The store this connects to, for messages (StoreLocation::display()).
  virtual std::string describe() const = 0;
  virtual bool read_only() const = 0;

  /// Runs one statement with `binds` in place of its `?`s and returns its rows (none for a
  /// statement that returns none). Failures throw StoreError naming the statement; a lost server
  /// throws StoreUnavailable.
  virtual ResultSet query(const std::string& sql, const std::vector<SqlValue>& binds = {}) = 0;
  /// Runs one statement and returns how many rows it changed.
  virtual int64_t execute(const std::string& sql, const std::vector<SqlValue>& binds = {}) = 0;
  /// Inserts `rows` (each one value per column) into `table`: a prepared statement stepped per
  /// row in SQLite, multi-row INSERTs in PostgreSQL (one round trip per ~1,000 rows).
  virtual void insert_rows(const std::string& table, const std::vector<std::string>& columns,
                           const std::vector<std::vector<SqlValue>>& rows) = 0;

  /// Starts a transaction that will write: SQLite takes the write lock at once (BEGIN IMMEDIATE,
  /// waited for by the busy timeout); PostgreSQL starts a READ COMMITTED transaction.
  virtual void begin_write() = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;

  /// Runs one statement a user typed (`flowlab sql`) without letting it write: SQLite checks the
  /// compiled statement, PostgreSQL runs it in a READ ONLY transaction that is rolled back.
  /// Throws ConfigError for a statement that does not compile, is more than one, or would write.
  virtual ResultSet query_user_sql(const std::string& sql) = 0;

  /// After StoreUnavailable: tries once to connect again (PostgreSQL); true when it did. SQLite
  /// has no server to lose and returns true.
  virtual bool reconnect() = 0;
};

enum class OpenMode {
  kReadWrite,  // creates a SQLite file (and its directory) when there is none
  kReadOnly,   // never writes: a SQLite file opened read-only, a PostgreSQL session READ ONLY
};

/// Opens a connection. Throws StoreError (StoreUnavailable when a server cannot be reached).
std::unique_ptr<Connection> open_connection(const StoreLocation& where, OpenMode mode);

// The two backends (open_connection picks one).
std::unique_ptr<Connection> open_sqlite_connection(const std::filesystem::path& path,
                                                   OpenMode mode);
std::unique_ptr<Connection> open_postgres_connection(const StoreLocation& where, OpenMode mode);

/// How long a lost server is retried before an operation gives up: $FLOWLAB_STORE_RETRY_S when
/// it is a number >= 0, else `fallback` seconds.
double store_retry_seconds(double fallback = 60);

/// Which `?`s of `sql` are placeholders (not inside '...', "..." or a comment), numbered from
/// $1: what the PostgreSQL backend sends. Exposed for tests.
std::string number_placeholders(const std::string& sql);

}  // namespace flowlab::tracking
