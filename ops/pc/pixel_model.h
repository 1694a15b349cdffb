#pragma once
// What the codec (ops/pc/codec.h), the .flpc container and `flowlab compress` need from a trained
// circuit over an image's pixels, whatever its structure: the order pixels are coded in, p(x),
// and the conditional distribution of each pixel given the pixels before it in that order. The
// hidden Chow-Liu tree (ops/pc/hclt.h; independent pixels are its M = 1 forest) and the plain
// Chow-Liu tree over the pixels (ops/pc/chow_liu_tree.h) implement it. Torch-free.
#include <cstdint>
#include <memory>
#include <vector>

namespace flowlab::ops::pc {

/// P(X_v = . | x_u for u before v in the coding order), one variable after another.
class Conditionals {
 public:
  virtual ~Conditionals() = default;
  /// The distribution of the next variable in order (normalized, one entry per value). Calling it
  /// again before observe() returns the same distribution.
  virtual const std::vector<double>& next() = 0;
  /// Records the next variable's value and moves on.
  virtual void observe(uint8_t value) = 0;
};

class PixelModel {
 public:
  virtual ~PixelModel() = default;
  virtual int32_t pixel_count() const = 0;
  virtual int32_t value_count() const = 0;
  /// Every pixel once; the codec's order.
  virtual const std::vector<int32_t>& coding_order() const = 0;
  /// log p(x) (nats) of one image x[pixel_count()].
  virtual double log_likelihood(const uint8_t* x) const = 0;
  /// incremental: the fast computation the codec uses; otherwise the naive reference (each
  /// conditional from whole passes over the circuit), which must give the same numbers.
  virtual std::unique_ptr<Conditionals> conditionals(bool incremental) const = 0;
  /// A 64-bit hash of the structure and every parameter: a compressed file names its circuit by it.
  virtual uint64_t fingerprint() const = 0;
};

}  // namespace flowlab::ops::pc
