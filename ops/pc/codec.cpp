#include "ops/pc/codec.h"

#include <stdexcept>

#include "ops/pc/rans.h"

namespace flowlab::ops::pc {

std::vector<uint32_t> encode_image(const PixelModel& c, const uint8_t* pixels,
                                   const CodecOptions& options) {
  // Conditionals forward (each needs the pixels before it), then rANS backward so that decoding
  // runs forward.
  const auto conditionals = c.conditionals(options.incremental);
  const int32_t d = c.pixel_count();
  const auto& order = c.coding_order();
  std::vector<uint32_t> start(d), freq(d);
  for (int32_t k = 0; k < d; ++k) {
    const int32_t v = order[k];
    const auto f = quantize_pmf(conditionals->next(), options.precision);
    uint32_t s = 0;
    for (int32_t x = 0; x < pixels[v]; ++x) s += f[x];
    start[k] = s, freq[k] = f[pixels[v]];
    conditionals->observe(pixels[v]);
  }
  RansEncoder encoder(options.precision);
  for (int32_t k = d; k-- > 0;) encoder.put(start[k], freq[k]);
  return encoder.finish();
}

void decode_image(const PixelModel& c, const uint32_t* words, size_t count, uint8_t* pixels,
                  const CodecOptions& options) {
  RansDecoder decoder(words, count, options.precision);
  const auto conditionals = c.conditionals(options.incremental);
  const auto& order = c.coding_order();
  for (int32_t k = 0; k < c.pixel_count(); ++k) {
    const auto f = quantize_pmf(conditionals->next(), options.precision);
    const uint32_t slot = decoder.peek();
    uint32_t s = 0;
    int32_t x = 0;
    while (s + f[x] <= slot) s += f[x++];  // the frequencies cover [0, 2^precision): x < values
    decoder.advance(s, f[x]);
    pixels[order[k]] = static_cast<uint8_t>(x);
    conditionals->observe(static_cast<uint8_t>(x));
  }
  if (!decoder.finished_cleanly())
    throw std::runtime_error(
        "the message does not end where its last pixel does: it is corrupted or belongs to "
        "another circuit");
}

}  // namespace flowlab::ops::pc
