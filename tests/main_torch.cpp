// Test runner for datasets, ops and end-to-end runs (links LibTorch).
#define BOOST_TEST_MODULE flowlab_torch
#include <boost/test/unit_test.hpp>
