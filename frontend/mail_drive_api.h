// Mail and drive together:
//   POST /api/mail/{id}/attachments/{n}/save {"path": "/folder", "name"?}
//       saves attachment n of message id into that folder of the drive → 201, the new
//       file's listing entry plus its "path". The file is named after the attachment (or
//       "name"); a taken name becomes "name (2).ext", ... so nothing is ever replaced.
//   "drive_attachments": ["/a/file.pdf", ...] in the body of POST /api/mail,
//       POST /api/mail/drafts and PUT /api/mail/drafts/{id}: those files of the sender's
//       drive are attached as if uploaded (AddDriveAttachments, called by the compose code).
// Both see only the session user's own mail and drive: another user's message id or file
// path is simply not there (404).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "frontend/api_context.h"
#include "mail/mime.h"
#include "nlohmann/json.hpp"

namespace penncloud::frontend {

// At most this many drive files per message; together with everything else attached they
// must fit the composed message's limit (kMaxComposedBytes), checked before any is read.
inline constexpr size_t kMaxDriveAttachments = 50;

void RegisterMailDriveRoutes(Router& router, const ApiContext& ctx);

// Reads the files `body["drive_attachments"]` names from `user`'s drive and appends them to
// `message`. kInvalidArgument for a malformed list, a folder, or too many bytes;
// kNotFound for a path that does not exist.
absl::Status AddDriveAttachments(const ApiContext& ctx, const std::string& user,
                                 const nlohmann::json& body, mail::Draft& message);

}  // namespace penncloud::frontend
