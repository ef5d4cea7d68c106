// tus 1.0 resumable uploads over HTTP (DESIGN.md; the logic is drive::TusStore):
//   OPTIONS /api/uploads/        Tus-Version, Tus-Resumable, Tus-Extension, Tus-Max-Size
//   POST    /api/uploads/        Upload-Length, Upload-Metadata (key "path", base64) -> 201
//   Location HEAD    /api/uploads/{id}    Upload-Offset, Upload-Length PATCH   /api/uploads/{id}
//   Content-Type: application/offset+octet-stream, Upload-Offset
//                                -> 204 with the new Upload-Offset (409 if the offset is wrong)
//   DELETE  /api/uploads/{id}    termination -> 204
// Everything but OPTIONS needs the session cookie (and X-CSRF-Token to change state) and
// Tus-Resumable: 1.0.0 (412 otherwise). Another user's upload id answers 404.
#pragma once

#include "frontend/api_context.h"

namespace penncloud::frontend {

void RegisterTusRoutes(Router& router, const ApiContext& ctx);

}  // namespace penncloud::frontend
