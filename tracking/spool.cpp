#include "tracking/spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace flowlab::tracking {

void append_to_spool(const std::filesystem::path& file, const SpooledBatch& batch) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : batch.rows)
    rows.push_back({r.node, r.key, r.step, fmt::format("{}", r.value), r.timestamp});
  const nlohmann::json line = {{"store", batch.store},
                               {"run_id", batch.run_id},
                               {"writer", batch.writer},
                               {"seq", batch.seq},
                               {"rows", rows}};
  // Invalid UTF-8 in a key is replaced rather than refused: losing the row would be worse.
  const std::string text =
      line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  // One write() per line with O_APPEND, then fsync: the rows are the only copy there is.
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    throw StoreError(
        fmt::format("cannot write the spool file {}: {}", file.string(), std::strerror(errno)));
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int write_errno = errno;
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()) || !synced)
    throw StoreError(fmt::format("cannot write the spool file {}: {}", file.string(),
                                 std::strerror(n < 0 ? write_errno : EIO)));
}

std::vector<SpooledBatch> read_spool(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw StoreError(fmt::format("cannot read the spool file {}", file.string()));
  std::vector<SpooledBatch> out;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    try {
      const auto j = nlohmann::json::parse(line);
      SpooledBatch b;
      b.store = j.at("store").get<std::string>();
      b.run_id = j.at("run_id").get<int64_t>();
      b.writer = j.at("writer").get<std::string>();
      b.seq = j.at("seq").get<int64_t>();
      for (const auto& r : j.at("rows")) {
        MetricRow m;
        m.node = r.at(0).get<std::string>();
        m.key = r.at(1).get<std::string>();
        m.step = r.at(2).get<int64_t>();
        m.value = std::strtod(r.at(3).get<std::string>().c_str(), nullptr);  // also inf, nan
        m.timestamp = r.at(4).get<double>();
        b.rows.push_back(std::move(m));
      }
      out.push_back(std::move(b));
    } catch (const nlohmann::json::exception& e) {
      // A line cut short by a crash while it was appended is the only expected damage.
      throw StoreError(
          fmt::format("{}:{}: not a spooled metric batch: {}", file.string(), number, e.what()));
    }
  }
  return out;
}

ImportResult import_spool(Store& store, const std::filesystem::path& file) {
  ImportResult result;
  for (const auto& b : read_spool(file)) {
    if (!store.get_run(b.run_id))
      throw StoreError(fmt::format("{}: run {} is not in {} (the batches were headed for {})",
                                   file.string(), b.run_id, store.location().display(), b.store));
    if (store.log_metric_batch(b.run_id, b.rows, b.writer, b.seq)) {
      ++result.batches;
      result.rows += static_cast<int64_t>(b.rows.size());
    } else {
      ++result.skipped_batches;
    }
  }
  return result;
}

}  // namespace flowlab::tracking
