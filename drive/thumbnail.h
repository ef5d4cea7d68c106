// Thumbnails of drive images, made with libvips. This is the decoder itself: it runs only in
// the `thumbnailer` process (drive/thumbnailer_main.cc) and in the fuzz target, never in a
// server, because image decoders are an old attack surface. The frontend talks to it through
// drive/thumbnail_process.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace penncloud::drive {

// The formats we thumbnail; anything else is refused before a decoder sees it.
enum class ImageFormat { kJpeg, kPng, kWebp, kGif };

// The format named by the first bytes (magic numbers), whatever the file is called.
std::optional<ImageFormat> SniffImageFormat(std::string_view bytes);

// Thumbnail sizes: the longest side in pixels.
inline constexpr int kMinThumbnailSide = 32;
inline constexpr int kMaxThumbnailSide = 1024;

struct DecodeLimits {
  // Width x height as the header declares it, checked before any pixel is decoded: a small
  // file can declare a huge image (a decompression bomb). 100 MP admits every camera photo
  // short of the 200 MP phone sensors.
  uint64_t max_pixels = 100'000'000;
};

// Sets libvips up for untrusted input: only the JPEG, PNG, WebP and GIF loaders may run
// (the magick, PDF, HEIF... modules Debian ships stay blocked), one worker thread, no
// operation cache, no run-time generated (ORC) code. Call once per process before
// MakeThumbnail.
absl::Status InitThumbnailDecoder();

// A JPEG whose longest side is `longest_side` (never enlarged: a smaller image keeps its
// size), auto-rotated by its EXIF orientation, transparency flattened on white, metadata
// stripped; GIFs give their first frame.
// Errors: kUnimplemented (not one of our formats), kResourceExhausted (declares more than
// limits.max_pixels), kInvalidArgument (the decoder refused it: truncated, corrupt).
absl::StatusOr<std::string> MakeThumbnail(std::string_view image, int longest_side,
                                          const DecodeLimits& limits);

}  // namespace penncloud::drive
