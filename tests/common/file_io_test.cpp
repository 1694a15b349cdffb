// Tests for common/file_io: every write error is reported with the path and the system's reason,
// including the ones std::ofstream would swallow. /dev/full fails every write with ENOSPC, as a
// full disk does.
#include "common/file_io.h"

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

#include <boost/test/unit_test.hpp>

#include "tests/support/temp_dir.h"

namespace {

using flowlab::ByteSink;
using flowlab::WriteError;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(common_file_io)

BOOST_AUTO_TEST_CASE(a_text_file_is_written_whole_and_replaces_the_old_one) {
  flowlab::testing::TempDir dir;
  flowlab::write_text_file(dir / "a.txt", "a longer first version\n");
  flowlab::write_text_file(dir / "a.txt", "second\n");
  BOOST_TEST(read_all(dir / "a.txt") == "second\n");
}

BOOST_AUTO_TEST_CASE(a_full_disk_is_an_error_naming_the_path_and_the_reason) {
  BOOST_CHECK_EXCEPTION(flowlab::write_text_file("/dev/full", "x"), WriteError,
                        [](const WriteError& e) {
                          return e.code() == ENOSPC && contains(e.what(), "/dev/full") &&
                                 contains(e.what(), "No space left on device");
                        });
}

BOOST_AUTO_TEST_CASE(a_missing_directory_is_an_error_naming_the_path) {
  flowlab::testing::TempDir dir;
  BOOST_CHECK_EXCEPTION(
      flowlab::write_text_file(dir / "no" / "such.txt", "x"), WriteError,
      [](const WriteError& e) { return e.code() == ENOENT && contains(e.what(), "no/such.txt"); });
}

BOOST_AUTO_TEST_CASE(a_serializer_sees_every_byte_taken_and_the_error_comes_after_it_returns) {
  // LibTorch's writer terminates the process when a write comes up short, so the sink must
  // claim every byte; the failure is thrown once the serializer is done.
  size_t claimed = 0, offered = 0;
  bool serializer_returned = false;
  BOOST_CHECK_EXCEPTION(flowlab::write_file_with("/dev/full",
                                                 [&](const ByteSink& sink) {
                                                   std::string chunk(4096, 'z');
                                                   for (int i = 0; i < 8; ++i) {
                                                     offered += chunk.size();
                                                     claimed += sink(chunk.data(), chunk.size());
                                                   }
                                                   serializer_returned = true;
                                                 }),
                        WriteError, [](const WriteError& e) { return e.code() == ENOSPC; });
  BOOST_TEST(serializer_returned);
  BOOST_TEST(claimed == offered);
}

BOOST_AUTO_TEST_CASE(a_serializer_writing_to_a_good_file_writes_every_byte) {
  flowlab::testing::TempDir dir;
  flowlab::write_file_with(dir / "b.bin", [](const ByteSink& sink) {
    sink("abc", 3);
    sink("", 0);
    sink("de", 2);
  });
  BOOST_TEST(read_all(dir / "b.bin") == "abcde");
}

BOOST_AUTO_TEST_CASE(storage_errors_are_told_apart_from_races) {
  BOOST_TEST(flowlab::is_storage_error(ENOSPC));
  BOOST_TEST(flowlab::is_storage_error(EFBIG));
  BOOST_TEST(flowlab::is_storage_error(EROFS));
  BOOST_TEST(!flowlab::is_storage_error(EBUSY));
  BOOST_TEST(!flowlab::is_storage_error(ENOENT));
}

BOOST_AUTO_TEST_SUITE_END()
