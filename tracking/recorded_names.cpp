// What the store recorded, by name (query.h): the names a filter mentions that no run has (so an
// empty answer can say "no run has metrics.eval.acuracy; did you mean metrics.eval.accuracy?"),
// and column patterns (params.*) expanded into the names recorded.
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "common/error.h"
#include "tracking/query.h"

namespace flowlab::tracking {
namespace {

std::vector<Field> recorded_fields(const ReadOnlyDb& db, FieldKind kind) {
  const char* sql = kind == FieldKind::kMetric  ? "SELECT DISTINCT node, key FROM latest_metrics"
                    : kind == FieldKind::kParam ? "SELECT DISTINCT '', key FROM params"
                                                : "SELECT DISTINCT '', key FROM tags";
  std::vector<Field> out;
  for (const auto& row : db.execute(sql).rows)
    out.push_back(Field{kind, std::get<std::string>(row[0]), std::get<std::string>(row[1])});
  std::sort(out.begin(), out.end(), [](const Field& a, const Field& b) {
    return std::tie(a.node, a.key) < std::tie(b.node, b.key);
  });
  return out;
}

// Glob match: '*' stands for any run of characters. Iterative (a '*' only ever moves forward),
// so patterns with many stars stay linear-ish rather than backtracking exponentially.
bool glob_match(const std::string& pattern, const std::string& text) {
  size_t p = 0, t = 0, star = std::string::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p, ++t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace

std::string expand_column_patterns(const ReadOnlyDb& db, const std::string& columns) {
  // Split on commas outside quotes; an item with '*' (and no quotes) is a pattern over the
  // recorded names spelled plainly: metrics.NODE.KEY, params.KEY, tags.KEY.
  std::vector<std::string> items(1);
  char quote = 0;
  for (char c : columns) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '`' || c == '"' || c == '\'') {
      quote = c;
    } else if (c == ',') {
      items.emplace_back();
      continue;
    }
    items.back() += c;
  }
  std::string out;
  for (std::string item : items) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    std::vector<std::string> expanded;
    const size_t dot = item.find('.');
    if (item.find('*') != std::string::npos && dot != std::string::npos &&
        item.find_first_of("`\"'") == std::string::npos) {
      const FieldKind kind = parse_field(item.substr(0, dot) + ".x", "--columns").kind;
      const std::string pattern = item.substr(dot + 1);
      for (const Field& f : recorded_fields(db, kind)) {
        const std::string name = kind == FieldKind::kMetric ? f.node + "." + f.key : f.key;
        if (glob_match(pattern, name)) expanded.push_back(f.display());
      }
    } else if (!item.empty()) {
      expanded.push_back(item);
    }
    for (const auto& e : expanded) out += (out.empty() ? "" : ",") + e;
  }
  return out;
}

std::vector<std::string> unknown_field_notes(const ReadOnlyDb& db, const std::string& filter) {
  std::vector<std::string> notes;
  const std::vector<Field> fields = filter_fields(filter);
  // Every name recorded, by kind (read once, only when needed).
  std::map<FieldKind, std::vector<Field>> cache;
  auto recorded = [&](FieldKind kind) -> const std::vector<Field>& {
    if (!cache.count(kind)) cache[kind] = recorded_fields(db, kind);
    return cache[kind];
  };
  std::set<std::string> said;
  for (const Field& f : fields) {
    if (f.kind == FieldKind::kAttribute || said.count(f.display())) continue;
    const auto& names = recorded(f.kind);
    bool found = false;
    std::vector<std::string> candidates;
    for (const Field& n : names) {
      // metrics.KEY (no node) is any node's KEY.
      if (n.key == f.key && (f.node.empty() || n.node == f.node)) found = true;
      candidates.push_back(f.kind == FieldKind::kMetric && f.node.empty()
                               ? Field{n.kind, "", n.key}.display()
                               : n.display());
    }
    if (found) continue;
    said.insert(f.display());
    const std::string close = closest_match(f.display(), candidates);
    notes.push_back(fmt::format("no run has {}{}", f.display(),
                                close.empty() ? "" : fmt::format("; did you mean {}?", close)));
  }
  return notes;
}

}  // namespace flowlab::tracking
