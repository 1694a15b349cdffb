#pragma once
// The file `flowlab compress` writes (.flpc): a header naming the codec settings, the circuit's
// fingerprint and the image shape, then one record per image: its message length (4 bytes), a
// 32-bit checksum of its pixels and its rANS message (ops/pc/codec.h). Decompressing checks
// everything it can, so a truncated file, a corrupted one or one made with another circuit is an
// error naming the image and the reason, never a wrong image. Little-endian throughout. Torch-free.
#include <cstdint>
#include <string>

#include "ops/pc/codec.h"
#include "ops/pc/image_files.h"

namespace flowlab::ops::pc {

std::string compress_images(const PixelModel& c, const ImageSet& images,
                            const CodecOptions& options);

/// `name` (the file's) starts every error message.
ImageSet decompress_images(const PixelModel& c, const std::string& bytes, const std::string& name);

}  // namespace flowlab::ops::pc
