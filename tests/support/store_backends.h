#pragma once
// The store suites run once per backend: SQLite always, PostgreSQL when the test command started
// a server (tests/tracking/with_postgres.sh sets FLOWLAB_TEST_POSTGRES to its URI).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"
#include "tracking/connection.h"

namespace flowlab::testing {

/// "sqlite", and "postgresql" when $FLOWLAB_TEST_POSTGRES names a server.
std::vector<std::string> store_backends();

/// A fresh, empty store of `backend` for one test: runs.db in `dir`, or a schema of its own on
/// the test server (so that tests never see each other's runs). The schema is left behind; the
/// server's data directory is thrown away when the suite ends.
tracking::StoreLocation fresh_store(const std::string& backend, const TempDir& dir);

/// A read-write connection to `store`, for checks written in SQL.
std::unique_ptr<tracking::Connection> raw_connection(const tracking::StoreLocation& store);

/// RawDb's answers (raw_db.h) for a store of either backend: hand-written SQL that both dialects
/// accept, every cell as text ("<NULL>" for NULL; reals in their shortest exact spelling).
class RawStore {
 public:
  explicit RawStore(const tracking::StoreLocation& store) : db_(raw_connection(store)) {}
  tracking::Dialect dialect() const { return db_->dialect(); }
  int64_t exec(const std::string& sql) { return db_->execute(sql); }
  std::vector<std::vector<std::string>> rows(const std::string& sql);
  std::vector<std::string> column(const std::string& sql);
  std::vector<int64_t> ints(const std::string& sql);
  std::string text(const std::string& sql);
  int64_t integer(const std::string& sql) { return std::stoll(text(sql)); }

 private:
  std::unique_ptr<tracking::Connection> db_;
};

}  // namespace flowlab::testing
