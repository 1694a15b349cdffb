#pragma once
// A plain sqlite3 connection for tests that look behind the tracking API: answering the same
// question in hand-written SQL, counting rows, checking the schema is intact.
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <sqlite3.h>

namespace flowlab::testing {

class RawDb {
 public:
  explicit RawDb(const std::filesystem::path& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
      throw std::runtime_error("raw open failed: " + path.string());
    sqlite3_busy_timeout(db_, 30'000);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  int exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }

  /// Every row, every column as text ("<NULL>" for NULL).
  std::vector<std::vector<std::string>> rows(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("raw prepare failed: ") + sqlite3_errmsg(db_));
    std::vector<std::vector<std::string>> out;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
        row.emplace_back(p ? p : "<NULL>");
      }
      out.push_back(std::move(row));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
      throw std::runtime_error(std::string("raw step failed: ") + sqlite3_errmsg(db_));
    return out;
  }
  std::vector<std::string> column(const std::string& sql) {
    std::vector<std::string> out;
    for (auto& r : rows(sql)) out.push_back(r.at(0));
    return out;
  }
  std::vector<int64_t> ints(const std::string& sql) {
    std::vector<int64_t> out;
    for (auto& v : column(sql)) out.push_back(std::stoll(v));
    return out;
  }
  std::string text(const std::string& sql) {
    auto c = column(sql);
    if (c.empty()) throw std::runtime_error("no rows: " + sql);
    return c.front();
  }
  int64_t integer(const std::string& sql) { return std::stoll(text(sql)); }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace flowlab::testing
