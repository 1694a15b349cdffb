#include "datasets/idx.h"

#include <zlib.h>

#include <fmt/format.h>
#include <torch/torch.h>

#include "common/error.h"

namespace flowlab::datasets {
namespace fs = std::filesystem;

namespace {

class GzFile {
 public:
  explicit GzFile(const fs::path& path) : path_(path) {
    if (!fs::exists(path)) throw RunError(fmt::format("{}: no such file", path.string()));
    file_ = gzopen(path.c_str(), "rb");
    if (!file_) throw RunError(fmt::format("{}: cannot open for reading", path.string()));
  }
  ~GzFile() {
    if (file_) gzclose(file_);
  }

  void read(void* buffer, size_t bytes, const char* what) {
    auto* out = static_cast<char*>(buffer);
    while (bytes > 0) {
      unsigned chunk = static_cast<unsigned>(std::min<size_t>(bytes, 1u << 30));
      int got = gzread(file_, out, chunk);
      if (got <= 0) {
        int err = 0;
        const char* msg = gzerror(file_, &err);
        throw RunError(fmt::format("{}: truncated or corrupt while reading {} ({})", path_.string(),
                                   what, err == Z_OK ? "unexpected end of file" : msg));
      }
      out += got;
      bytes -= static_cast<size_t>(got);
    }
  }

  uint32_t read_u32(const char* what) {
    unsigned char b[4];
    read(b, 4, what);
    return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3];
  }

  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  gzFile file_ = nullptr;
};

// IDX magic: two zero bytes, a type code (0x08 = unsigned byte) and the number of dimensions.
constexpr uint32_t kImagesMagic = 0x00000803, kLabelsMagic = 0x00000801;

}  // namespace

at::Tensor read_idx_images(const fs::path& file) {
  GzFile in(file);
  uint32_t magic = in.read_u32("the header");
  if (magic != kImagesMagic)
    throw RunError(fmt::format("{}: not an IDX image file (magic 0x{:08x}, expected 0x{:08x})",
                               file.string(), magic, kImagesMagic));
  uint32_t n = in.read_u32("the header"), rows = in.read_u32("the header"),
           cols = in.read_u32("the header");
  if (n == 0 || rows == 0 || cols == 0 || rows > 4096 || cols > 4096 || n > 100'000'000)
    throw RunError(
        fmt::format("{}: implausible IDX dimensions {} x {} x {}", file.string(), n, rows, cols));
  auto images = torch::empty({int64_t(n), int64_t(rows), int64_t(cols)}, torch::kUInt8);
  in.read(images.data_ptr<uint8_t>(), size_t(n) * rows * cols, "the pixels");
  return images;
}

at::Tensor read_idx_labels(const fs::path& file) {
  GzFile in(file);
  uint32_t magic = in.read_u32("the header");
  if (magic != kLabelsMagic)
    throw RunError(fmt::format("{}: not an IDX label file (magic 0x{:08x}, expected 0x{:08x})",
                               file.string(), magic, kLabelsMagic));
  uint32_t n = in.read_u32("the header");
  if (n == 0 || n > 100'000'000)
    throw RunError(fmt::format("{}: implausible label count {}", file.string(), n));
  auto labels = torch::empty({int64_t(n)}, torch::kUInt8);
  in.read(labels.data_ptr<uint8_t>(), n, "the labels");
  return labels.to(torch::kInt64);
}

}  // namespace flowlab::datasets
