#pragma once
#include <filesystem>
#include <string>

namespace flowlab::testing {

/// Writes `text` to `path`, creating its parent directories.
void write_file(const std::filesystem::path& path, const std::string& text);

/// Whether `s` contains `part` (for checks on error messages).
inline bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

/// A fresh directory under the system temp dir, removed (with its contents) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace flowlab::testing
