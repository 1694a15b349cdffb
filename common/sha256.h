#pragma once
// SHA-256 (FIPS 180-4) as lower-case hex, the digest flowlab records for every artifact file.
// Kept here, torch-free, so the test binary without LibTorch can check it against known answers.
#include <filesystem>
#include <string>
#include <string_view>

namespace flowlab {

/// Lower-case hex SHA-256 of `bytes` (64 characters).
std::string sha256_hex(std::string_view bytes);

/// Lower-case hex SHA-256 of a file's bytes; "" when the file cannot be opened or read to its end.
std::string sha256_file(const std::filesystem::path& file);

}  // namespace flowlab
