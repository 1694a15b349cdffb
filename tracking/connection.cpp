// What both backends share: reading cells, store locations, placeholder numbering.
#include "tracking/connection.h"

#include <cstdlib>
#include <limits>

#include <fmt/format.h>

namespace flowlab::tracking {

int64_t as_int(const SqlValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  return 0;
}

std::optional<int64_t> as_opt_int(const SqlValue& v) {
  if (std::holds_alternative<std::monostate>(v)) return std::nullopt;
  return as_int(v);
}

std::optional<double> as_opt_real(const SqlValue& v) {
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return std::nullopt;
}

double as_real(const SqlValue& v) {
  return as_opt_real(v).value_or(std::numeric_limits<double>::quiet_NaN());
}

std::string as_text(const SqlValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  return "";
}

StoreLocation::StoreLocation(const std::filesystem::path& sqlite_file)
    : dialect(Dialect::kSqlite), sqlite_path(sqlite_file) {}

StoreLocation StoreLocation::parse(const std::string& uri) {
  auto starts = [&](const char* prefix) { return uri.rfind(prefix, 0) == 0; };
  StoreLocation out;
  if (starts("postgresql://") || starts("postgres://")) {
    out.dialect = Dialect::kPostgres;
    out.postgres_uri = uri;
    return out;
  }
  if (starts("sqlite:")) {
    // SQLAlchemy's form, which MLflow uses: sqlite:///relative.db, sqlite:////absolute.db.
    if (!starts("sqlite:///") || uri.size() == 10)
      throw StoreError(
          fmt::format("store URI '{}': a SQLite store is written sqlite:///relative/path.db or "
                      "sqlite:////absolute/path.db",
                      uri));
    out.sqlite_path = uri.substr(10);
    return out;
  }
  const size_t scheme = uri.find("://");
  if (scheme != std::string::npos)
    throw StoreError(
        fmt::format("store URI '{}': unknown scheme '{}' (expected sqlite:///PATH or "
                    "postgresql://USER@HOST/DB)",
                    uri, uri.substr(0, scheme)));
  if (uri.empty()) throw StoreError("store URI is empty (expected a path or a URI)");
  out.sqlite_path = uri;
  return out;
}

std::string StoreLocation::display() const {
  if (dialect == Dialect::kSqlite) return sqlite_path.string();
  // postgresql://user:secret@host/db -> postgresql://user:***@host/db
  std::string s = postgres_uri;
  const size_t scheme = s.find("://");
  const size_t at = s.find('@', scheme + 3);
  const size_t slash = s.find('/', scheme + 3);
  if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
    const size_t colon = s.find(':', scheme + 3);
    if (colon != std::string::npos && colon < at) s.replace(colon + 1, at - colon - 1, "***");
  }
  // A password given as a parameter: ...?password=secret&...
  for (const char* key : {"password="}) {
    size_t p = s.find(key);
    while (p != std::string::npos) {
      const size_t begin = p + std::string(key).size();
      const size_t end = s.find('&', begin);
      s.replace(begin, (end == std::string::npos ? s.size() : end) - begin, "***");
      p = s.find(key, begin);
    }
  }
  return s;
}

double store_retry_seconds(double fallback) {
  const char* env = std::getenv("FLOWLAB_STORE_RETRY_S");
  if (!env || !*env) return fallback;
  char* end = nullptr;
  const double v = std::strtod(env, &end);
  return end && *end == '\0' && v >= 0 ? v : fallback;
}

std::unique_ptr<Connection> open_connection(const StoreLocation& where, OpenMode mode) {
  if (where.dialect == Dialect::kPostgres) return open_postgres_connection(where, mode);
  return open_sqlite_connection(where.sqlite_path, mode);
}

std::string number_placeholders(const std::string& sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {  // a quoted literal or name, '' / "" inside standing for one
      const size_t end = sql.find(c, i + 1);
      const size_t stop = end == std::string::npos ? sql.size() : end + 1;
      out.append(sql, i, stop - i);
      i = stop - 1;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {  // a line comment
      const size_t end = sql.find('\n', i);
      const size_t stop = end == std::string::npos ? sql.size() : end;
      out.append(sql, i, stop - i);
      i = stop - 1;
    } else if (c == '?') {
      out += '$' + std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace flowlab::tracking
