// Drive previews (docs/drive.md, "Previews"):
//   GET /api/files/thumbnail?path=/f&size=N   a JPEG whose longest side is N (32..1024,
//       default 256) of a JPEG, PNG, WebP or GIF file: 200 image/jpeg with an ETag of the
//       content version and size and Cache-Control: private; 304 on If-None-Match; 400 bad
//       size or path; 404 no such file; 415 not one of those image types; 422 the image
//       cannot be thumbnailed (undecodable, too many pixels, decoder crashed or out of
//       time); 503 the thumbnailers are all busy.
// The user comes from the session, as for /api/files/content; a "/Shared with me" path is
// checked like a download there (share_api.h), and public links have their own route.
//
// The image is decoded in a separate `thumbnailer` process under resource limits, forked
// from a zygote (drive/thumbnail_process.h), fed from the drive a chunk at a time; the
// result is kept in the store under the file's content version (drive/thumbnail_cache.h),
// so the next request for that size costs one read.
//
// Flags: --thumbnailer (the binary; default: beside the frontend's own),
// --thumbnail_timeout_ms, --thumbnail_concurrency, --thumbnail_zygote (false: start a
// thumbnailer per image, as before the zygote).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "frontend/api_context.h"

namespace penncloud::frontend {

void RegisterPreviewRoutes(Router& router, const ApiContext& ctx);

// The thumbnail of `path` in `owner`'s drive, sized by `req`'s ?size=, for a route that has
// checked the caller's access itself (share_api.cc: public links and "Shared with me").
Response ThumbnailOf(const ApiContext& ctx, const Request& req, const std::string& owner,
                     const std::string& path);

// The Content-Type a stored file is shown inline with (`/api/files/content?inline=1`), or
// nullopt when it must be downloaded as an attachment. Text (plain, Markdown, CSV) becomes
// "text/plain; charset=utf-8" whatever charset was stored (a declared UTF-7 has been a
// script vector); PDF stays "application/pdf"; raster images, audio and video keep their
// type. HTML, SVG, any XML and anything unknown: nullopt, so a user's file never runs
// script in PennCloud's origin.
std::optional<std::string> InlineContentType(std::string_view stored_type);

}  // namespace penncloud::frontend
