#pragma once
// The parsed filter: what filter_parser.cpp makes of a filter's text and sql_builder.cpp turns into
// SQL. Internal to tracking/; query.h is the public API.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "tracking/query.h"

namespace flowlab::tracking::filter {

// ---------------------------------------------------------------------------------------------
// Attributes: the run columns a filter may name. `sql` is fixed text from this table; the user's
// spelling only selects a row of it.

struct Attribute {
  const char* name;
  const char* sql;
  const char* type;  // int | real | time | text
  /// What stands for `sql` in a database older than schema version 5 (which has no deleted_at
  /// column); nullptr: `sql` works at every version.
  const char* before_v5 = nullptr;
  const char* sql_at(int schema_version) const {
    return before_v5 && schema_version < 5 ? before_v5 : sql;
  }
};

/// The attribute a name or MLflow alias (any case) stands for, or nullptr.
const Attribute* find_attribute(const std::string& name);

// ---------------------------------------------------------------------------------------------
// The parsed filter.

enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kLike, kILike, kIn, kIsNull };

struct Literal {
  std::string text;              // a string's contents, or a number as written
  std::optional<double> number;  // set when the literal is (or spells) a number
  size_t pos = 0;
};

struct Comparison {
  Field field;
  const Attribute* attribute = nullptr;  // for attributes
  Op op = Op::kEq;
  bool negated = false;  // NOT LIKE / NOT ILIKE / NOT IN / IS NOT NULL
  std::vector<Literal> values;
};

struct Expr {
  enum Kind { kCompare, kAnd, kOr } kind = kCompare;
  Comparison cmp;
  std::vector<Expr> children;
};

/// A whole filter; nullopt when it is blank. Throws QuerySyntaxError (option "filter").
std::optional<Expr> parse(const std::string& filter);

/// Appends the fields `e` compares, each once, in order of first appearance.
void collect_fields(const Expr& e, std::vector<Field>& out);

}  // namespace flowlab::tracking::filter
