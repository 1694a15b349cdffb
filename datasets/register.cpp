#include "datasets/register.h"

#include "datasets/classification_data.h"
#include "datasets/dsd.h"

namespace flowlab::datasets {

void register_datasets(Registry& r) {
  r.add_interface({ClassificationData::kInterface,
                   "labelled examples of any kind (images or sequences) with train / validation / "
                   "test splits: what a classifier trains and is evaluated on"});
  r.add_type({ClassificationData::kType,
              "labelled images [N, C, H, W] (pixels in [0, 1]): train / validation / test splits "
              "and class names",
              loader(&ClassificationData::load),
              {ClassificationData::kInterface}});
  r.add_type({ClassificationData::kSequenceType,
              "labelled sequences [N, L, C] of features or [N, L] tokens: train / validation / "
              "test splits, class names and the vocabulary size",
              loader(&ClassificationData::load),
              {ClassificationData::kInterface}});
  register_fashion_mnist(r);
  register_as_sequence(r);
  register_listops(r);
  r.add_type(
      {DsdData::kType,
       "a Dynamic Signal Distribution task (w*, k, d, sigma): train / test samples x [n, k, d] "
       "and labels in {-1, +1}, with the Bayes-optimal accuracy",
       loader(&DsdData::load)});
  register_dsd(r);
  register_knowledge_graphs(r);
  register_graph_datasets(r);
}

}  // namespace flowlab::datasets
