#pragma once
// Looking after the node cache (graph/cache.h) from outside a run: listing its entries, the pins
// by which running executors claim the entries they may read, and removing entries safely while
// other processes run. `flowlab cache du|gc` and `flowlab delete --purge` build on this; which
// entries may go is decided with the results database, in experiments/cli/housekeeping.cpp.
//
// Why pins and a lock (and not only the database): an executor looks up every node of its plan
// when it starts, but loads a cached output, and records the node in the database, only when the
// node's turn comes, possibly hours later in a large sweep. Until then nothing in the database
// says the entry is in use. So before its first lookup an executor writes a pin, the list of its
// plan's keys, to <cache>/pins/, holding <cache>/lock shared while it does; gc holds that lock
// exclusively from the moment it reads the pins until it has removed what it chose. Either the
// pin is written first (gc sees it and keeps those keys) or gc finishes first (the executor's
// lookups then find the entries gone and recompute them). An entry is removed by renaming it into
// staging/ first, so a lookup sees it whole or not at all. The pin goes when the executor ends; a
// pin left by a killed process is ignored (and removed) once its process is gone.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace flowlab {

/// One entry of the cache: <dir>/<key[0:2]>/<key>/.
struct CacheEntryInfo {
  std::string key;
  std::string op;         // from record.json; "" when the record is missing or unreadable
  std::string node;       // the node that wrote it
  int64_t bytes = 0;      // every file in the entry
  double mtime = 0;       // record.json's modification time (when the entry was written), unix s
  bool complete = false;  // record.json is there and parses
};

/// Every entry of the cache at `dir`, sorted by key. No directory: none.
std::vector<CacheEntryInfo> scan_cache(const std::filesystem::path& dir);

/// A directory under <dir>/staging/: a node being computed (or left by a killed process), an old
/// entry being replaced, or an entry being removed. Named "<key>-<pid>-...".
struct StagingInfo {
  std::filesystem::path path;
  int64_t pid = 0;  // of the process that made it (0 when the name does not say)
  int64_t bytes = 0;
  double mtime = 0;  // the newest modification time of anything inside
};
std::vector<StagingInfo> scan_staging(const std::filesystem::path& dir);

/// A running executor's claim on the entries of its plan (see above). Best effort: where the
/// cache cannot be written (a read-only workspace, where nothing can be removed either) it pins
/// nothing.
class CachePin {
 public:
  CachePin(const std::filesystem::path& cache_dir, const std::vector<std::string>& keys);
  ~CachePin();
  CachePin(const CachePin&) = delete;
  CachePin& operator=(const CachePin&) = delete;
  const std::filesystem::path& file() const { return file_; }  // empty when nothing was pinned

 private:
  std::filesystem::path file_;
};

struct PinInfo {
  std::filesystem::path file;
  std::string host;
  int64_t pid = 0;
  double mtime = 0;
  std::vector<std::string> keys;
};
/// Every pin in the cache at `dir` (unreadable ones are skipped).
std::vector<PinInfo> read_pins(const std::filesystem::path& dir);

/// Holds <dir>/lock exclusively: no executor can pin while it lives. Waits up to `timeout_s` for
/// the pins being written to finish, then throws RunError.
class CacheGcLock {
 public:
  explicit CacheGcLock(const std::filesystem::path& dir, double timeout_s = 30);
  ~CacheGcLock();
  CacheGcLock(const CacheGcLock&) = delete;
  CacheGcLock& operator=(const CacheGcLock&) = delete;

 private:
  int fd_ = -1;
};

/// Whether process `pid` exists on this host (a zombie does not count).
bool local_process_alive(int64_t pid);
/// This machine's host name.
std::string local_host_name();

/// Removes entry `key`: renamed into staging/ first (atomic), then deleted. Returns the bytes
/// freed (0 when there was no such entry). Call it while holding a CacheGcLock.
int64_t remove_cache_entry(const std::filesystem::path& dir, const std::string& key);

/// Removes a directory tree, returning the bytes it held.
int64_t remove_tree(const std::filesystem::path& path);

}  // namespace flowlab
