#pragma once
// ListOps (Nangia & Bowman 2018, in the Long Range Arena's version, Tay et al. 2021): prefix
// expressions over the digits 0-9 with the operators MAX, MIN, MED (median, rounded down) and SM
// (sum modulo 10), e.g. [MAX 2 9 [MIN 4 7 ] 0 ] = 9; the label is the value, 10 classes.
// Generated as LRA's listops.py does: a node at depth < max_depth is an operator with probability
// 1/4 (else a digit), an operator takes 2..max_args arguments, a node at max_depth is a digit;
// expressions whose token count falls outside [min_length, max_length] are drawn again.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace flowlab::datasets::listops {

/// Token ids: the digits are 0-9, then the operators, the closing bracket and padding.
enum Token : int64_t { kMin = 10, kMax = 11, kMed = 12, kSm = 13, kClose = 14, kPad = 15 };
constexpr int64_t kVocabSize = 16;

struct Options {
  int64_t max_depth = 10;
  int64_t max_args = 10;
  int64_t min_length = 1;
  int64_t max_length = 500;
};

struct Example {
  std::vector<int64_t> tokens;  // unpadded
  int64_t value = 0;            // the label
};

/// One expression, drawn with `rng`. Throws RunError after 100,000 draws outside the length
/// bounds (bounds that the generator essentially never meets).
Example generate(const Options& options, std::mt19937_64& rng);

/// Evaluates a token sequence (padding ignored); throws RunError when it is malformed. An
/// independent check of generate()'s labels.
int64_t evaluate(const std::vector<int64_t>& tokens);

/// "[MAX 2 9 [MIN 4 7 ] 0 ]"
std::string to_text(const std::vector<int64_t>& tokens);

}  // namespace flowlab::datasets::listops
