// The .flpc file of `flowlab compress`: images come back exactly; a truncated file, a flipped
// bit, another circuit or a file that is not ours each fail with a message naming the file (and
// the image) instead of giving a wrong image; PGM and IDX files read back what was written.
#include <filesystem>
#include <random>

#include <boost/test/unit_test.hpp>

#include "common/error.h"
#include "ops/pc/container.h"
#include "ops/pc/hclt.h"
#include "ops/pc/image_files.h"
#include "tests/support/temp_dir.h"

namespace pc = flowlab::ops::pc;

namespace {

pc::Hclt small_circuit(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int32_t> parent(36, -1);
  for (int32_t v = 1; v < 36; ++v) parent[v] = static_cast<int32_t>(rng() % v);
  return pc::Hclt::random(parent, 3, 256, seed);
}

pc::ImageSet random_images(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  pc::ImageSet s;
  s.height = s.width = 6;
  for (int i = 0; i < n * 36; ++i) s.pixels.push_back(static_cast<uint8_t>(rng() % 256));
  return s;
}

std::string error_of(const pc::Hclt& c, const std::string& bytes) {
  try {
    pc::decompress_images(c, bytes, "f.flpc");
  } catch (const flowlab::RunError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pc_container)

BOOST_AUTO_TEST_CASE(images_come_back_exactly_and_damage_is_named) {
  const auto c = small_circuit(1);
  const auto images = random_images(5, 2);
  const auto bytes = pc::compress_images(c, images, {});
  const auto back = pc::decompress_images(c, bytes, "f.flpc");
  BOOST_TEST((back.pixels == images.pixels));
  BOOST_TEST(back.height == 6);

  BOOST_TEST(error_of(c, bytes.substr(0, bytes.size() - 3)).find("f.flpc: the file ends") == 0,
             error_of(c, bytes.substr(0, bytes.size() - 3)));
  BOOST_TEST(error_of(c, bytes.substr(0, 20)).find("the file ends inside the header") !=
             std::string::npos);
  int named = 0;
  for (size_t at = 44; at < bytes.size(); at += 29) {  // flip a bit in the records, one at a time
    auto bad = bytes;
    bad[at] = static_cast<char>(bad[at] ^ 0x10);
    const auto e = error_of(c, bad);
    named += e.find("f.flpc:") == 0 ? 1 : 0;
    BOOST_TEST(!e.empty(), "a flipped bit at byte " << at << " decoded silently");
  }
  BOOST_TEST(named > 0);
  BOOST_TEST(error_of(small_circuit(7), bytes).find("compressed with another circuit") !=
             std::string::npos);
  BOOST_TEST(error_of(c, "hello world").find("not a flowlab compressed file") != std::string::npos);
  BOOST_TEST(error_of(c, bytes + "xx").find("bytes follow the last image") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(pgm_and_idx_files_round_trip_and_a_bad_pgm_is_named) {
  flowlab::testing::TempDir dir;
  const auto images = random_images(3, 4);
  pc::write_idx(dir.path() / "a.idx", images);
  const auto idx = pc::read_images(dir.path() / "a.idx");
  BOOST_TEST((idx.pixels == images.pixels));
  BOOST_TEST(idx.count() == 3);
  pc::write_pgms(dir.path() / "pgm", images);
  const auto one = pc::read_images(dir.path() / "pgm" / "image_00002.pgm");
  BOOST_TEST((one.pixels == std::vector<uint8_t>(images.pixels.begin() + 72, images.pixels.end())));
  std::filesystem::resize_file(dir.path() / "pgm" / "image_00001.pgm", 20);
  BOOST_CHECK_EXCEPTION(pc::read_images(dir.path() / "pgm" / "image_00001.pgm"), flowlab::RunError,
                        [](const flowlab::RunError& e) {
                          return std::string(e.what()).find("image_00001.pgm: the file ends") !=
                                 std::string::npos;
                        });
}

BOOST_AUTO_TEST_SUITE_END()
