#include "ops/pc/general_coders.h"

#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>

#include <chrono>
#include <stdexcept>

namespace flowlab::ops::pc {
namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

CoderResult zlib9(const std::vector<uint8_t>& in) {
  CoderResult r{"zlib"};
  uLongf size = compressBound(in.size());
  std::vector<uint8_t> out(size);
  const auto t0 = std::chrono::steady_clock::now();
  if (compress2(out.data(), &size, in.data(), in.size(), 9) != Z_OK)
    throw std::runtime_error("zlib failed");
  r.seconds = since(t0), r.bytes = size;
  std::vector<uint8_t> back(in.size());
  uLongf back_size = back.size();
  r.round_trip = uncompress(back.data(), &back_size, out.data(), size) == Z_OK && back == in;
  return r;
}

CoderResult bzip2_9(const std::vector<uint8_t>& in) {
  CoderResult r{"bzip2"};
  auto size = static_cast<unsigned>(in.size() + in.size() / 100 + 600);
  std::vector<char> out(size);
  std::vector<char> src(in.begin(), in.end());
  const auto t0 = std::chrono::steady_clock::now();
  if (BZ2_bzBuffToBuffCompress(out.data(), &size, src.data(), static_cast<unsigned>(src.size()), 9,
                               0, 0) != BZ_OK)
    throw std::runtime_error("bzip2 failed");
  r.seconds = since(t0), r.bytes = size;
  std::vector<char> back(in.size());
  auto back_size = static_cast<unsigned>(back.size());
  r.round_trip =
      BZ2_bzBuffToBuffDecompress(back.data(), &back_size, out.data(), size, 0, 0) == BZ_OK &&
      back == src;
  return r;
}

CoderResult xz9e(const std::vector<uint8_t>& in) {
  CoderResult r{"xz"};
  std::vector<uint8_t> out(lzma_stream_buffer_bound(in.size()));
  size_t size = 0;
  const auto t0 = std::chrono::steady_clock::now();
  if (lzma_easy_buffer_encode(9 | LZMA_PRESET_EXTREME, LZMA_CHECK_CRC64, nullptr, in.data(),
                              in.size(), out.data(), &size, out.size()) != LZMA_OK)
    throw std::runtime_error("xz failed");
  r.seconds = since(t0), r.bytes = size;
  std::vector<uint8_t> back(in.size());
  uint64_t memlimit = UINT64_MAX;
  size_t in_pos = 0, out_pos = 0;
  r.round_trip = lzma_stream_buffer_decode(&memlimit, 0, nullptr, out.data(), &in_pos, size,
                                           back.data(), &out_pos, back.size()) == LZMA_OK &&
                 back == in;
  return r;
}

}  // namespace

std::vector<CoderResult> run_general_coders(const std::vector<uint8_t>& data) {
  return {zlib9(data), bzip2_9(data), xz9e(data)};
}

}  // namespace flowlab::ops::pc
