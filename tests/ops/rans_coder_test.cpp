// The rANS coder against what defines it: any sequence of symbols drawn from any quantized
// distributions decodes back exactly and leaves the decoder in its initial state; the message's
// length is the symbols' information content (Σ log2(2^precision / freq)) plus at most the
// 64-bit final state and a word; a truncated message is an error, not a wrong answer.
#include <cmath>
#include <random>

#include <boost/test/unit_test.hpp>

#include "ops/pc/rans.h"

namespace pc = flowlab::ops::pc;

namespace {

struct Symbols {
  std::vector<std::vector<uint32_t>> freqs;  // per position: the quantized distribution
  std::vector<uint32_t> values;              // per position: the symbol
};

Symbols draw(size_t n, int alphabet, int precision, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::gamma_distribution<double> concentration(0.3, 1.0);  // peaked, like pixel conditionals
  Symbols s;
  for (size_t i = 0; i < n; ++i) {
    std::vector<double> pmf(alphabet);
    for (auto& p : pmf) p = concentration(rng);
    const auto freq = pc::quantize_pmf(pmf, precision);
    std::discrete_distribution<uint32_t> pick(freq.begin(), freq.end());
    s.values.push_back(pick(rng));
    s.freqs.push_back(freq);
  }
  return s;
}

uint32_t start_of(const std::vector<uint32_t>& freq, uint32_t v) {
  uint32_t start = 0;
  for (uint32_t u = 0; u < v; ++u) start += freq[u];
  return start;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rans_coder)

BOOST_AUTO_TEST_CASE(quantized_frequencies_cover_the_range_and_keep_every_symbol) {
  for (int precision : {12, 16, 28}) {
    const auto f = pc::quantize_pmf({0.5, 0.0, 0.25, 1e-12, 0.25}, precision);
    uint64_t total = 0;
    for (uint32_t x : f) {
      BOOST_TEST(x >= 1u);
      total += x;
    }
    BOOST_TEST(total == (1ULL << precision));
    BOOST_TEST(f[0] > f[2]);
  }
  BOOST_CHECK_THROW(pc::quantize_pmf({0.0, 0.0}, 16), std::invalid_argument);
  BOOST_CHECK_THROW(pc::quantize_pmf({1.0, -0.1}, 16), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(every_message_decodes_exactly_and_costs_its_information_plus_the_state) {
  for (int precision : {16, 28}) {
    const auto s = draw(5000, 256, precision, static_cast<uint64_t>(precision));
    pc::RansEncoder enc(precision);
    double information = 0;
    for (size_t i = s.values.size(); i-- > 0;) {
      const uint32_t v = s.values[i], f = s.freqs[i][v];
      enc.put(start_of(s.freqs[i], v), f);
      information += precision - std::log2(static_cast<double>(f));
    }
    const auto words = enc.finish();
    const double bits = 32.0 * static_cast<double>(words.size());
    BOOST_TEST(bits >= information + 32 - 1e-6, bits << " bits for " << information);
    BOOST_TEST(bits <= information + 96, bits << " bits for " << information);

    pc::RansDecoder dec(words.data(), words.size(), precision);
    bool all_equal = true;
    for (size_t i = 0; i < s.values.size(); ++i) {
      const uint32_t slot = dec.peek();
      uint32_t v = 0, start = 0;
      while (start + s.freqs[i][v] <= slot) start += s.freqs[i][v++];
      all_equal = all_equal && v == s.values[i];
      dec.advance(start, s.freqs[i][v]);
    }
    BOOST_TEST(all_equal);
    BOOST_TEST(dec.finished_cleanly());
  }
}

BOOST_AUTO_TEST_CASE(a_truncated_message_is_an_error_or_an_unclean_end) {
  const auto s = draw(2000, 256, 28, 9);
  pc::RansEncoder enc(28);
  for (size_t i = s.values.size(); i-- > 0;)
    enc.put(start_of(s.freqs[i], s.values[i]), s.freqs[i][s.values[i]]);
  const auto words = enc.finish();
  for (size_t keep : {size_t{0}, size_t{1}, words.size() / 2, words.size() - 1}) {
    bool failed = false;
    try {
      pc::RansDecoder dec(words.data(), keep, 28);
      for (size_t i = 0; i < s.values.size(); ++i) {
        uint32_t v = 0, start = 0;
        while (start + s.freqs[i][v] <= dec.peek()) start += s.freqs[i][v++];
        dec.advance(start, s.freqs[i][v]);
      }
      failed = !dec.finished_cleanly();
    } catch (const std::runtime_error&) {
      failed = true;
    }
    BOOST_TEST(failed, "kept " << keep << " of " << words.size() << " words");
  }
}

BOOST_AUTO_TEST_SUITE_END()
