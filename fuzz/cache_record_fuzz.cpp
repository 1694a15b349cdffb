// The node cache's record loader (graph/cache.h, NodeCache::lookup): the input is an entry's
// record.json. A damaged record must be a cache miss (nullopt: the node is recomputed), never an
// exception or a crash. The entry holds one output file, so records whose checksums name it are
// checked against real bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_support.h"
#include "graph/cache.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const flowlab::NodeCache cache(flowlab::fuzz::scratch_dir() / "cache");
  static const std::string key = "ab12";
  static const bool entry_made = [] {
    flowlab::fuzz::write_file(cache.entry(key) / "output/value.txt", "42\n");
    return true;
  }();
  (void)entry_made;
  flowlab::fuzz::write_file(cache.entry(key) / "record.json",
                            std::string(reinterpret_cast<const char*>(data), size));
  cache.lookup(key);
  return 0;
}
