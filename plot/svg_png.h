#pragma once
// SVG -> PNG through librsvg and cairo, when the build found them (Debian: librsvg2-dev). Without
// them flowlab still builds; png_supported() says which it is.
#include <filesystem>
#include <string>

namespace flowlab::plot {

/// True when this build links librsvg and can write PNGs.
bool png_supported();

/// Renders `svg` (a whole document) to a PNG at `scale` times its intrinsic pixel size.
/// Throws std::runtime_error when the SVG cannot be parsed or rendered, the file cannot be
/// written, or png_supported() is false. Thread-safe (no shared state).
void write_png(const std::string& svg, const std::filesystem::path& png, double scale = 2.0);

}  // namespace flowlab::plot
