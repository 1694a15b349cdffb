#include "datasets/idx_format.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "common/error.h"

namespace flowlab::datasets {
namespace fs = std::filesystem;

namespace {

// IDX magic: two zero bytes, a type code (0x08 = unsigned byte) and the number of dimensions.
constexpr uint32_t kImagesMagic = 0x00000803, kLabelsMagic = 0x00000801;
// The most values a dimension or a whole file may claim: (Fashion-)MNIST has 70,000 28x28 images.
constexpr uint32_t kMaxCount = 100'000'000, kMaxSide = 4096;

class Reader {
 public:
  Reader(const IdxReadFn& read, const std::string& name,
         const std::function<std::string()>& end_reason)
      : read_(read), name_(name), end_reason_(end_reason) {}

  // Reads exactly `bytes` bytes; throws RunError naming `what` at the end of the input.
  void read_exact(void* buffer, size_t bytes, const char* what) {
    auto* out = static_cast<char*>(buffer);
    while (bytes > 0) {
      size_t got = read_(out, bytes);
      if (got == 0) truncated(what);
      out += got;
      bytes -= got;
    }
  }

  uint32_t read_u32(const char* what) {
    unsigned char b[4];
    read_exact(b, 4, what);
    return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3];
  }

  // Reads `bytes` bytes into a vector that grows (doubling) with what has arrived: the header's
  // claim alone allocates nothing.
  std::vector<uint8_t> read_payload(size_t bytes, const char* what) {
    std::vector<uint8_t> out;
    size_t filled = 0;
    while (filled < bytes) {
      out.resize(std::min(bytes, std::max<size_t>(size_t{1} << 16, 2 * filled)));
      read_exact(out.data() + filled, out.size() - filled, what);
      filled = out.size();
    }
    return out;
  }

  [[noreturn]] void truncated(const char* what) const {
    std::string why = end_reason_ ? end_reason_() : "";
    throw RunError(fmt::format("{}: truncated or corrupt while reading {} ({})", name_, what,
                               why.empty() ? "unexpected end of file" : why));
  }

 private:
  const IdxReadFn& read_;
  const std::string& name_;
  const std::function<std::string()>& end_reason_;
};

}  // namespace

IdxData read_idx(const IdxReadFn& read, IdxKind kind, const std::string& name,
                 const std::function<std::string()>& end_reason) {
  Reader in(read, name, end_reason);
  const bool images = kind == IdxKind::kImages;
  const uint32_t expected = images ? kImagesMagic : kLabelsMagic;
  uint32_t magic = in.read_u32("the header");
  if (magic != expected)
    throw RunError(fmt::format("{}: not an IDX {} file (magic 0x{:08x}, expected 0x{:08x})", name,
                               images ? "image" : "label", magic, expected));
  IdxData data;
  data.dims.push_back(in.read_u32("the header"));
  if (images) {
    data.dims.push_back(in.read_u32("the header"));
    data.dims.push_back(in.read_u32("the header"));
    uint32_t n = data.dims[0], rows = data.dims[1], cols = data.dims[2];
    if (n == 0 || rows == 0 || cols == 0 || rows > kMaxSide || cols > kMaxSide || n > kMaxCount)
      throw RunError(
          fmt::format("{}: implausible IDX dimensions {} x {} x {}", name, n, rows, cols));
    data.values = in.read_payload(size_t{n} * rows * cols, "the pixels");
  } else {
    if (data.dims[0] == 0 || data.dims[0] > kMaxCount)
      throw RunError(fmt::format("{}: implausible label count {}", name, data.dims[0]));
    data.values = in.read_payload(data.dims[0], "the labels");
  }
  return data;
}

IdxData parse_idx(const uint8_t* data, size_t size, IdxKind kind, const std::string& name) {
  size_t at = 0;
  auto read = [&](void* buffer, size_t bytes) {
    size_t n = std::min(bytes, size - at);
    if (n > 0) std::memcpy(buffer, data + at, n);
    at += n;
    return n;
  };
  return read_idx(read, kind, name);
}

IdxData read_idx_file(const fs::path& file, IdxKind kind) {
  const std::string name = file.string();
  if (!fs::exists(file)) throw RunError(fmt::format("{}: no such file", name));
  gzFile gz = gzopen(file.c_str(), "rb");
  if (!gz) throw RunError(fmt::format("{}: cannot open for reading", name));
  struct Closer {
    gzFile gz;
    ~Closer() { gzclose(gz); }
  } closer{gz};
  auto read = [&](void* buffer, size_t bytes) -> size_t {
    unsigned chunk = static_cast<unsigned>(std::min<size_t>(bytes, 1u << 30));
    int got = gzread(gz, buffer, chunk);
    return got > 0 ? static_cast<size_t>(got) : 0;  // -1 (corrupt): end_reason says why
  };
  auto end_reason = [&]() -> std::string {
    int err = 0;
    const char* msg = gzerror(gz, &err);
    return err == Z_OK ? "" : msg;
  };
  return read_idx(read, kind, name, end_reason);
}

}  // namespace flowlab::datasets
