#pragma once
// The params of a dataset op that reads the user's own split files (dataset.kg_files,
// dataset.graph_files): the directory, whose contents join the cache key, and the file of each
// split in it.
#include <string>
#include <vector>

#include "graph/params.h"

namespace flowlab::datasets {

inline std::vector<ParamSpec> split_file_params(const std::string& what) {
  return {
      content_keyed(required(string_param(
          "path", "",
          "directory holding the three split files (their contents join the cache key)"))),
      string_param("train", "train.txt", "training " + what + ", relative to path"),
      string_param("valid", "valid.txt", "validation " + what + ", relative to path"),
      string_param("test", "test.txt", "test " + what + ", relative to path"),
  };
}

}  // namespace flowlab::datasets
