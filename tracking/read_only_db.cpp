#include "tracking/read_only_db.h"

#include "tracking/schema.h"

namespace flowlab::tracking {

ReadOnlyDb::ReadOnlyDb(const StoreLocation& where)
    : db_(open_connection(where, OpenMode::kReadOnly)) {}

ReadOnlyDb::~ReadOnlyDb() = default;

int ReadOnlyDb::schema_version() const { return read_schema_version(*db_); }

Dialect ReadOnlyDb::dialect() const { return db_->dialect(); }

ResultSet ReadOnlyDb::execute(const std::string& sql, const std::vector<SqlValue>& binds) const {
  return db_->query(sql, binds);
}

ResultSet ReadOnlyDb::execute_user_sql(const std::string& sql) const {
  return db_->query_user_sql(sql);
}

}  // namespace flowlab::tracking
