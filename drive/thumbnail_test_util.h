// Test images for the thumbnail tests and benchmark, made with libvips in memory, and a
// reader of a thumbnail's dimensions.
#pragma once

#include <vips/vips.h>

#include <cstdint>
#include <string>
#include <utility>

#include "drive/thumbnail.h"

namespace penncloud::drive::testing {

// A w x h image in `format`: a colour gradient plus noise, so JPEG cannot compress it to
// nothing (a 12 MP one is a few MB, like a photo). `alpha` adds a half-transparent band.
inline std::string TestImage(ImageFormat format, int w, int h, bool alpha = false) {
  VipsImage *xyz = nullptr, *xy = nullptr, *noise = nullptr, *sum = nullptr, *rgb = nullptr,
            *out = nullptr;
  vips_xyz(&xyz, w, h, nullptr);                  // two bands: x, y
  vips_remainder_const1(xyz, &xy, 256, nullptr);  // repeating ramps
  vips_gaussnoise(&noise, w, h, "sigma", 20.0, "mean", 64.0, "seed", 7, nullptr);
  VipsImage* bands[3] = {nullptr, nullptr, nullptr};
  vips_extract_band(xy, &bands[0], 0, nullptr);
  vips_extract_band(xy, &bands[1], 1, nullptr);
  bands[2] = noise;
  g_object_ref(noise);
  vips_bandjoin(bands, &sum, 3, nullptr);
  vips_cast_uchar(sum, &rgb, nullptr);
  if (alpha) {
    vips_bandjoin_const1(rgb, &out, 128.0, nullptr);
  } else {
    out = rgb;
    g_object_ref(rgb);
  }
  void* buf = nullptr;
  size_t len = 0;
  switch (format) {
    case ImageFormat::kJpeg:
      vips_jpegsave_buffer(out, &buf, &len, "Q", 90, nullptr);
      break;
    case ImageFormat::kPng:
      vips_pngsave_buffer(out, &buf, &len, "compression", 1, nullptr);
      break;
    case ImageFormat::kWebp:
      vips_webpsave_buffer(out, &buf, &len, "Q", 80, nullptr);
      break;
    case ImageFormat::kGif:
      vips_gifsave_buffer(out, &buf, &len, nullptr);
      break;
  }
  for (VipsImage* i : {xyz, xy, noise, sum, rgb, out, bands[0], bands[1], bands[2]}) {
    if (i) g_object_unref(i);
  }
  std::string bytes(static_cast<const char*>(buf), len);
  g_free(buf);
  return bytes;
}

// Encodings of the formats that take other paths through their decoders than TestImage's
// plain 8-bit RGB(A) ones: other colour models, bit depths, page counts and layouts.
enum class ImageVariant {
  kCmykJpeg,
  kGreyJpeg,
  kProgressiveJpeg,
  kRgb16Png,
  kGreyAlphaPng,
  kAnimatedGif,
  kAnimatedWebp,
};

// A w x h `variant` image; the animated ones have three w x h pages.
inline std::string VariantImage(ImageVariant variant, int w, int h) {
  const bool animated =
      variant == ImageVariant::kAnimatedGif || variant == ImageVariant::kAnimatedWebp;
  // libvips reads the buffer lazily, as late as the save below.
  const std::string png = TestImage(ImageFormat::kPng, w, animated ? 3 * h : h);
  VipsImage* rgb = vips_image_new_from_buffer(png.data(), png.size(), "", nullptr);
  VipsImage* out = nullptr;
  void* buf = nullptr;
  size_t len = 0;
  switch (variant) {
    case ImageVariant::kCmykJpeg: {
      VipsImage* four = nullptr;
      vips_bandjoin_const1(rgb, &four, 40.0, nullptr);
      vips_copy(four, &out, "interpretation", VIPS_INTERPRETATION_CMYK, nullptr);
      g_object_unref(four);
      vips_jpegsave_buffer(out, &buf, &len, "Q", 85, nullptr);
      break;
    }
    case ImageVariant::kGreyJpeg:
      vips_colourspace(rgb, &out, VIPS_INTERPRETATION_B_W, nullptr);
      vips_jpegsave_buffer(out, &buf, &len, "Q", 85, nullptr);
      break;
    case ImageVariant::kProgressiveJpeg:
      out = rgb;
      g_object_ref(out);
      vips_jpegsave_buffer(out, &buf, &len, "Q", 85, "interlace", TRUE, nullptr);
      break;
    case ImageVariant::kRgb16Png:
      vips_colourspace(rgb, &out, VIPS_INTERPRETATION_RGB16, nullptr);
      vips_pngsave_buffer(out, &buf, &len, "bitdepth", 16, "compression", 1, nullptr);
      break;
    case ImageVariant::kGreyAlphaPng: {
      VipsImage* grey = nullptr;
      vips_colourspace(rgb, &grey, VIPS_INTERPRETATION_B_W, nullptr);
      vips_bandjoin_const1(grey, &out, 128.0, nullptr);
      g_object_unref(grey);
      vips_pngsave_buffer(out, &buf, &len, "compression", 1, nullptr);
      break;
    }
    case ImageVariant::kAnimatedGif:
    case ImageVariant::kAnimatedWebp:
      vips_copy(rgb, &out, nullptr);
      vips_image_set_int(out, "page-height", h);
      if (variant == ImageVariant::kAnimatedGif) {
        vips_gifsave_buffer(out, &buf, &len, nullptr);
      } else {
        vips_webpsave_buffer(out, &buf, &len, "Q", 80, nullptr);
      }
      break;
  }
  if (out) g_object_unref(out);
  if (rgb) g_object_unref(rgb);
  std::string bytes = buf ? std::string(static_cast<const char*>(buf), len) : "";
  g_free(buf);
  return bytes;
}

// The bands and sample format an encoded image decodes to, and its page count; {0, ...} if
// it does not decode.
struct DecodedShape {
  int bands = 0;
  VipsBandFormat format = VIPS_FORMAT_NOTSET;
  int pages = 0;
};
inline DecodedShape ShapeOf(const std::string& bytes) {
  VipsImage* image = vips_image_new_from_buffer(bytes.data(), bytes.size(), "", nullptr);
  if (image == nullptr) {
    vips_error_clear();
    return {};
  }
  DecodedShape shape{vips_image_get_bands(image), vips_image_get_format(image),
                     vips_image_get_n_pages(image)};
  g_object_unref(image);
  return shape;
}

// Width and height of an encoded image, or {-1, -1}.
inline std::pair<int, int> ImageSize(const std::string& bytes) {
  VipsImage* image = vips_image_new_from_buffer(bytes.data(), bytes.size(), "", nullptr);
  if (image == nullptr) {
    vips_error_clear();
    return {-1, -1};
  }
  std::pair<int, int> size{vips_image_get_width(image), vips_image_get_height(image)};
  g_object_unref(image);
  return size;
}

inline uint32_t Crc32(const std::string& bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : bytes) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// A PNG of a few dozen bytes whose header declares w x h pixels: a decompression bomb's
// header, with an empty image stream behind it.
inline std::string DeclaredPng(uint32_t w, uint32_t h) {
  auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  auto chunk = [&](const std::string& type, const std::string& data) {
    return be32(static_cast<uint32_t>(data.size())) + type + data + be32(Crc32(type + data));
  };
  std::string ihdr = be32(w) + be32(h) + std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB
  // One zlib stream of a stored, empty block: valid, but nowhere near w x h pixels.
  std::string idat("\x78\x01\x01\x00\x00\xff\xff\x00\x00\x00\x01", 11);
  return std::string("\x89PNG\r\n\x1A\n", 8) + chunk("IHDR", ihdr) + chunk("IDAT", idat) +
         chunk("IEND", "");
}

// A one-colour w x h GIF: small and quick to make, but its frame is decoded whole
// (w x h x 4 bytes of RGBA) before it is shrunk.
inline std::string SolidGif(int w, int h) {
  VipsImage* black = nullptr;
  vips_black(&black, w, h, nullptr);
  void* buf = nullptr;
  size_t len = 0;
  vips_gifsave_buffer(black, &buf, &len, nullptr);
  g_object_unref(black);
  std::string bytes(static_cast<const char*>(buf), len);
  g_free(buf);
  return bytes;
}

}  // namespace penncloud::drive::testing
