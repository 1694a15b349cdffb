#include "ops/pc/circuit_model.h"

#include <fstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/file_io.h"
#include "ops/pc/chow_liu.h"

namespace flowlab::ops::pc {
namespace {

template <class T>
void append(std::string& out, const std::vector<T>& v) {
  out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

template <class T>
void read(std::ifstream& in, std::vector<T>& v) {
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
}

template <class T>
size_t bytes_of(const std::vector<T>& v) {
  return v.size() * sizeof(T);
}

}  // namespace

const PixelModel& CircuitModel::model() const {
  if (structure == "chow_liu") return tree;
  return hclt;
}

void CircuitModel::save(const std::filesystem::path& dir) const {
  nlohmann::json j{{"structure", structure}, {"height", height}, {"width", width}};
  std::string bytes;
  if (structure == "chow_liu") {
    const auto& t = tree;
    j.update({{"variables", t.variables},
              {"values", t.values},
              {"smoothing", t.smoothing},
              {"samples", t.samples},
              {"pairs", t.pair_value.size()},
              {"parent", t.parent},
              {"order", t.order}});
    append(bytes, t.marginal), append(bytes, t.parent_count), append(bytes, t.row_start);
    append(bytes, t.pair_value), append(bytes, t.pair_count);
  } else {
    const auto& c = hclt;
    j.update({{"variables", c.variables},
              {"values", c.values},
              {"states", c.states},
              {"parent", c.parent},
              {"order", c.order}});
    append(bytes, c.prior), append(bytes, c.transition), append(bytes, c.emission);
  }
  write_text_file(dir / "circuit.json", j.dump());
  write_text_file(dir / "params.bin", bytes);
}

ArtifactPtr CircuitModel::load(const std::filesystem::path& dir) {
  auto m = std::make_shared<CircuitModel>();
  const auto json_path = dir / "circuit.json";
  const auto params_path = dir / "params.bin";
  std::ifstream in(params_path, std::ios::binary);
  size_t expected = 0;
  try {
    std::ifstream text(json_path);
    if (!text) throw RunError("cannot read " + json_path.string());
    const auto j = nlohmann::json::parse(text);
    m->structure = j.at("structure");
    m->height = j.at("height"), m->width = j.at("width");
    const int32_t d = j.at("variables"), values = j.at("values");
    const auto parent = j.at("parent").get<std::vector<int32_t>>();
    const auto order = j.at("order").get<std::vector<int32_t>>();
    if (d <= 0 || values <= 0 || values > 256 || parent.size() != static_cast<size_t>(d) ||
        order != depth_first_order(parent))
      throw RunError(json_path.string() +
                     ": the tree and its coding order do not describe the variables");
    const size_t rows = static_cast<size_t>(d) * values;
    if (m->structure == "chow_liu") {
      auto& t = m->tree;
      t.variables = d, t.values = values, t.parent = parent, t.order = order;
      t.smoothing = j.at("smoothing"), t.samples = j.at("samples");
      const size_t pairs = j.at("pairs");
      t.marginal.resize(rows), t.parent_count.resize(rows), t.row_start.resize(rows + 1);
      t.pair_value.resize(pairs), t.pair_count.resize(pairs);
      expected = bytes_of(t.marginal) + bytes_of(t.parent_count) + bytes_of(t.row_start) +
                 bytes_of(t.pair_value) + bytes_of(t.pair_count);
      read(in, t.marginal), read(in, t.parent_count), read(in, t.row_start);
      read(in, t.pair_value), read(in, t.pair_count);
    } else {
      auto& c = m->hclt;
      c.variables = d, c.values = values, c.states = j.at("states");
      c.parent = parent, c.order = order;
      const size_t s = c.states;
      c.prior.resize(d * s), c.transition.resize(d * s * s), c.emission.resize(rows * s);
      expected = bytes_of(c.prior) + bytes_of(c.transition) + bytes_of(c.emission);
      read(in, c.prior), read(in, c.transition), read(in, c.emission);
    }
  } catch (const nlohmann::json::exception& e) {
    throw RunError(json_path.string() + " is not a circuit description: " + e.what());
  } catch (const std::invalid_argument& e) {
    throw RunError(json_path.string() + ": " + e.what());
  }
  if (!in || in.peek() != std::char_traits<char>::eof())
    throw RunError(fmt::format("{} does not hold the {} bytes of parameters the circuit needs",
                               params_path.string(), expected));
  if (m->structure == "chow_liu") try {
      m->tree.check();
    } catch (const std::invalid_argument& e) {
      throw RunError(params_path.string() + ": " + e.what());
    }
  return m;
}

}  // namespace flowlab::ops::pc
