// codec.pc_rans: compresses a split of 8-bit images with a trained circuit and rANS, one message
// per image, and decodes every message back, checking each image bit for bit. Reports the
// theoretical bits per dimension (-log2 p(x) / D, averaged), the actual ones (message bits / D),
// encode and decode images per second with the incremental conditionals and, on the first
// `naive_images`, with the naive ones (the reference), and beside them zlib, bzip2 and xz on the
// same pixels as one stream, measured in the same run.
#include <chrono>
#include <cmath>

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include "common/error.h"
#include "datasets/classification_data.h"
#include "ops/metrics_table.h"
#include "ops/pc/circuit_model.h"
#include "ops/pc/codec.h"
#include "ops/pc/general_coders.h"
#include "ops/register.h"

namespace flowlab::ops::pc {
namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Timing {
  double encode_s = 0, decode_s = 0;
  size_t words = 0;
  int64_t mismatches = 0;
};

// Encodes then decodes images [0, n) in parallel (images are independent).
Timing code_images(OpContext& ctx, const PixelModel& c, const std::vector<uint8_t>& pixels,
                   int64_t n, const CodecOptions& o) {
  const int32_t d = c.pixel_count();
  std::vector<std::vector<uint32_t>> messages(n);
  Timing t;
  auto t0 = std::chrono::steady_clock::now();
  at::parallel_for(0, n, 8, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) messages[i] = encode_image(c, &pixels[i * d], o);
  });
  t.encode_s = since(t0);
  ctx.check_cancelled();
  std::vector<int64_t> wrong(n, 0);
  t0 = std::chrono::steady_clock::now();
  at::parallel_for(0, n, 8, [&](int64_t begin, int64_t end) {
    std::vector<uint8_t> back(d);
    for (int64_t i = begin; i < end; ++i) {
      decode_image(c, messages[i].data(), messages[i].size(), back.data(), o);
      wrong[i] = std::equal(back.begin(), back.end(), &pixels[i * d]) ? 0 : 1;
    }
  });
  t.decode_s = since(t0);
  for (int64_t i = 0; i < n; ++i) t.words += messages[i].size(), t.mismatches += wrong[i];
  return t;
}

ArtifactPtr run_codec(OpContext& ctx) {
  const Params& p = ctx.params();
  auto model = ctx.input<CircuitModel>("circuit");
  auto data = ctx.input<datasets::ClassificationData>("data");
  const auto& x = p.get_string("split") == "test" ? data->test_x : data->val_x;
  const PixelModel& c = model->model();
  const int32_t d = c.pixel_count();
  if (x.size(0) == 0) throw RunError("the " + p.get_string("split") + " split is empty");
  if (x[0].numel() != d)
    throw RunError(
        fmt::format("the circuit models {} pixels but the images have {}", d, x[0].numel()));
  int64_t n = x.size(0);
  if (p.get_int("limit") > 0) n = std::min(n, p.get_int("limit"));
  const auto bytes =
      x.slice(0, 0, n).reshape({n, -1}).mul(255.0).round().to(torch::kUInt8).contiguous();
  const std::vector<uint8_t> pixels(bytes.data_ptr<uint8_t>(),
                                    bytes.data_ptr<uint8_t>() + bytes.numel());
  const double dims = static_cast<double>(n) * d;

  auto table = std::make_shared<MetricsTable>();
  double log_p = 0;
  for (int64_t i = 0; i < n; ++i) log_p += c.log_likelihood(&pixels[i * d]);
  table->values["theoretical_bpd"] = -log_p / (dims * std::log(2.0));

  CodecOptions o;
  o.precision = static_cast<int>(p.get_int("precision"));
  ctx.progress(0.1, fmt::format("coding {} images (incremental)", n));
  const auto fast = code_images(ctx, c, pixels, n, o);
  if (fast.mismatches > 0)
    throw RunError(fmt::format("{} of {} images did not decode to themselves", fast.mismatches, n));
  table->values["actual_bpd"] = 32.0 * static_cast<double>(fast.words) / dims;
  table->values["bpd_gap"] = table->values["actual_bpd"] - table->values["theoretical_bpd"];
  table->values["encode_images_per_s"] = static_cast<double>(n) / fast.encode_s;
  table->values["decode_images_per_s"] = static_cast<double>(n) / fast.decode_s;
  table->values["images"] = static_cast<double>(n);

  // A Chow-Liu tree's conditional is one row of its parent's table, incremental or not.
  const int64_t naive_n =
      model->structure == "chow_liu" ? 0 : std::min(n, p.get_int("naive_images"));
  if (naive_n > 0) {
    ctx.progress(0.5, fmt::format("coding {} images (naive reference)", naive_n));
    o.incremental = false;
    const auto slow = code_images(ctx, c, pixels, naive_n, o);
    if (slow.mismatches > 0) throw RunError("the naive codec did not round-trip");
    table->values["naive_encode_images_per_s"] = static_cast<double>(naive_n) / slow.encode_s;
    table->values["naive_decode_images_per_s"] = static_cast<double>(naive_n) / slow.decode_s;
    table->values["incremental_speedup"] =
        table->values["encode_images_per_s"] / table->values["naive_encode_images_per_s"];
  }
  ctx.progress(0.8, "zlib, bzip2, xz on the same pixels");
  for (const auto& r : run_general_coders(pixels)) {
    if (!r.round_trip) throw RunError(r.name + " did not round-trip the pixels");
    table->values[r.name + "_bpd"] = 8.0 * static_cast<double>(r.bytes) / dims;
    table->values[r.name + "_encode_images_per_s"] = static_cast<double>(n) / r.seconds;
  }
  for (const auto& [key, value] : table->values) ctx.log_metric(key, value);
  return table;
}

}  // namespace

void register_codec_pc_rans(Registry& r) {
  OpDef op;
  op.name = "codec.pc_rans";
  op.summary =
      "lossless compression of images with a circuit and rANS: theoretical and actual bits per "
      "dimension, images/s (incremental vs naive), zlib / bzip2 / xz beside it";
  op.version = 1;
  op.threads = 2;
  op.headline_metrics = {"actual_bpd", "theoretical_bpd", "encode_images_per_s",
                         "decode_images_per_s", "xz_bpd"};
  op.params = {
      string_param("split", "test", "which split to compress", {"test", "val"}),
      int_param("limit", 0, "compress the first N images (0: all)", 0.0),
      int_param("precision", 24, "bits of the quantized distributions rANS codes with", 12.0, 28.0),
      int_param("naive_images", 100,
                "images also coded with the naive conditionals (the reference; slow)", 0.0),
  };
  op.inputs = {{"circuit", CircuitModel::kType, "the trained circuit"},
               {"data", datasets::ClassificationData::kType, "the images (dataset.image)"}};
  op.output_type = MetricsTable::kType;
  op.run = run_codec;
  r.add(std::move(op));
}

}  // namespace flowlab::ops::pc
