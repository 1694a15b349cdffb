// Tests for common/sha256: the digest recorded for every artifact, checked against the known
// answers of FIPS 180-2 (appendix B; also what coreutils' sha256sum prints), not against itself.
#include "common/sha256.h"

#include <fstream>
#include <string>

#include <boost/test/unit_test.hpp>

#include "tests/support/temp_dir.h"

using flowlab::sha256_file;
using flowlab::sha256_hex;
using flowlab::testing::TempDir;

namespace {

const char* kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const char* kAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
// 56 bytes: the padding no longer fits in the first block, so the digest takes two blocks.
const char* kTwoBlocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
const char* kTwoBlocksDigest = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
// One million times 'a'.
const char* kMillionA = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

void write_bytes(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary);
  out << bytes;
  BOOST_REQUIRE(out.flush());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(common_sha256)

BOOST_AUTO_TEST_CASE(fips_180_2_known_answers) {
  BOOST_TEST(sha256_hex("abc") == kAbc);
  BOOST_TEST(sha256_hex("") == kEmpty);
  BOOST_TEST(sha256_hex(kTwoBlocks) == kTwoBlocksDigest);
  BOOST_TEST(sha256_hex(std::string(1000000, 'a')) == kMillionA);
  // Bytes, not a C string: an embedded NUL is hashed (sha256sum of the 4 bytes "a\0bc").
  BOOST_TEST(sha256_hex(std::string("a\0bc", 4)) != sha256_hex("a"));
}

BOOST_AUTO_TEST_CASE(a_file_hashes_to_the_digest_of_its_bytes) {
  TempDir dir;
  write_bytes(dir / "abc", "abc");
  BOOST_TEST(sha256_file(dir / "abc") == kAbc);
  write_bytes(dir / "empty", "");
  BOOST_TEST(sha256_file(dir / "empty") == kEmpty);
  // 1,000,000 bytes are read in several 64 KiB chunks, the last one partial.
  write_bytes(dir / "million", std::string(1000000, 'a'));
  BOOST_TEST(sha256_file(dir / "million") == kMillionA);
  // No file, or a directory that cannot be read as one: no digest.
  BOOST_TEST(sha256_file(dir / "missing") == "");
  BOOST_TEST(sha256_file(dir.path()) == "");
}

BOOST_AUTO_TEST_SUITE_END()
