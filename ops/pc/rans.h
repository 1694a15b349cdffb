#pragma once
// rANS (range asymmetric numeral systems, Duda 2013) with a 64-bit state and 32-bit output words,
// as Giesen's rans64 and the PressedJuice reference coder use it (research notes §6.2): a symbol
// is an interval [start, start + freq) of the integers below 2^precision, drawn from the model's
// conditional distribution (see quantize_pmf). The encoder takes symbols in reverse order and the
// decoder returns them forward, so a decoder can compute each symbol's distribution from the
// symbols decoded before it. A message costs Σ log2(2^precision / freq) bits plus at most 64 bits
// of final state. Torch-free.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace flowlab::ops::pc {

/// Frequencies for `pmf` (any non-negative weights, not all 0) on a total of 2^precision:
/// every symbol gets at least 1 (so any symbol stays encodable) and the rest is shared in
/// proportion to the weights, the rounding remainder going to the most probable symbol. A
/// deterministic function of its input, so encoder and decoder agree.
std::vector<uint32_t> quantize_pmf(const std::vector<double>& pmf, int precision);

class RansEncoder {
 public:
  explicit RansEncoder(int precision);
  /// Encodes the symbol [start, start + freq); call in reverse order of decoding.
  void put(uint32_t start, uint32_t freq);
  /// The encoded message: the final state (two words) followed by the words emitted, in the
  /// order the decoder reads them. The encoder is reset afterwards.
  std::vector<uint32_t> finish();

 private:
  int precision_;
  uint64_t state_;
  std::vector<uint32_t> words_;  // emitted, in reverse order of reading
};

class RansDecoder {
 public:
  /// Reads a message produced by RansEncoder::finish(). Throws std::runtime_error when it is too
  /// short to hold a state or the state is impossible.
  RansDecoder(const uint32_t* words, size_t count, int precision);
  /// The slot of the next symbol, in [0, 2^precision): the symbol whose interval holds it.
  uint32_t peek() const;
  /// Consumes the symbol [start, start + freq) that holds peek(). Throws std::runtime_error when
  /// the message ends early (a truncated or corrupted stream).
  void advance(uint32_t start, uint32_t freq);
  /// Whether every word was consumed and the state is back at its initial value: a message that
  /// decoded to the symbols encoded ends exactly so.
  bool finished_cleanly() const;

 private:
  const uint32_t* words_;
  size_t count_, next_;
  int precision_;
  uint64_t state_;
};

}  // namespace flowlab::ops::pc
