// Test runner for everything that does not link LibTorch.
#define BOOST_TEST_MODULE flowlab_core
#include <boost/test/unit_test.hpp>
