#pragma once
// The results store's schema version and migrations, for both backends (schema.cpp holds the
// DDL). No LibTorch here.
#include "tracking/connection.h"

namespace flowlab::tracking {

/// The schema version this build writes; migrations bring older SQLite files up to it.
int latest_schema_version();

/// The store's schema version: SQLite's user_version, PostgreSQL's flowlab_schema table; 0 for
/// an empty database.
int read_schema_version(Connection& db);

/// Brings the store to `target` (-1: latest) in one transaction that other writers wait for, and
/// returns the version it is at. Refuses a newer store, a downgrade, and (PostgreSQL) any target
/// but the latest. Throws StoreError.
int migrate(Connection& db, int target = -1);

}  // namespace flowlab::tracking
