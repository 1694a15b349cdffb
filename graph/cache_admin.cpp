#include "graph/cache_admin.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/file.h>

#include "common/error.h"

namespace flowlab {
namespace fs = std::filesystem;

namespace {

double unix_mtime(const fs::path& p) {
  std::error_code ec;
  const auto t = fs::last_write_time(p, ec);
  if (ec) return 0;
  // file_time_type's clock is not system_clock before C++20's clock_cast: go through "now".
  const auto now_file = fs::file_time_type::clock::now();
  const auto now_sys = std::chrono::system_clock::now();
  const auto sys =
      now_sys + std::chrono::duration_cast<std::chrono::system_clock::duration>(t - now_file);
  return std::chrono::duration<double>(sys.time_since_epoch()).count();
}

// Bytes of every regular file under `p` and the newest modification time of anything there.
void measure(const fs::path& p, int64_t& bytes, double& newest) {
  std::error_code ec;
  newest = std::max(newest, unix_mtime(p));
  for (fs::recursive_directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    if (it->is_regular_file(e2)) {
      const auto size = it->file_size(e2);
      if (!e2) bytes += static_cast<int64_t>(size);
    }
    newest = std::max(newest, unix_mtime(it->path()));
  }
}

bool is_hex(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) &&
           !std::isupper(static_cast<unsigned char>(c));
  });
}

std::string random_hex() {
  std::random_device rd;
  return fmt::format("{:08x}", static_cast<uint32_t>(rd()));
}

int open_lock(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  return ::open((dir / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
}

}  // namespace

bool local_process_alive(int64_t pid) {
  if (pid <= 0) return false;
  if (kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string id, comm, state;
  return !(stat >> id >> comm >> state && state == "Z");
}

std::string local_host_name() {
  char name[256] = {0};
  gethostname(name, sizeof name - 1);
  return name;
}

std::vector<CacheEntryInfo> scan_cache(const fs::path& dir) {
  std::vector<CacheEntryInfo> out;
  std::error_code ec;
  for (fs::directory_iterator shard(dir, ec), end; !ec && shard != end; shard.increment(ec)) {
    const std::string prefix = shard->path().filename().string();
    if (prefix.size() != 2 || !is_hex(prefix) || !shard->is_directory()) continue;
    std::error_code ec2;
    for (fs::directory_iterator e(shard->path(), ec2); !ec2 && e != end; e.increment(ec2)) {
      const std::string key = e->path().filename().string();
      if (!e->is_directory() || key.rfind(prefix, 0) != 0) continue;
      CacheEntryInfo info;
      info.key = key;
      double newest = 0;
      measure(e->path(), info.bytes, newest);
      const fs::path record = e->path() / "record.json";
      info.mtime = fs::exists(record) ? unix_mtime(record) : newest;
      try {
        std::ifstream in(record);
        if (in) {
          const auto j = nlohmann::json::parse(in);
          info.op = j.value("op", "");
          info.node = j.value("node", "");
          info.complete = true;
        }
      } catch (const nlohmann::json::exception&) {
      }
      out.push_back(std::move(info));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const CacheEntryInfo& a, const CacheEntryInfo& b) { return a.key < b.key; });
  return out;
}

std::vector<StagingInfo> scan_staging(const fs::path& dir) {
  std::vector<StagingInfo> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir / "staging", ec), end; !ec && it != end; it.increment(ec)) {
    StagingInfo s;
    s.path = it->path();
    const std::string name = s.path.filename().string();
    // "<key>-<pid>-..." (NodeCache::stage, its ".old" twin, remove_cache_entry's "-gc-").
    const auto dash = name.find('-');
    if (dash != std::string::npos) {
      const auto next = name.find('-', dash + 1);
      try {
        s.pid =
            std::stoll(name.substr(dash + 1, next == std::string::npos ? next : next - dash - 1));
      } catch (const std::exception&) {
        s.pid = 0;
      }
    }
    measure(s.path, s.bytes, s.mtime);
    out.push_back(std::move(s));
  }
  return out;
}

CachePin::CachePin(const fs::path& cache_dir, const std::vector<std::string>& keys) {
  if (cache_dir.empty()) return;
  const int fd = open_lock(cache_dir);
  if (fd < 0) return;  // a read-only cache: nothing can remove its entries either
  // Shared: executors pin side by side; only gc (exclusive) waits for them, and they for it.
  while (flock(fd, LOCK_SH) != 0 && errno == EINTR) {
  }
  static std::atomic<int> counter{0};
  const fs::path dir = cache_dir / "pins";
  const std::string host = local_host_name();
  const std::string name =
      fmt::format("{}-{}-{}-{}", host, getpid(), counter.fetch_add(1), random_hex());
  try {
    fs::create_directories(dir);
    const fs::path tmp = dir / (name + ".tmp");
    {
      std::ofstream out(tmp);
      out << nlohmann::json{{"host", host}, {"pid", getpid()}, {"keys", keys}}.dump();
      out.close();
      if (!out) throw std::runtime_error("cannot write " + tmp.string());
    }
    fs::rename(tmp, dir / (name + ".pin"));  // a pin is read whole or not at all
    file_ = dir / (name + ".pin");
  } catch (const std::exception&) {
    std::error_code ec;
    fs::remove(dir / (name + ".tmp"), ec);
  }
  flock(fd, LOCK_UN);
  ::close(fd);
}

CachePin::~CachePin() {
  if (file_.empty()) return;
  std::error_code ec;
  fs::remove(file_, ec);
}

std::vector<PinInfo> read_pins(const fs::path& dir) {
  std::vector<PinInfo> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir / "pins", ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".pin") continue;
    try {
      std::ifstream in(it->path());
      if (!in) continue;
      const auto j = nlohmann::json::parse(in);
      PinInfo p;
      p.file = it->path();
      p.host = j.at("host").get<std::string>();
      p.pid = j.at("pid").get<int64_t>();
      p.keys = j.at("keys").get<std::vector<std::string>>();
      p.mtime = unix_mtime(it->path());
      out.push_back(std::move(p));
    } catch (const std::exception&) {
    }
  }
  return out;
}

CacheGcLock::CacheGcLock(const fs::path& dir, double timeout_s) {
  fd_ = open_lock(dir);
  if (fd_ < 0)
    throw RunError(fmt::format("cannot open {}: {}", (dir / "lock").string(),
                               std::error_code(errno, std::generic_category()).message()));
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  while (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      ::close(fd_);
      throw RunError("cannot lock " + (dir / "lock").string());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::close(fd_);
      throw RunError(fmt::format("{} stayed locked for {} s (runs starting?); try again",
                                 (dir / "lock").string(), timeout_s));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

CacheGcLock::~CacheGcLock() {
  if (fd_ >= 0) {
    flock(fd_, LOCK_UN);
    ::close(fd_);
  }
}

int64_t remove_tree(const fs::path& path) {
  int64_t bytes = 0;
  double newest = 0;
  measure(path, bytes, newest);
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) throw RunError(fmt::format("cannot remove {}: {}", path.string(), ec.message()));
  return bytes;
}

int64_t remove_cache_entry(const fs::path& dir, const std::string& key) {
  if (key.size() < 2) return 0;
  const fs::path entry = dir / key.substr(0, 2) / key;
  std::error_code ec;
  if (!fs::exists(entry, ec)) return 0;
  fs::create_directories(dir / "staging", ec);
  const fs::path trash = dir / "staging" / fmt::format("{}-{}-gc-{}", key, getpid(), random_hex());
  fs::rename(entry, trash, ec);
  if (ec) {
    if (!fs::exists(entry)) return 0;  // gone meanwhile
    throw RunError(fmt::format("cannot remove cache entry {}: {}", entry.string(), ec.message()));
  }
  return remove_tree(trash);
}

}  // namespace flowlab
