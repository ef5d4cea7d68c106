#include "drive/thumbnail.h"

#include <vips/vips.h>
// After vips.h, whose types it uses without including it.
#include <vips/vector.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace penncloud::drive {
namespace {

struct Unref {
  void operator()(void* object) const { g_object_unref(object); }
};
using ImagePtr = std::unique_ptr<VipsImage, Unref>;

// libvips reports errors in a per-thread buffer; this takes and clears it.
std::string TakeVipsError() {
  std::string message = vips_error_buffer();
  vips_error_clear();
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  constexpr size_t kMaxMessage = 300;
  if (message.size() > kMaxMessage) message.resize(kMaxMessage);
  return message;
}

absl::Status Undecodable(const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": ", TakeVipsError()));
}

// The loader libvips must have chosen for each sniffed format: if it picked another, the
// bytes are not what their magic number says.
std::string_view LoaderFor(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "jpegload_buffer";
    case ImageFormat::kPng:
      return "pngload_buffer";
    case ImageFormat::kWebp:
      return "webpload_buffer";
    case ImageFormat::kGif:
      return "gifload_buffer";
  }
  return "";
}

// JPEG has no alpha; a transparent PNG, WebP or GIF is shown on white, as a page would.
absl::StatusOr<ImagePtr> FlattenOnWhite(ImagePtr image) {
  if (!vips_image_hasalpha(image.get())) return image;
  VipsImage* flat = nullptr;
  VipsArrayDouble* white = vips_array_double_newv(1, 255.0);
  int rc = vips_flatten(image.get(), &flat, "background", white, nullptr);
  vips_area_unref(VIPS_AREA(white));
  if (rc != 0) return Undecodable("flatten");
  return ImagePtr(flat);
}

// libvips and glib print warnings ("not enough data") to stderr, which the parent reads as
// the failure's reason: errors travel through the return value instead.
void DropLogLine(const gchar*, GLogLevelFlags, const gchar*, gpointer) {}

}  // namespace

std::optional<ImageFormat> SniffImageFormat(std::string_view b) {
  if (b.size() >= 3 && b.substr(0, 3) == "\xFF\xD8\xFF") return ImageFormat::kJpeg;
  if (b.size() >= 8 && b.substr(0, 8) == "\x89PNG\r\n\x1A\n") return ImageFormat::kPng;
  if (b.size() >= 6 && (b.substr(0, 6) == "GIF87a" || b.substr(0, 6) == "GIF89a")) {
    return ImageFormat::kGif;
  }
  if (b.size() >= 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") {
    return ImageFormat::kWebp;
  }
  return std::nullopt;
}

absl::Status InitThumbnailDecoder() {
  if (VIPS_INIT("penncloud-thumbnailer") != 0) {
    return absl::InternalError(absl::StrCat("vips_init: ", TakeVipsError()));
  }
  g_log_set_handler("VIPS", static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE),
                    DropLogLine, nullptr);
  // Every loader off, then the four we sniff for back on (libvips 8.13+).
  vips_operation_block_set("VipsForeignLoad", TRUE);
  for (const char* loader : {"VipsForeignLoadJpegBuffer", "VipsForeignLoadPngBuffer",
                             "VipsForeignLoadWebpBuffer", "VipsForeignLoadNsgifBuffer"}) {
    vips_operation_block_set(loader, FALSE);
  }
  // One image per process: worker threads and a cache of operations would only cost memory.
  vips_concurrency_set(1);
  vips_cache_set_max(0);
  // No ORC: it compiles vector code at run time into writable, executable memory, which the
  // thumbnailer's syscall filter refuses (drive/thumbnailer_child.h).
  vips_vector_set_enabled(FALSE);
  return absl::OkStatus();
}

absl::StatusOr<std::string> MakeThumbnail(std::string_view image, int longest_side,
                                          const DecodeLimits& limits) {
  if (longest_side < kMinThumbnailSide || longest_side > kMaxThumbnailSide) {
    return absl::InvalidArgumentError(
        absl::StrCat("thumbnail size must be ", kMinThumbnailSide, "..", kMaxThumbnailSide));
  }
  std::optional<ImageFormat> format = SniffImageFormat(image);
  if (!format) return absl::UnimplementedError("not a JPEG, PNG, WebP or GIF image");
  void* data = const_cast<char*>(image.data());  // libvips only reads it

  // Opening reads the header only; no pixel is decoded until the thumbnail asks for them.
  ImagePtr header(vips_image_new_from_buffer(data, image.size(), "", "access",
                                             VIPS_ACCESS_SEQUENTIAL, nullptr));
  if (header == nullptr) return Undecodable("unreadable image header");
  const char* loader = nullptr;
  if (vips_image_get_string(header.get(), VIPS_META_LOADER, &loader) != 0 ||
      LoaderFor(*format) != loader) {
    vips_error_clear();
    return absl::InvalidArgumentError("the image is not what its first bytes say");
  }
  uint64_t pixels = static_cast<uint64_t>(vips_image_get_width(header.get())) *
                    static_cast<uint64_t>(vips_image_get_page_height(header.get()));
  if (pixels > limits.max_pixels) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the image declares ", vips_image_get_width(header.get()), "x",
        vips_image_get_page_height(header.get()), " pixels (limit ", limits.max_pixels, ")"));
  }
  header.reset();

  // thumbnail_buffer lets libjpeg and libwebp scale while decoding and streams the rest
  // top to bottom. fail_on=error: a truncated or corrupt file is an error, not a grey band
  // (given as a loader option: libvips 8.14's own fail_on argument does not reach the
  // loader it reopens to shrink while decoding).
  VipsImage* small = nullptr;
  if (vips_thumbnail_buffer(data, image.size(), &small, longest_side, "height", longest_side,
                            "size", VIPS_SIZE_DOWN, "option_string", "fail_on=error",
                            nullptr) != 0) {
    return Undecodable("cannot decode the image");
  }
  auto flat = FlattenOnWhite(ImagePtr(small));
  if (!flat.ok()) return flat.status();

  void* out = nullptr;
  size_t out_size = 0;
  if (vips_jpegsave_buffer(flat->get(), &out, &out_size, "Q", 82, "strip", TRUE, "optimize_coding",
                           TRUE, nullptr) != 0) {
    return Undecodable("cannot encode the thumbnail");
  }
  std::string jpeg(static_cast<const char*>(out), out_size);
  g_free(out);
  return jpeg;
}

}  // namespace penncloud::drive
