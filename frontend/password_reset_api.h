// The public side of an admin's password-reset link (accounts/password_reset.h), for the
// /reset?token= page; no session needed, the token is the credential:
//   POST /api/password/reset/check  {"token"}             -> {"username"}
//   POST /api/password/reset        {"token","password"}  -> {"username"}; every session of
//        the user ends (this browser's cookie too), app passwords stay
// Unknown, used, replaced and expired links get 404. Guessing is limited per client address
// in this frontend's memory, as for share links (share_api_access.h): after
// kMaxResetGuesses wrong tokens in ten minutes the answer is 429 before any store read.
#pragma once

#include "frontend/api_context.h"

namespace penncloud::frontend {

inline constexpr int kMaxResetGuesses = 20;

void RegisterPasswordResetRoutes(Router& router, const ApiContext& ctx);

}  // namespace penncloud::frontend
