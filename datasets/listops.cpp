#include "datasets/listops.h"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "common/error.h"

namespace flowlab::datasets::listops {
namespace {

constexpr double kValueProbability = 0.75;  // LRA's VALUE_P = 0.25 is the chance of an operator

int64_t apply(int64_t op, std::vector<int64_t> args) {
  switch (op) {
    case kMin:
      return *std::min_element(args.begin(), args.end());
    case kMax:
      return *std::max_element(args.begin(), args.end());
    case kSm:
      return std::accumulate(args.begin(), args.end(), int64_t{0}) % 10;
    case kMed: {
      // Python's statistics.median then int(): the mean of the two middle values for an even
      // count, rounded down (all values are >= 0).
      std::sort(args.begin(), args.end());
      const size_t n = args.size();
      return n % 2 ? args[n / 2] : (args[n / 2 - 1] + args[n / 2]) / 2;
    }
    default:
      throw RunError(fmt::format("listops: token {} is not an operator", op));
  }
}

// Appends one subtree's tokens; returns its value.
int64_t grow(const Options& o, int64_t depth, std::mt19937_64& rng, std::vector<int64_t>& out,
             int64_t budget) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double r = depth < o.max_depth ? unit(rng) : 1.0;
  if (r > 1.0 - kValueProbability || static_cast<int64_t>(out.size()) > budget) {
    const int64_t digit = std::uniform_int_distribution<int64_t>(0, 9)(rng);
    out.push_back(digit);
    return digit;
  }
  const int64_t args = std::uniform_int_distribution<int64_t>(2, o.max_args)(rng);
  const int64_t op = std::uniform_int_distribution<int64_t>(kMin, kSm)(rng);
  out.push_back(op);
  std::vector<int64_t> values;
  for (int64_t i = 0; i < args; ++i) values.push_back(grow(o, depth + 1, rng, out, budget));
  out.push_back(kClose);
  return apply(op, values);
}

}  // namespace

Example generate(const Options& o, std::mt19937_64& rng) {
  for (int attempt = 0; attempt < 100000; ++attempt) {
    Example e;
    // Past the length bound the draw is rejected anyway: stop growing it early (every further
    // node becomes a digit) so a huge tree costs no time; lengths inside the bounds are
    // generated exactly as without the cut-off.
    e.value = grow(o, 1, rng, e.tokens, o.max_length);
    const auto n = static_cast<int64_t>(e.tokens.size());
    if (n >= o.min_length && n <= o.max_length) return e;
  }
  throw RunError(fmt::format(
      "listops: no expression of {} to {} tokens in 100,000 draws (max_depth {}, max_args {})",
      o.min_length, o.max_length, o.max_depth, o.max_args));
}

int64_t evaluate(const std::vector<int64_t>& tokens) {
  // A stack of open operators with their arguments so far.
  std::vector<std::pair<int64_t, std::vector<int64_t>>> stack;
  std::vector<int64_t> top_level;
  for (int64_t t : tokens) {
    if (t == kPad) continue;
    if (t >= 0 && t <= 9) {
      (stack.empty() ? top_level : stack.back().second).push_back(t);
    } else if (t >= kMin && t <= kSm) {
      stack.push_back({t, {}});
    } else if (t == kClose) {
      if (stack.empty()) throw RunError("listops: ']' without an operator");
      auto [op, args] = std::move(stack.back());
      stack.pop_back();
      if (args.empty()) throw RunError("listops: an operator without arguments");
      (stack.empty() ? top_level : stack.back().second).push_back(apply(op, args));
    } else {
      throw RunError(fmt::format("listops: unknown token {}", t));
    }
  }
  if (!stack.empty() || top_level.size() != 1)
    throw RunError("listops: not a single complete expression");
  return top_level.front();
}

std::string to_text(const std::vector<int64_t>& tokens) {
  static const char* names[] = {"[MIN", "[MAX", "[MED", "[SM", "]", "<pad>"};
  std::string out;
  for (int64_t t : tokens) {
    if (!out.empty()) out += ' ';
    out += t <= 9 ? std::to_string(t) : names[t - kMin];
  }
  return out;
}

}  // namespace flowlab::datasets::listops
