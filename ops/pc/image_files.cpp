#include "ops/pc/image_files.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/error.h"
#include "common/file_io.h"
#include "datasets/idx_format.h"

namespace flowlab::ops::pc {
namespace {

ImageSet read_pgm(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw RunError("cannot read " + file.string());
  std::string magic;
  in >> magic;
  if (magic != "P5") throw RunError(file.string() + ": not a binary PGM (expected P5)");
  auto number = [&](const char* what) {
    in >> std::ws;
    while (in.peek() == '#') {  // comments run to the end of the line
      std::string skip;
      std::getline(in, skip);
      in >> std::ws;
    }
    long long v = -1;
    if (!(in >> v) || v <= 0 || v > 65535)
      throw RunError(
          fmt::format("{}: the PGM header's {} is not a positive count", file.string(), what));
    return static_cast<int32_t>(v);
  };
  ImageSet s;
  s.width = number("width");
  s.height = number("height");
  if (number("maxval") != 255)
    throw RunError(file.string() + ": only 8-bit PGMs (maxval 255) can be compressed");
  in.get();  // the single whitespace before the pixels
  s.pixels.resize(static_cast<size_t>(s.width) * s.height);
  in.read(reinterpret_cast<char*>(s.pixels.data()), static_cast<std::streamsize>(s.pixels.size()));
  if (in.gcount() != static_cast<std::streamsize>(s.pixels.size()))
    throw RunError(fmt::format("{}: the file ends after {} of its {} pixels", file.string(),
                               in.gcount(), s.pixels.size()));
  return s;
}

}  // namespace

ImageSet read_images(const std::filesystem::path& file) {
  if (file.extension() == ".pgm") return read_pgm(file);
  const auto idx = datasets::read_idx_file(file, datasets::IdxKind::kImages);
  ImageSet s;
  s.height = static_cast<int32_t>(idx.dims.at(1));
  s.width = static_cast<int32_t>(idx.dims.at(2));
  s.pixels = idx.values;
  return s;
}

void write_idx(const std::filesystem::path& file, const ImageSet& images) {
  std::string out = {0, 0, 8, 3};
  for (uint32_t d : {static_cast<uint32_t>(images.count()), static_cast<uint32_t>(images.height),
                     static_cast<uint32_t>(images.width)})
    for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<char>((d >> shift) & 0xff));
  out.append(reinterpret_cast<const char*>(images.pixels.data()), images.pixels.size());
  write_text_file(file, out);
}

void write_pgms(const std::filesystem::path& dir, const ImageSet& images) {
  std::filesystem::create_directories(dir);
  const size_t d = static_cast<size_t>(images.height) * images.width;
  for (int64_t i = 0; i < images.count(); ++i) {
    std::string out = fmt::format("P5\n{} {}\n255\n", images.width, images.height);
    out.append(reinterpret_cast<const char*>(&images.pixels[i * d]), d);
    write_text_file(dir / fmt::format("image_{:05d}.pgm", i), out);
  }
}

}  // namespace flowlab::ops::pc
