#include "ops/pc/container.h"

#include <xxhash.h>

#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include "common/error.h"

namespace flowlab::ops::pc {
namespace {

constexpr char kMagic[4] = {'F', 'L', 'P', 'C'};
constexpr uint32_t kVersion = 1;

template <class T>
void put(std::string& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Reads little-endian values, failing with the file's name when it runs out.
struct Reader {
  const std::string& bytes;
  const std::string& name;
  size_t pos = 0;
  template <class T>
  T get(const std::string& what) {
    if (bytes.size() - pos < sizeof(T))
      throw RunError(fmt::format("{}: the file ends inside {}", name, what));
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      v |= static_cast<T>(static_cast<uint8_t>(bytes[pos + i])) << (8 * i);
    pos += sizeof(T);
    return v;
  }
};

// 32 bits of XXH3: a damaged image slips through with probability 2^-32, at 4 bytes per image.
uint32_t pixels_hash(const uint8_t* p, size_t n) {
  return static_cast<uint32_t>(XXH3_64bits(p, n));
}

}  // namespace

std::string compress_images(const PixelModel& c, const ImageSet& images, const CodecOptions& o) {
  if (static_cast<int64_t>(images.height) * images.width != c.pixel_count())
    throw RunError(fmt::format("the circuit models {} pixels, the images have {} x {}",
                               c.pixel_count(), images.height, images.width));
  std::string out(kMagic, 4);
  put<uint32_t>(out, kVersion);
  put<uint32_t>(out, static_cast<uint32_t>(o.precision));
  put<uint32_t>(out, o.incremental ? 1 : 0);
  put<uint64_t>(out, c.fingerprint());
  put<uint32_t>(out, static_cast<uint32_t>(images.height));
  put<uint32_t>(out, static_cast<uint32_t>(images.width));
  put<uint64_t>(out, static_cast<uint64_t>(images.count()));
  // Images are independent: encode them in parallel, write them in order.
  std::vector<std::vector<uint32_t>> messages(images.count());
  tbb::parallel_for(int64_t{0}, images.count(), [&](int64_t i) {
    messages[i] = encode_image(c, &images.pixels[i * c.pixel_count()], o);
  });
  for (int64_t i = 0; i < images.count(); ++i) {
    put<uint32_t>(out, static_cast<uint32_t>(messages[i].size()));
    put<uint32_t>(out, pixels_hash(&images.pixels[i * c.pixel_count()], c.pixel_count()));
    for (uint32_t w : messages[i]) put<uint32_t>(out, w);
  }
  return out;
}

ImageSet decompress_images(const PixelModel& c, const std::string& bytes, const std::string& name) {
  if (bytes.size() < 4 || std::memcmp(bytes.data(), kMagic, 4) != 0)
    throw RunError(name + ": not a flowlab compressed file (no FLPC header)");
  Reader r{bytes, name, 4};
  if (const auto v = r.get<uint32_t>("the header"); v != kVersion)
    throw RunError(fmt::format("{}: format version {} (this flowlab reads {})", name, v, kVersion));
  CodecOptions o;
  o.precision = static_cast<int>(r.get<uint32_t>("the header"));
  o.incremental = r.get<uint32_t>("the header") != 0;
  if (o.precision < 12 || o.precision > 28)
    throw RunError(fmt::format("{}: precision {} is not one flowlab writes", name, o.precision));
  if (r.get<uint64_t>("the header") != c.fingerprint())
    throw RunError(name + ": it was compressed with another circuit than the one given");
  ImageSet images;
  images.height = static_cast<int32_t>(r.get<uint32_t>("the header"));
  images.width = static_cast<int32_t>(r.get<uint32_t>("the header"));
  const auto count = r.get<uint64_t>("the header");
  if (static_cast<int64_t>(images.height) * images.width != c.pixel_count())
    throw RunError(fmt::format("{}: images of {} x {} do not fit the circuit's {} pixels", name,
                               images.height, images.width, c.pixel_count()));
  if (count > (bytes.size() - r.pos) / 8)  // each image needs at least its 8-byte record head
    throw RunError(fmt::format("{}: the file is too short for its {} images", name, count));
  // Read every record first (the file's structure), then decode the images in parallel.
  struct Record {
    uint32_t hash = 0;
    std::vector<uint32_t> words;
  };
  std::vector<Record> records(count);
  for (uint64_t i = 0; i < count; ++i) {
    const std::string what = fmt::format("image {}", i);
    const auto n = r.get<uint32_t>(what);
    records[i].hash = r.get<uint32_t>(what);
    if (n > (bytes.size() - r.pos) / 4)
      throw RunError(fmt::format("{}: the file ends inside image {}'s message", name, i));
    records[i].words.resize(n);
    for (auto& w : records[i].words) w = r.get<uint32_t>(what);
  }
  if (r.pos != bytes.size())
    throw RunError(fmt::format("{}: {} bytes follow the last image", name, bytes.size() - r.pos));
  images.pixels.resize(count * c.pixel_count());
  std::vector<std::string> errors(count);
  tbb::parallel_for(uint64_t{0}, count, [&](uint64_t i) {
    uint8_t* x = &images.pixels[i * c.pixel_count()];
    try {
      decode_image(c, records[i].words.data(), records[i].words.size(), x, o);
      if (pixels_hash(x, c.pixel_count()) != records[i].hash)
        errors[i] = "decodes to other pixels than were compressed (the file is corrupted)";
    } catch (const std::runtime_error& e) {
      errors[i] = std::string("cannot be decoded: ") + e.what();
    }
  });
  for (uint64_t i = 0; i < count; ++i)  // the first damaged image, whatever the threads did
    if (!errors[i].empty()) throw RunError(fmt::format("{}: image {} {}", name, i, errors[i]));
  return images;
}

}  // namespace flowlab::ops::pc
