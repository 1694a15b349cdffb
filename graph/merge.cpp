#include "graph/merge.h"

#include <map>
#include <set>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace flowlab {

MergedPlan merge_plans(const std::vector<const Plan*>& plans) {
  if (plans.empty()) throw std::logic_error("merge_plans needs at least one plan");
  MergedPlan m;
  std::map<std::string, size_t> by_key;
  m.merged_index.resize(plans.size());
  for (size_t p = 0; p < plans.size(); ++p) {
    const Plan& plan = *plans[p];
    auto& index = m.merged_index[p];
    index.assign(plan.nodes.size(), 0);
    for (size_t k = 0; k < plan.nodes.size(); ++k) {
      const PlannedNode& node = plan.nodes[k];
      if (auto it = by_key.find(node.key); it != by_key.end()) {
        index[k] = it->second;
        m.owners[it->second].push_back({p, k});
        continue;
      }
      PlannedNode copy = node;
      copy.consumers.clear();
      for (auto& [port, producer] : copy.inputs) producer = index[producer];
      index[k] = copy.index = m.plan.nodes.size();
      by_key[node.key] = copy.index;
      m.plan.nodes.push_back(std::move(copy));
      m.owners.push_back({{p, k}});
    }
  }
  // Producers always come before consumers (each plan is topologically ordered and a plan's
  // producers are merged before its consumers), so the merged list is ordered too.
  for (size_t i = 0; i < m.plan.nodes.size(); ++i)
    for (const auto& in : m.plan.nodes[i].inputs) m.plan.nodes[in.second].consumers.push_back(i);
  std::set<std::string> names;
  for (size_t i = 0; i < m.plan.nodes.size(); ++i) {
    auto& node = m.plan.nodes[i];
    std::set<size_t> distinct;
    for (const auto& o : m.owners[i]) distinct.insert(o.plan);
    if (plans.size() > 1 && distinct.size() < plans.size())
      node.name = fmt::format("{}[{}]", node.name, m.owners[i].front().plan + 1);
    std::string base = node.name;
    for (int k = 2; names.count(node.name); ++k) node.name = fmt::format("{}#{}", base, k);
    names.insert(node.name);
  }
  const Plan& first = *plans.front();
  m.plan.experiment = first.experiment;
  m.plan.threads = first.threads;
  m.plan.seed = first.seed;
  m.plan.device = first.device;
  return m;
}

}  // namespace flowlab
