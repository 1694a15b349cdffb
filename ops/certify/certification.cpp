#include "ops/certify/certification.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/error.h"
#include "common/file_io.h"

namespace flowlab::ops::certify {

void Certification::write_csv(const std::filesystem::path& file) const {
  std::ostringstream out;
  out << "# method=" << method << " sigma=" << fmt::format("{}", sigma) << "\n";
  out << "index,label,prediction,radius,correct,count,p_lower,seconds\n";
  for (const auto& i : images)
    out << fmt::format("{},{},{},{:.17g},{},{},{:.17g},{:.6f}\n", i.index, i.label, i.prediction,
                       i.radius, i.correct ? 1 : 0, i.count, i.p_lower, i.seconds);
  write_text_file(file, out.str());
}

void Certification::save(const std::filesystem::path& dir) const {
  write_csv(dir / "certification.csv");
}

ArtifactPtr Certification::load(const std::filesystem::path& dir) {
  std::ifstream in(dir / "certification.csv");
  if (!in) throw RunError((dir / "certification.csv").string() + ": cannot read");
  auto c = std::make_shared<Certification>();
  std::string line;
  std::getline(in, line);  // # method=... sigma=...
  auto m = line.find("method="), s = line.find(" sigma=");
  c->method = line.substr(m + 7, s - m - 7);
  c->sigma = std::stod(line.substr(s + 7));
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::stringstream row(line);
    std::string f[8];
    for (auto& field : f) std::getline(row, field, ',');
    CertifiedImage i;
    i.index = std::stoll(f[0]), i.label = std::stoll(f[1]), i.prediction = std::stoll(f[2]);
    i.radius = std::stod(f[3]), i.correct = f[4] == "1", i.count = std::stoll(f[5]);
    i.p_lower = std::stod(f[6]), i.seconds = std::stod(f[7]);
    c->images.push_back(i);
  }
  return c;
}

double Certification::certified_accuracy(double r) const {
  if (images.empty()) return 0;
  int64_t ok = 0;
  for (const auto& i : images) ok += i.correct && i.radius >= r;
  return double(ok) / double(images.size());
}

double Certification::average_certified_radius() const {
  if (images.empty()) return 0;
  double sum = 0;
  for (const auto& i : images) sum += i.correct ? i.radius : 0.0;
  return sum / double(images.size());
}

double Certification::abstain_rate() const {
  if (images.empty()) return 0;
  int64_t n = 0;
  for (const auto& i : images) n += i.prediction < 0;
  return double(n) / double(images.size());
}

}  // namespace flowlab::ops::certify
