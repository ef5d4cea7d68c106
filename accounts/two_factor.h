// Two-factor sign-in state: the account's TOTP secret (totp.h), enrollment, the last step
// used, and the one-time recovery codes. The login flow that asks for a code, and its
// failure counter, are Accounts' (accounts.h); this class only keeps and checks the secrets.
//
// Rules:
// - Enrollment: Begin stores a fresh 160-bit secret as pending and returns it (and the
//   otpauth:// URI for the QR code). Confirm turns it on only with a valid code from it,
//   so a mistyped scan never locks anyone out, and hands out kRecoveryCodes fresh
//   recovery codes (shown once).
// - A TOTP code counts only for a step later than the last step accepted (CPut on
//   totp_step), so a code seen over someone's shoulder cannot be used again in its window.
// - Recovery codes: NewTypedSecret(4) (80 bits), stored only as SHA-256 (random, so a fast
//   digest cannot be searched backwards); using one deletes it by compare-and-delete, so two
//   logins racing with one code cannot both win.
//
// Store layout:
//   acct/<user>   totp = the secret, base32 (on), totp_new = a pending secret, base32,
//                 totp_step = the last TOTP step accepted
//   recov/<user>  <sha256 hex of the canonical code> = "1"
// The secret is kept in clear: checking a code needs it (as for every TOTP server).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kvs/client/client.h"

namespace penncloud::accounts {

inline constexpr int kRecoveryCodes = 10;
inline constexpr int kRecoveryCodeGroups = 4;

struct Enrollment {
  std::string secret;  // base32, for typing into an app by hand
  std::string uri;     // otpauth://totp/..., for the QR code
};

struct TwoFactorState {
  bool enabled = false;
  int recovery_codes_left = 0;
};

class TwoFactor {
 public:
  // `store` must outlive this object. Thread-safe. Users passed in are normalized names.
  explicit TwoFactor(
      kvs::Client* store, std::function<absl::Time()> now = [] { return absl::Now(); });

  absl::StatusOr<TwoFactorState> State(std::string_view user);
  // kFailedPrecondition if it is already on.
  absl::StatusOr<Enrollment> Begin(std::string_view user, std::string_view issuer);
  // Turns it on if `code` is valid for the pending secret, returning the recovery codes;
  // kFailedPrecondition without a pending secret, kInvalidArgument for a wrong code.
  absl::StatusOr<std::vector<std::string>> Confirm(std::string_view user, std::string_view code);
  // Whether `code` is a fresh TOTP code or an unused recovery code (which it uses up). False
  // if two-factor sign-in is off.
  absl::StatusOr<bool> CheckCode(std::string_view user, std::string_view code);
  // Removes the secret, the step and the recovery codes.
  absl::Status Disable(std::string_view user);

 private:
  absl::StatusOr<bool> TakeStep(const std::string& row, int64_t step);
  absl::StatusOr<bool> UseRecoveryCode(std::string_view user, std::string_view code);
  absl::StatusOr<std::vector<std::string>> NewRecoveryCodes(std::string_view user);
  absl::Status DeleteRecoveryCodes(std::string_view user);

  kvs::Client* const store_;
  const std::function<absl::Time()> now_;
};

}  // namespace penncloud::accounts
