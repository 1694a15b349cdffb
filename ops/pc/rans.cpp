#include "ops/pc/rans.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace flowlab::ops::pc {
namespace {

constexpr uint64_t kLow = 1ULL << 31;  // the state stays in [kLow, kLow * 2^32)

}  // namespace

std::vector<uint32_t> quantize_pmf(const std::vector<double>& pmf, int precision) {
  const uint64_t total = 1ULL << precision;
  if (pmf.empty() || pmf.size() > total / 2)
    throw std::invalid_argument("quantize_pmf: between 1 and 2^(precision-1) symbols");
  double sum = 0;
  for (double p : pmf) {
    if (!(p >= 0) || !std::isfinite(p)) throw std::invalid_argument("quantize_pmf: weights >= 0");
    sum += p;
  }
  if (!(sum > 0)) throw std::invalid_argument("quantize_pmf: all weights are 0");
  const uint64_t spare = total - pmf.size();  // shared in proportion, after the 1 each
  std::vector<uint32_t> freq(pmf.size());
  uint64_t used = 0;
  size_t top = 0;
  for (size_t v = 0; v < pmf.size(); ++v) {
    const auto share = static_cast<uint64_t>(std::floor(pmf[v] / sum * static_cast<double>(spare)));
    freq[v] = static_cast<uint32_t>(1 + std::min(share, spare));
    used += freq[v];
    if (pmf[v] > pmf[top]) top = v;
  }
  // Rounding leaves used <= total (floors); a float sum slightly above 1 could overshoot, so
  // take any excess back from the top symbol, which holds at least that much.
  if (used <= total)
    freq[top] += static_cast<uint32_t>(total - used);
  else
    freq[top] -= static_cast<uint32_t>(used - total);
  return freq;
}

RansEncoder::RansEncoder(int precision) : precision_(precision), state_(kLow) {
  if (precision < 1 || precision > 31) throw std::invalid_argument("rANS precision in 1..31");
}

void RansEncoder::put(uint32_t start, uint32_t freq) {
  if (freq == 0 || uint64_t{start} + freq > (1ULL << precision_))
    throw std::invalid_argument("rANS: a symbol's interval must be non-empty and within range");
  // Renormalize so that the state after encoding stays below kLow * 2^32.
  const uint64_t limit = ((kLow >> precision_) << 32) * freq;
  if (state_ >= limit) {
    words_.push_back(static_cast<uint32_t>(state_));
    state_ >>= 32;
  }
  state_ = ((state_ / freq) << precision_) + (state_ % freq) + start;
}

std::vector<uint32_t> RansEncoder::finish() {
  std::vector<uint32_t> out;
  out.reserve(words_.size() + 2);
  out.push_back(static_cast<uint32_t>(state_ >> 32));
  out.push_back(static_cast<uint32_t>(state_));
  out.insert(out.end(), words_.rbegin(), words_.rend());
  words_.clear();
  state_ = kLow;
  return out;
}

RansDecoder::RansDecoder(const uint32_t* words, size_t count, int precision)
    : words_(words), count_(count), next_(2), precision_(precision) {
  if (precision < 1 || precision > 31) throw std::invalid_argument("rANS precision in 1..31");
  if (count < 2) throw std::runtime_error("the stream is shorter than a rANS state");
  state_ = (uint64_t{words[0]} << 32) | words[1];
  if (state_ < kLow) throw std::runtime_error("the stream's rANS state is invalid");
}

uint32_t RansDecoder::peek() const {
  return static_cast<uint32_t>(state_ & ((1ULL << precision_) - 1));
}

void RansDecoder::advance(uint32_t start, uint32_t freq) {
  const uint64_t mask = (1ULL << precision_) - 1;
  state_ = freq * (state_ >> precision_) + (state_ & mask) - start;
  if (state_ < kLow) {
    if (next_ >= count_) throw std::runtime_error("the stream ends before its last symbol");
    state_ = (state_ << 32) | words_[next_++];
  }
}

bool RansDecoder::finished_cleanly() const { return next_ == count_ && state_ == kLow; }

}  // namespace flowlab::ops::pc
