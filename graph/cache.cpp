#include "graph/cache.h"

#include <unistd.h>
#include <xxhash.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/file_io.h"

namespace flowlab {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// XXH3-64 of a file's bytes, as 16 hex digits.
std::string file_checksum(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw RunError("cannot read " + file.string());
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  std::vector<char> buffer(1 << 20);
  while (in.read(buffer.data(), buffer.size()) || in.gcount() > 0)
    XXH3_64bits_update(state, buffer.data(), static_cast<size_t>(in.gcount()));
  const XXH64_hash_t h = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return fmt::format("{:016x}", h);
}

// Checksums of every regular file under `entry`'s output/ and files/.
std::map<std::string, std::string> checksums_under(const fs::path& entry) {
  std::map<std::string, std::string> out;
  for (const char* part : {"output", "files"}) {
    if (!fs::exists(entry / part)) continue;
    for (const auto& f : fs::recursive_directory_iterator(entry / part))
      if (f.is_regular_file())
        out[fs::relative(f.path(), entry).generic_string()] = file_checksum(f.path());
  }
  return out;
}

// A path a record names must stay inside its entry: relative, no "..", under output/ or files/
// (checksums) or under files/ (artifact files, which `files` lists relative to files/ already).
// A damaged record could otherwise make a lookup read /dev/zero forever, or register any file on
// the machine as an artifact.
bool stays_inside(const std::string& path, bool under_output_or_files) {
  const fs::path p(path);
  if (path.empty() || p.is_absolute() || p.has_root_name()) return false;
  for (const auto& part : p)
    if (part == "..") return false;
  if (!under_output_or_files) return true;
  const std::string first = p.begin()->string();
  return first == "output" || first == "files";
}

}  // namespace

NodeCache::NodeCache(fs::path dir) : dir_(std::move(dir)) {
  fs::create_directories(dir_ / "staging");
}

fs::path NodeCache::entry(const std::string& key) const { return dir_ / key.substr(0, 2) / key; }

std::optional<CacheRecord> NodeCache::lookup(const std::string& key) const {
  fs::path file = entry(key) / "record.json";
  std::ifstream in(file);
  if (!in) return std::nullopt;
  try {
    json j = json::parse(in);
    CacheRecord r;
    r.op = j.at("op");
    r.node = j.at("node");
    r.has_output = j.at("has_output");
    for (const auto& m : j.at("metrics")) {
      // A step that is not an integer (1e300) would be cast to int64_t with undefined behaviour
      // (UBSan: outside the range of long): the record is damaged. Found by cache_record_fuzz.
      if (!m.at(1).is_number_integer()) return std::nullopt;
      r.metrics.push_back({m.at(0).get<std::string>(), m.at(1).get<int64_t>(),
                           m.at(2).is_null() ? std::nan("") : m.at(2).get<double>()});
    }
    for (const auto& f : j.at("files")) r.files.push_back({f.at("path"), f.at("kind")});
    if (j.contains("checksums"))
      r.checksums = j.at("checksums").get<std::map<std::string, std::string>>();
    for (const auto& f : r.files)
      if (!stays_inside(f.relative_path, false)) return std::nullopt;
    for (const auto& [path, sum] : r.checksums)
      if (!stays_inside(path, true)) return std::nullopt;
    // The bytes must be the ones written: reusing a damaged output would be silent corruption.
    for (const auto& [path, sum] : r.checksums) {
      std::string now;
      try {
        now = file_checksum(entry(key) / path);
      } catch (const RunError&) {
        now = "missing";
      }
      if (now != sum) {
        std::fprintf(
            stderr,
            "flowlab: warning: cache entry %s is damaged (%s %s its checksum); the node is "
            "recomputed\n",
            entry(key).c_str(), path.c_str(),
            now == "missing" ? "is missing, not matching" : "does not match");
        return std::nullopt;
      }
    }
    return r;
  } catch (const json::exception&) {
    return std::nullopt;  // a damaged record is a miss: the node is recomputed and rewritten
  }
}

fs::path NodeCache::stage(const std::string& key) const {
  static std::atomic<int> counter{0};
  std::random_device rd;
  fs::path dir = dir_ / "staging" / fmt::format("{}-{}-{}-{:x}", key, getpid(), counter++, rd());
  fs::create_directories(dir / "files");
  fs::create_directories(dir / "output");
  return dir;
}

fs::path NodeCache::commit(const fs::path& staging, const std::string& key,
                           const CacheRecord& record) const {
  json metrics = json::array();
  for (const auto& m : record.metrics)
    metrics.push_back({m.key, m.step, std::isfinite(m.value) ? json(m.value) : json(nullptr)});
  json files = json::array();
  for (const auto& f : record.files) files.push_back({{"path", f.relative_path}, {"kind", f.kind}});
  json j = {{"op", record.op},    {"node", record.node}, {"has_output", record.has_output},
            {"metrics", metrics}, {"files", files},      {"checksums", checksums_under(staging)}};
  write_text_file(staging / "record.json", j.dump(1));
  fs::path final_dir = entry(key);
  fs::create_directories(final_dir.parent_path());
  std::error_code ec;
  if (fs::exists(final_dir)) {
    // Move the old entry aside first: rename() cannot replace a non-empty directory.
    fs::path old = staging.string() + ".old";
    fs::rename(final_dir, old, ec);
    fs::rename(staging, final_dir, ec);
    fs::remove_all(old, ec);
  } else {
    fs::rename(staging, final_dir, ec);
  }
  if (ec && !fs::exists(final_dir / "record.json"))
    throw RunError("cannot move cache entry into " + final_dir.string() + ": " + ec.message());
  if (fs::exists(staging)) fs::remove_all(staging, ec);  // another process won the race
  return final_dir;
}

void NodeCache::discard(const fs::path& staging) const {
  std::error_code ec;
  fs::remove_all(staging, ec);
}

}  // namespace flowlab
