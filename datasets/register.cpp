#include "datasets/register.h"

#include "datasets/classification_data.h"

namespace flowlab::datasets {

void register_datasets(Registry& r) {
  r.add_type({ClassificationData::kType,
              "image-classification data: train / validation / test tensors and class names",
              &ClassificationData::load});
  register_fashion_mnist(r);
}

}  // namespace flowlab::datasets
