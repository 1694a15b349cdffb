#pragma once
// A read-only connection to the results database: what `flowlab query`, `flowlab sql`, plots and
// reader.h read through, so that reading never takes a write lock that would stall a run logging
// into the same file. No LibTorch here.
#include <cstdint>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

struct sqlite3;

namespace flowlab::tracking {

/// A value bound into, or read out of, SQL: NULL, integer, real or text.
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;

struct ResultSet {
  std::vector<std::string> columns;
  std::vector<std::vector<SqlValue>> rows;
};

/// Opens `path` for reading only (SQLITE_OPEN_READONLY, extended result codes, a busy timeout) and
/// checks that it can be read. A WAL database in a directory this process cannot write (a
/// read-only workspace) cannot get the -shm file a reader needs; when there is no -wal file
/// either (the last writer closed cleanly, so the main file holds every commit, and no writer can
/// start in a directory it cannot create a -wal in), the file is opened as immutable instead.
/// Throws StoreError when there is no file or it cannot be read; the caller closes the handle.
sqlite3* open_sqlite_read_only(const std::filesystem::path& path);

/// A read-only connection: open_sqlite_read_only(), SQLITE_OPEN_READONLY plus PRAGMA query_only=ON,
/// a busy timeout (so a reader waits out a writer's checkpoint rather than failing) and the SQL
/// function flowlab_number(text) (the number the whole text spells, else NULL).
class ReadOnlyDb {
 public:
  /// Throws StoreError when the file does not exist or cannot be opened.
  explicit ReadOnlyDb(const std::filesystem::path& path);
  ~ReadOnlyDb();
  ReadOnlyDb(const ReadOnlyDb&) = delete;
  ReadOnlyDb& operator=(const ReadOnlyDb&) = delete;

  /// Runs flowlab's own SQL with bound values; SQLite failures throw StoreError.
  ResultSet execute(const std::string& sql, const std::vector<SqlValue>& binds = {}) const;
  /// Runs one statement the user typed. Throws ConfigError when it does not compile, is more than
  /// one statement, or would write (checked before it runs; the connection could not write anyway).
  ResultSet execute_user_sql(const std::string& sql) const;
  int schema_version() const;

 private:
  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
};

}  // namespace flowlab::tracking
