#pragma once
// The image files `flowlab compress` reads and `flowlab decompress` writes: IDX3 of bytes (the
// (Fashion-)MNIST format, gzipped or not) and binary PGM (P5, 8-bit). Torch-free.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace flowlab::ops::pc {

struct ImageSet {
  int32_t height = 0, width = 0;
  std::vector<uint8_t> pixels;  // image after image, row-major
  int64_t count() const {
    return height * width == 0 ? 0 : static_cast<int64_t>(pixels.size()) / (height * width);
  }
};

/// An .idx / .idx3-ubyte(.gz) file, or a .pgm file (one image). Throws RunError naming the file
/// and what is wrong.
ImageSet read_images(const std::filesystem::path& file);
/// IDX3 of unsigned bytes.
void write_idx(const std::filesystem::path& file, const ImageSet& images);
/// One P5 PGM per image in `dir`: image_00000.pgm, ...
void write_pgms(const std::filesystem::path& dir, const ImageSet& images);

}  // namespace flowlab::ops::pc
