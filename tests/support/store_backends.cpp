#include "tests/support/store_backends.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <variant>

#include <fmt/format.h>

namespace flowlab::testing {

namespace {
const char* postgres_uri() {
  const char* uri = std::getenv("FLOWLAB_TEST_POSTGRES");
  return uri && *uri ? uri : nullptr;
}
}  // namespace

std::vector<std::string> store_backends() {
  std::vector<std::string> out = {"sqlite"};
  if (postgres_uri()) out.emplace_back("postgresql");
  return out;
}

tracking::StoreLocation fresh_store(const std::string& backend, const TempDir& dir) {
  if (backend == "sqlite") return dir / "runs.db";
  static std::atomic<int> counter{0};
  const std::string schema = fmt::format("t{}_{}", getpid(), ++counter);
  const auto server = tracking::StoreLocation::parse(postgres_uri());
  tracking::open_connection(server, tracking::OpenMode::kReadWrite)
      ->execute("CREATE SCHEMA " + schema);
  const std::string& uri = server.postgres_uri;
  // libpq's `options` parameter: "-c search_path=SCHEMA", percent-encoded.
  return tracking::StoreLocation::parse(uri + (uri.find('?') == std::string::npos ? "?" : "&") +
                                        "options=-c%20search_path%3D" + schema);
}

std::unique_ptr<tracking::Connection> raw_connection(const tracking::StoreLocation& store) {
  return tracking::open_connection(store, tracking::OpenMode::kReadWrite);
}

std::vector<std::vector<std::string>> RawStore::rows(const std::string& sql) {
  std::vector<std::vector<std::string>> out;
  for (const auto& row : db_->query(sql).rows) {
    std::vector<std::string> cells;
    for (const auto& v : row)
      cells.push_back(std::holds_alternative<std::monostate>(v) ? "<NULL>" : tracking::as_text(v));
    out.push_back(std::move(cells));
  }
  return out;
}

std::vector<std::string> RawStore::column(const std::string& sql) {
  std::vector<std::string> out;
  for (auto& r : rows(sql)) out.push_back(r.at(0));
  return out;
}

std::vector<int64_t> RawStore::ints(const std::string& sql) {
  std::vector<int64_t> out;
  for (auto& v : column(sql)) out.push_back(std::stoll(v));
  return out;
}

std::string RawStore::text(const std::string& sql) {
  auto c = column(sql);
  if (c.empty()) throw std::runtime_error("no rows: " + sql);
  return c.front();
}

}  // namespace flowlab::testing
