// The console's view of a user's drive: usage and quota, admin only.
//   GET /api/admin/users/{name}/drive  -> {"username","used","quota"} (bytes)
//   PUT /api/admin/users/{name}/drive  {"quota": bytes, 0..kMaxQuotaBytes} -> the same
// The drive keeps both in its state row (docs/drive.md); every frontend reads the quota at
// each upload, so a lowered quota holds from the next upload on. Files already stored stay
// even when they are over it.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "drive/drive.h"
#include "frontend/api_context.h"

namespace penncloud::coordinator {

// 1 PiB: far above any disk here, low enough that no sum of sizes near it overflows.
inline constexpr uint64_t kMaxQuotaBytes = uint64_t{1} << 50;

// The user's drive usage and quota as the frontends see them (for the user list).
absl::StatusOr<drive::Usage> DriveUsage(kvs::Client* store, std::string_view user);

void RegisterQuotaAdminRoutes(http::Router& router, const frontend::ApiContext& ctx);

}  // namespace penncloud::coordinator
