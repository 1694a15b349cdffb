#include "common/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace flowlab {
namespace {

// An open file descriptor that remembers the first failure instead of throwing mid-write.
class CheckedFile {
 public:
  explicit CheckedFile(const std::filesystem::path& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("cannot create");
  }
  ~CheckedFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  CheckedFile(const CheckedFile&) = delete;
  CheckedFile& operator=(const CheckedFile&) = delete;

  size_t write(const void* data, size_t size) {
    const char* p = static_cast<const char*>(data);
    size_t left = size;
    while (error_.empty() && left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {  // 0 cannot happen for a regular file; treat it as no space rather than spin
        if (n == 0) errno = ENOSPC;
        fail("cannot write");
        break;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    return size;
  }

  // Closing can report a deferred write error (NFS, quota), so it is checked too.
  void close() {
    if (fd_ >= 0) {
      const int rc = ::close(fd_);
      fd_ = -1;
      if (rc != 0 && error_.empty()) fail("cannot finish writing");
    }
    if (!error_.empty()) throw WriteError(error_, code_);
  }

 private:
  void fail(const char* what) {
    if (!error_.empty()) return;
    code_ = errno;
    error_ = std::string(what) + " " + path_.string() + ": " + std::strerror(code_);
    if (code_ == ENOSPC || code_ == EDQUOT)
      error_ += " (free some space, e.g. with `flowlab cache gc`, then `flowlab resume`)";
  }

  std::filesystem::path path_;
  int fd_ = -1;
  std::string error_;
  int code_ = 0;
};

}  // namespace

bool is_storage_error(int code) {
  return code == ENOSPC || code == EDQUOT || code == EFBIG || code == EROFS || code == EIO;
}

void write_text_file(const std::filesystem::path& path, std::string_view contents) {
  CheckedFile file(path);
  file.write(contents.data(), contents.size());
  file.close();
}

void write_file_with(const std::filesystem::path& path,
                     const std::function<void(const ByteSink&)>& serialize) {
  CheckedFile file(path);
  const ByteSink sink = [&file](const void* data, size_t size) { return file.write(data, size); };
  serialize(sink);
  file.close();
}

}  // namespace flowlab
