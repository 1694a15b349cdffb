#pragma once
// The lossless codec of "Lossless Compression with Probabilistic Circuits" (research notes §6.2),
// torch-free: each image is coded on its own, pixel by pixel in the circuit's order, with rANS
// over the circuit's conditional distribution of the pixel given the pixels before it
// (quantized to 2^precision). Decoding runs forward, computing the same conditionals from the
// pixels it has decoded. The conditionals come from the model's incremental computation or its
// naive reference (ops/pc/pixel_model.h); a stream records which, because quantized
// frequencies must match bit for bit between encoder and decoder.
#include <cstdint>
#include <string>
#include <vector>

#include "ops/pc/pixel_model.h"

namespace flowlab::ops::pc {

struct CodecOptions {
  int precision = 24;  // bits of the quantized distributions (the slot range 2^precision)
  bool incremental = true;
};

/// One image's rANS message (32-bit words). `pixels` holds c.pixel_count() values below
/// c.value_count().
std::vector<uint32_t> encode_image(const PixelModel& c, const uint8_t* pixels,
                                   const CodecOptions& options);

/// Decodes one message into `pixels` (c.pixel_count() values). Throws std::runtime_error naming
/// what is wrong when the message is truncated or does not end where its last pixel does.
void decode_image(const PixelModel& c, const uint32_t* words, size_t count, uint8_t* pixels,
                  const CodecOptions& options);

}  // namespace flowlab::ops::pc
