// The circuit codec end to end on images drawn from a random circuit: decode(encode(x)) == x bit
// for bit with the incremental and the naive conditionals; a message costs -log2 p(x) plus at
// most the rANS state (64 bits), a word, and the quantization of each distribution; a truncated
// or altered message is an error, not a wrong image.
#include <cmath>
#include <filesystem>
#include <random>

#include <boost/test/unit_test.hpp>

#include "common/error.h"
#include "ops/pc/circuit_model.h"
#include "ops/pc/codec.h"
#include "tests/support/temp_dir.h"

namespace pc = flowlab::ops::pc;

namespace {

pc::Hclt model(int32_t d, int32_t states, int32_t values, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int32_t> parent(d, -1);
  for (int32_t v = 1; v < d; ++v) parent[v] = static_cast<int32_t>(rng() % v);
  return pc::Hclt::random(parent, states, values, seed + 1);
}

std::vector<uint8_t> images(const pc::Hclt& c, int n, uint64_t seed) {
  // Pixels drawn from the circuit's own conditionals, so the images are typical for it.
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> out(static_cast<size_t>(n) * c.variables);
  for (int s = 0; s < n; ++s) {
    pc::PrefixConditionals cond(c, true);
    for (int32_t k = 0; k < c.variables; ++k) {
      const auto& p = cond.next();
      std::discrete_distribution<int> pick(p.begin(), p.end());
      const auto x = static_cast<uint8_t>(pick(rng));
      out[static_cast<size_t>(s) * c.variables + c.order[k]] = x;
      cond.observe(x);
    }
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pc_codec)

BOOST_AUTO_TEST_CASE(images_round_trip_exactly_and_cost_their_information_plus_a_fixed_overhead) {
  const auto c = model(64, 4, 256, 1);
  const auto data = images(c, 20, 2);
  for (bool incremental : {true, false}) {
    pc::CodecOptions o;
    o.incremental = incremental;
    for (int s = 0; s < 20; ++s) {
      const uint8_t* x = &data[static_cast<size_t>(s) * 64];
      const auto words = pc::encode_image(c, x, o);
      std::vector<uint8_t> back(64);
      pc::decode_image(c, words.data(), words.size(), back.data(), o);
      BOOST_TEST((std::vector<uint8_t>(x, x + 64) == back));
      const double information = -c.log_likelihood(x) / std::log(2.0);
      const double bits = 32.0 * static_cast<double>(words.size());
      // Quantization: each symbol's frequency is at least (1 - 256 / 2^24) of its share, so it
      // costs at most ~2.2e-5 bits more per pixel.
      BOOST_TEST(bits >= information + 32 - 1e-6);
      BOOST_TEST(bits <= information + 96 + 64 * 1e-4, bits << " for " << information);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_truncated_or_altered_message_is_an_error) {
  const auto c = model(64, 4, 256, 3);
  const auto data = images(c, 8, 4);
  pc::CodecOptions o;
  int caught = 0, cases = 0;
  for (int s = 0; s < 8; ++s) {
    const auto words = pc::encode_image(c, &data[static_cast<size_t>(s) * 64], o);
    std::vector<uint8_t> back(64);
    auto truncated = words;
    truncated.pop_back();
    auto altered = words;
    altered[words.size() / 2] ^= 0x00010000u;
    for (const auto* w : {&truncated, &altered}) {
      ++cases;
      try {
        pc::decode_image(c, w->data(), w->size(), back.data(), o);
      } catch (const std::runtime_error&) {
        ++caught;
      }
    }
  }
  BOOST_TEST(caught == cases);
}

BOOST_AUTO_TEST_CASE(a_saved_circuit_loads_back_and_a_damaged_one_is_a_clear_error) {
  flowlab::testing::TempDir dir;
  pc::CircuitModel m;
  m.structure = "hclt", m.height = 8, m.width = 8;
  m.hclt = model(64, 3, 256, 5);
  m.save(dir.path());
  const auto back =
      std::dynamic_pointer_cast<const pc::CircuitModel>(pc::CircuitModel::load(dir.path()));
  BOOST_TEST((back->hclt.emission == m.hclt.emission));
  BOOST_TEST((back->hclt.order == m.hclt.order));
  std::filesystem::resize_file(dir.path() / "params.bin", 1000);
  try {
    pc::CircuitModel::load(dir.path());
    BOOST_FAIL("a truncated params.bin loaded");
  } catch (const flowlab::RunError& e) {
    BOOST_TEST(std::string(e.what()).find("params.bin does not hold the") != std::string::npos,
               e.what());
  }
}

BOOST_AUTO_TEST_SUITE_END()
