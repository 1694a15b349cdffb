#pragma once
// A read-only connection to the results store: what `flowlab query`, `flowlab sql`, plots and
// reader.h read through, so that reading never takes a write lock that would stall a run logging
// into the same store. No LibTorch here.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tracking/connection.h"

struct sqlite3;

namespace flowlab::tracking {

/// Opens `path` for reading only (SQLITE_OPEN_READONLY, extended result codes, a busy timeout) and
/// checks that it can be read. A WAL database in a directory this process cannot write (a
/// read-only workspace) cannot get the -shm file a reader needs; when there is no -wal file
/// either (the last writer closed cleanly, so the main file holds every commit, and no writer can
/// start in a directory it cannot create a -wal in), the file is opened as immutable instead.
/// Throws StoreError when there is no file or it cannot be read; the caller closes the handle.
sqlite3* open_sqlite_read_only(const std::filesystem::path& path);

/// A read-only connection (OpenMode::kReadOnly): for SQLite, open_sqlite_read_only() plus PRAGMA
/// query_only=ON and a busy timeout (so a reader waits out a writer's checkpoint rather than
/// failing); for PostgreSQL, a session whose transactions are READ ONLY. Both have the SQL
/// function flowlab_number(text) (the number the whole text spells, else NULL).
class ReadOnlyDb {
 public:
  /// Throws StoreError when the store does not exist or cannot be opened.
  explicit ReadOnlyDb(const StoreLocation& where);
  ~ReadOnlyDb();
  ReadOnlyDb(const ReadOnlyDb&) = delete;
  ReadOnlyDb& operator=(const ReadOnlyDb&) = delete;

  /// Runs flowlab's own SQL with bound values; failures throw StoreError.
  ResultSet execute(const std::string& sql, const std::vector<SqlValue>& binds = {}) const;
  /// Runs one statement the user typed. Throws ConfigError when it does not compile, is more than
  /// one statement, or would write (the connection could not write anyway).
  ResultSet execute_user_sql(const std::string& sql) const;
  int schema_version() const;
  Dialect dialect() const;

 private:
  std::unique_ptr<Connection> db_;
};

}  // namespace flowlab::tracking
