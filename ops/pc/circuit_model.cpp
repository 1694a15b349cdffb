#include "ops/pc/circuit_model.h"

#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/file_io.h"

namespace flowlab::ops::pc {
namespace {

void append(std::string& out, const std::vector<double>& v) {
  out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
}

}  // namespace

void CircuitModel::save(const std::filesystem::path& dir) const {
  const auto& c = circuit;
  write_text_file(dir / "circuit.json", nlohmann::json{{"structure", structure},
                                                       {"height", height},
                                                       {"width", width},
                                                       {"variables", c.variables},
                                                       {"values", c.values},
                                                       {"states", c.states},
                                                       {"parent", c.parent},
                                                       {"order", c.order}}
                                            .dump());
  std::string bytes;
  append(bytes, c.prior);
  append(bytes, c.transition);
  append(bytes, c.emission);
  write_text_file(dir / "params.bin", bytes);
}

ArtifactPtr CircuitModel::load(const std::filesystem::path& dir) {
  auto m = std::make_shared<CircuitModel>();
  auto& c = m->circuit;
  const auto json_path = dir / "circuit.json";
  try {
    std::ifstream in(json_path);
    if (!in) throw RunError("cannot read " + json_path.string());
    const auto j = nlohmann::json::parse(in);
    m->structure = j.at("structure");
    m->height = j.at("height"), m->width = j.at("width");
    c.variables = j.at("variables"), c.values = j.at("values"), c.states = j.at("states");
    c.parent = j.at("parent").get<std::vector<int32_t>>();
    c.order = j.at("order").get<std::vector<int32_t>>();
  } catch (const nlohmann::json::exception& e) {
    throw RunError(json_path.string() + " is not a circuit description: " + e.what());
  }
  const size_t d = c.variables, s = c.states, v = c.values;
  if (c.parent.size() != d || c.order.size() != d)
    throw RunError(json_path.string() + ": the tree does not have one entry per variable");
  c.prior.resize(d * s), c.transition.resize(d * s * s), c.emission.resize(d * s * v);
  const auto params_path = dir / "params.bin";
  std::ifstream in(params_path, std::ios::binary);
  const size_t expected = (c.prior.size() + c.transition.size() + c.emission.size()) * 8;
  const auto read = [&](std::vector<double>& p) {
    in.read(reinterpret_cast<char*>(p.data()), static_cast<std::streamsize>(p.size() * 8));
  };
  read(c.prior), read(c.transition), read(c.emission);
  if (!in || in.peek() != std::char_traits<char>::eof())
    throw RunError(fmt::format("{} does not hold the {} bytes of parameters the circuit needs",
                               params_path.string(), expected));
  return m;
}

}  // namespace flowlab::ops::pc
