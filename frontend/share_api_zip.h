// Zip downloads of the drive (docs/drive-sharing.md, "Zip"):
//   GET  /api/files/zip?path=/a[&path=/b...]   one item, or several side by side in one
//                                              archive (what the drive page's multi-select
//                                              downloads)
//   POST /api/files/zip {"paths":["/a","/b"]}  the same for lists too long for an address
// Paths are the user's own or under "/Shared with me" (checked like a download there); at
// most drive::kMaxZipItems of them, the same name twice told apart as "name (2).ext".
// The public side's /s/{token}/zip answers through ZipResponse too.
#pragma once

#include <memory>
#include <string>

#include "drive/share.h"
#include "drive/zip.h"
#include "frontend/api_context.h"

namespace penncloud::frontend {

void RegisterZipRoutes(Router& router, const ApiContext& ctx, std::shared_ptr<drive::Drive> drive);

// The streamed answer for an opened archive, or the drive's error.
Response ZipResponse(absl::StatusOr<std::unique_ptr<drive::ZipStream>> opened);

}  // namespace penncloud::frontend
