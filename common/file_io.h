#pragma once
// Writing files so that a full disk (or any other write error) is an error naming the path, never
// a silently truncated file or a crash. std::ofstream reports nothing unless asked after every
// step, and LibTorch's file writer throws from its destructor (std::terminate) when a write fails,
// so every file flowlab writes goes through these.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace flowlab {

/// A file could not be written; `code` is the errno (ENOSPC for a full disk).
class WriteError : public RunError {
 public:
  WriteError(std::string message, int code) : RunError(std::move(message)), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

/// True for errors that mean the storage itself refuses writes (full, over quota, read-only,
/// failing), as opposed to a race with another process over one path.
bool is_storage_error(int code);

/// Where a serializer puts its bytes: returns how many it took (LibTorch's save_to signature).
using ByteSink = std::function<size_t(const void* data, size_t size)>;

/// Creates or truncates `path` and writes `contents`; throws WriteError naming the path and the
/// system's reason ("No space left on device") when any step fails.
void write_text_file(const std::filesystem::path& path, std::string_view contents);

/// Runs `serialize` with a sink writing to `path`, then closes the file; throws RunError naming
/// the path (WriteError) when opening, any write or closing failed. The sink always reports every
/// byte taken, so a serializer that cannot handle a short write (LibTorch's) never sees one: the
/// first error is kept, later bytes are dropped, and the error is thrown once the serializer has
/// returned. Usage: write_file_with(dir / "weights.pt", [&](const ByteSink& s) { torch::save(w, s);
/// });
void write_file_with(const std::filesystem::path& path,
                     const std::function<void(const ByteSink&)>& serialize);

}  // namespace flowlab
