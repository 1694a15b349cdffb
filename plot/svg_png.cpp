#include "plot/svg_png.h"

#include <cmath>
#include <memory>
#include <stdexcept>

#ifdef FLOWLAB_HAVE_RSVG
#include <librsvg/rsvg.h>
#endif

namespace flowlab::plot {

#ifdef FLOWLAB_HAVE_RSVG

namespace {

// Owners for the C objects, so every exit path releases them.
struct GObjectUnref {
  void operator()(void* p) const { g_object_unref(p); }
};
struct SurfaceDestroy {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct CairoDestroy {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};

[[noreturn]] void fail(const std::string& what, GError* error) {
  std::string message = what + (error ? std::string(": ") + error->message : std::string());
  if (error) g_error_free(error);
  throw std::runtime_error(message);
}

}  // namespace

bool png_supported() { return true; }

void write_png(const std::string& svg, const std::filesystem::path& png, double scale) {
  GError* error = nullptr;
  std::unique_ptr<RsvgHandle, GObjectUnref> handle(
      rsvg_handle_new_from_data(reinterpret_cast<const guint8*>(svg.data()), svg.size(), &error));
  if (!handle) fail("cannot parse the SVG", error);
  gdouble width = 0, height = 0;
  if (!rsvg_handle_get_intrinsic_size_in_pixels(handle.get(), &width, &height))
    throw std::runtime_error("the SVG has no pixel size");
  const int w = static_cast<int>(std::ceil(width * scale));
  const int h = static_cast<int>(std::ceil(height * scale));
  std::unique_ptr<cairo_surface_t, SurfaceDestroy> surface(
      cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h));
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error("cannot create a " + std::to_string(w) + "x" + std::to_string(h) +
                             " image");
  std::unique_ptr<cairo_t, CairoDestroy> cr(cairo_create(surface.get()));
  const RsvgRectangle viewport{0, 0, static_cast<double>(w), static_cast<double>(h)};
  if (!rsvg_handle_render_document(handle.get(), cr.get(), &viewport, &error))
    fail("cannot render the SVG", error);
  const cairo_status_t status = cairo_surface_write_to_png(surface.get(), png.c_str());
  if (status != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error("cannot write " + png.string() + ": " +
                             cairo_status_to_string(status));
}

#else

bool png_supported() { return false; }

void write_png(const std::string&, const std::filesystem::path&, double) {
  throw std::runtime_error(
      "this flowlab was built without PNG support (librsvg2-dev was not found when CMake ran)");
}

#endif

}  // namespace flowlab::plot
