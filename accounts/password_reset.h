// One-time password-reset links, made by an admin for a user who cannot log in.
//
// A link carries a 256-bit random token (tokens.h); the store keeps only its SHA-256, so a
// copy of the store hands out no live link. A link expires (default 24 h, at most 7 days)
// and works once: using it takes the token by compare-and-delete, so of two racing uses one
// wins. A user has at most one live link: making a new one retires the previous, so an
// admin who sent a link to the wrong address can simply make another.
//
// Using a link sets the new password (the sign-up rules), clears the failed-login count and
// ends every session of the user, with them every open event stream (they re-check their
// session every second). App passwords stay: mail clients keep working; the user can revoke
// them in Account settings. Two-step sign-in stays on as well.
//
// Store layout:
//   pwreset/<sha256 hex of token>  data = "<user>\n<expiry unix seconds>"
//   acct/<user>                    reset = <sha256 hex of the live link's token>
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "accounts/accounts.h"
#include "kvs/client/client.h"

namespace penncloud::accounts {

inline constexpr absl::Duration kDefaultResetLinkTtl = absl::Hours(24);
inline constexpr absl::Duration kMaxResetLinkTtl = absl::Hours(24 * 7);

struct ResetLink {
  std::string token;  // shown to the admin once; never stored
  int64_t expires_unix_s = 0;
};

class PasswordResets {
 public:
  // `store` and `accounts` must outlive this object. Thread-safe.
  PasswordResets(
      kvs::Client* store, Accounts* accounts,
      std::function<absl::Time()> now = [] { return absl::Now(); });

  // A new link for `username` (kNotFound for an unknown user; kInvalidArgument for a
  // lifetime outside (0, kMaxResetLinkTtl]). Retires the user's previous link.
  absl::StatusOr<ResetLink> Create(std::string_view username, absl::Duration valid_for);

  // The user a live link is for, without using it (for the page to greet them);
  // kNotFound for an unknown, used, retired or expired link.
  absl::StatusOr<std::string> UserOf(std::string_view token);

  // Uses the link: kNotFound as above, kInvalidArgument (link kept) if the password breaks
  // the rules. Returns the user whose password changed.
  absl::StatusOr<std::string> Redeem(std::string_view token, std::string_view new_password);

 private:
  struct Pending {
    std::string digest;
    std::string user;
    std::string value;  // as stored, for the compare-and-delete
  };
  absl::StatusOr<Pending> Find(std::string_view token);

  kvs::Client* const store_;
  Accounts* const accounts_;
  const std::function<absl::Time()> now_;
};

}  // namespace penncloud::accounts
