#include "common/sha256.h"

#include <fstream>
#include <memory>

#include <openssl/evp.h>

namespace flowlab {
namespace {

// Incremental SHA-256 over OpenSSL's EVP interface; digest() is "" when OpenSSL reports an error.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    ok_ = ctx_ && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1;
  }
  void update(const void* data, size_t size) {
    ok_ = ok_ && EVP_DigestUpdate(ctx_.get(), data, size) == 1;
  }
  std::string digest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    ok_ = ok_ && EVP_DigestFinal_ex(ctx_.get(), md, &len) == 1;
    if (!ok_) return "";
    static const char kHex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(2 * len);
    for (unsigned i = 0; i < len; ++i) hex += kHex[md[i] >> 4], hex += kHex[md[i] & 15];
    return hex;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
  bool ok_ = false;
};

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  Sha256 h;
  h.update(bytes.data(), bytes.size());
  return h.digest();
}

std::string sha256_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "";
  Sha256 h;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) h.update(buffer, in.gcount());
  if (in.bad()) return "";  // a read error, not the end of the file: no digest of a prefix
  return h.digest();
}

}  // namespace flowlab
