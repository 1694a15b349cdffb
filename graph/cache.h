#pragma once
// The content-addressed node cache: <cache_dir>/<key[0:2]>/<key>/ holds a finished node's output
// (`output/`, written by Artifact::save), the files it produced (`files/`) and what it logged
// (`record.json`: metrics, file list and a checksum of every file). Entries are built in a staging
// directory and renamed into place, so a killed process never leaves a half-written entry behind;
// an entry whose bytes changed afterwards (a damaged disk, a stray write) fails its checksums and
// is recomputed, never reused.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace flowlab {

struct CachedMetric {
  std::string key;
  int64_t step = 0;
  double value = 0;
};

struct CachedFile {
  std::string relative_path;  // under files/
  std::string kind;
};

struct CacheRecord {
  std::string op;
  std::string node;
  bool has_output = false;
  std::vector<CachedMetric> metrics;
  std::vector<CachedFile> files;
  /// XXH3-64 of every file under output/ and files/, by path relative to the entry. Empty for
  /// entries written before checksums were kept (they are trusted).
  std::map<std::string, std::string> checksums;
};

class NodeCache {
 public:
  explicit NodeCache(std::filesystem::path dir);

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path entry(const std::string& key) const;
  /// The entry's record, if the entry is complete and every file matches its checksum (a mismatch
  /// is reported on stderr and counts as a miss, so the node is recomputed and its entry
  /// rewritten).
  std::optional<CacheRecord> lookup(const std::string& key) const;

  /// A fresh staging directory (with files/ and output/ inside) for a node being computed.
  std::filesystem::path stage(const std::string& key) const;
  /// Writes the record and atomically moves the staging directory into place, replacing an
  /// existing entry (a --no-cache run refreshes it). Returns the entry's final path.
  std::filesystem::path commit(const std::filesystem::path& staging, const std::string& key,
                               const CacheRecord& record) const;
  /// Drops a staging directory after a failure.
  void discard(const std::filesystem::path& staging) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace flowlab
