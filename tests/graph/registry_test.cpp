// Registry: ops and artifact types are registered once each; a second registration of a name is a
// programming error, reported at start-up rather than silently replacing the first.
#include <stdexcept>
#include <string>

#include <boost/test/unit_test.hpp>

#include "graph/op.h"
#include "tests/support/fake_ops.h"

BOOST_AUTO_TEST_SUITE(graph_registry)

BOOST_AUTO_TEST_CASE(add_type_refuses_a_duplicate_name) {
  flowlab::Registry r;
  r.add_type({"thing", "the first", nullptr});
  try {
    r.add_type({"thing", "the second", nullptr});
    BOOST_FAIL("expected an error");
  } catch (const std::logic_error& e) {
    BOOST_TEST(std::string(e.what()) == "artifact type 'thing' registered twice");
  }
  // The first registration stays.
  BOOST_REQUIRE(r.find_type("thing"));
  BOOST_TEST(r.find_type("thing")->summary == "the first");
}

BOOST_AUTO_TEST_CASE(add_refuses_a_duplicate_op) {
  flowlab::Registry r;
  flowlab::OpDef op;
  op.name = "test.op";
  r.add(op);
  BOOST_CHECK_THROW(r.add(op), std::logic_error);
}

BOOST_AUTO_TEST_CASE(registering_the_fake_ops_twice_fails_on_their_types) {
  flowlab::Registry r = flowlab::testing::fake_registry();
  BOOST_CHECK_THROW(flowlab::testing::register_fake_ops(r), std::logic_error);
}

BOOST_AUTO_TEST_SUITE_END()
