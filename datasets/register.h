#pragma once
#include "graph/op.h"

namespace flowlab::datasets {

/// Registers every dataset op and the `dataset` and `dsd` artifact types.
void register_datasets(Registry& registry);

// One function per dataset file.
void register_fashion_mnist(Registry& registry);
void register_as_sequence(Registry& registry);
void register_listops(Registry& registry);
void register_dsd(Registry& registry);
// Knowledge graphs (torch-free: library flowlab_kg_data).
void register_knowledge_graphs(Registry& registry);
// Graph classification data (torch-free: library flowlab_graph_data).
void register_graph_datasets(Registry& registry);

}  // namespace flowlab::datasets
