// Data-driven validation tests: every tests/data/bad_specs/*.yaml starts with
// `# expect: <part of the error>`; composing and planning it with the fake registry must throw a
// ConfigError containing that text and starting with "<the file's path>:<line>:".
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "graph/compose.h"
#include "graph/plan.h"
#include "tests/support/fake_ops.h"

namespace fs = std::filesystem;

namespace {

fs::path bad_specs_dir() { return fs::path(FLOWLAB_SOURCE_DIR) / "tests" / "data" / "bad_specs"; }

std::vector<fs::path> bad_specs() {
  std::vector<fs::path> files;
  for (const auto& f : fs::directory_iterator(bad_specs_dir()))
    if (f.path().extension() == ".yaml") files.push_back(f.path());
  std::sort(files.begin(), files.end());
  return files;
}

// The text after "# expect:" on the first line, trimmed; "" if the header is missing.
std::string expectation(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  const std::string tag = "# expect:";
  if (line.rfind(tag, 0) != 0) return "";
  std::string text = line.substr(tag.size());
  text.erase(0, text.find_first_not_of(" \t"));
  text.erase(text.find_last_not_of(" \t\r") + 1);
  return text;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(graph_bad_specs)

BOOST_AUTO_TEST_CASE(every_bad_spec_fails_with_its_expected_error_at_a_file_line) {
  const flowlab::Registry registry = flowlab::testing::fake_registry();
  auto files = bad_specs();
  BOOST_TEST(files.size() >= 15u, "bad specs found in " << bad_specs_dir());
  for (const auto& file : files) {
    BOOST_TEST_CONTEXT(file.filename().string()) {
      std::string expected = expectation(file);
      BOOST_TEST(!expected.empty(), "first line must be '# expect: <part of the error>'");
      if (expected.empty()) continue;
      flowlab::ComposeOptions options;
      options.spec_file = file;
      options.config_dir = bad_specs_dir();  // no groups: keep the real configs/ out of it
      std::string message;
      try {
        flowlab::make_plan(flowlab::compose(options), registry);
      } catch (const flowlab::ConfigError& e) {
        message = e.what();
      }
      BOOST_TEST(!message.empty(), "no ConfigError was thrown");
      BOOST_TEST(message.find(expected) != std::string::npos, "expected '" << expected << "' in:\n"
                                                                           << message);
      // "<path>:<line>:" with a line past the `# expect:` header.
      std::string prefix = file.string() + ":";
      bool has_prefix = message.rfind(prefix, 0) == 0;
      BOOST_TEST(has_prefix, "message does not start with the file's path:\n" << message);
      if (has_prefix) {
        size_t digits = 0;
        while (prefix.size() + digits < message.size() &&
               std::isdigit(static_cast<unsigned char>(message[prefix.size() + digits])))
          ++digits;
        BOOST_TEST(digits > 0u, "no line number in:\n" << message);
        if (digits > 0) {
          BOOST_TEST(std::stoi(message.substr(prefix.size(), digits)) >= 2);
          BOOST_TEST(message[prefix.size() + digits] == ':');
        }
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
