#pragma once
// The errors a results store throws. No LibTorch here.
#include <stdexcept>
#include <string>

namespace flowlab::tracking {

/// Thrown for any database failure (a corrupt file, a read-only workspace, a lock held past the
/// busy timeout, a constraint, a server's error, ...); what() names the store, the statement and
/// the database's message. The flowlab command exits 3.
struct StoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The store's server cannot be reached: the connection was refused, lost mid-statement or timed
/// out. The statement may or may not have taken effect; Connection::reconnect() may help.
/// (SQLite never throws it: there is no server to lose.)
struct StoreUnavailable : StoreError {
  using StoreError::StoreError;
};

}  // namespace flowlab::tracking
