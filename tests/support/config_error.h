#pragma once
// The message of the ConfigError that `f` throws, or "" when it throws none: how tests of spec
// composition, validation and overrides look at what a user would be told.
#include <string>

#include "common/error.h"

namespace flowlab::testing {

template <class F>
std::string config_error_of(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace flowlab::testing
