#include "datasets/register.h"

#include "datasets/classification_data.h"
#include "datasets/dsd.h"

namespace flowlab::datasets {

void register_datasets(Registry& r) {
  r.add_type({ClassificationData::kType,
              "image-classification data: train / validation / test tensors and class names",
              &ClassificationData::load});
  register_fashion_mnist(r);
  r.add_type({DsdData::kType,
              "a Dynamic Signal Distribution task (w*, k, d, sigma): train / test samples x [n, k, d] "
              "and labels in {-1, +1}, with the Bayes-optimal accuracy",
              &DsdData::load});
  register_dsd(r);
}

}  // namespace flowlab::datasets
