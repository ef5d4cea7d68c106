// Who may create an account: the admin's choice, kept in the store so every frontend
// applies it at once.
//   open     anyone may sign up (still rate-limited per address at the coordinator);
//   invite   only with an invite link an admin made (/signup?invite=TOKEN), used once;
//   closed   nobody (the admin creates accounts).
// Invites are 256-bit random tokens stored under their SHA-256 (a copy of the store hands
// out no live invite), each with an expiry. Plain values in and out; no HTTP here.
//
// Store layout: site/signup {policy = "open"|"invite"|"closed"};
//               site/invites {<sha256 hex of token> = "<expiry unix s> <creator>"}.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kvs/client/client.h"

namespace penncloud::frontend {

enum class SignupPolicy { kOpen, kInvite, kClosed };

std::string_view SignupPolicyName(SignupPolicy policy);
// kInvalidArgument unless `name` is "open", "invite" or "closed".
absl::StatusOr<SignupPolicy> ParseSignupPolicy(std::string_view name);

struct Invite {
  std::string id = {};     // the token's digest: names the invite in listings, cannot redeem it
  std::string token = {};  // only when just created
  std::string creator = {};
  int64_t expires_unix_s = 0;
};

class SignupRules {
 public:
  explicit SignupRules(kvs::Client* store) : store_(store) {}

  absl::StatusOr<SignupPolicy> Policy();  // kOpen until an admin sets one
  absl::Status SetPolicy(SignupPolicy policy);

  absl::StatusOr<Invite> CreateInvite(std::string_view creator, absl::Duration valid_for,
                                      absl::Time now = absl::Now());
  absl::StatusOr<std::vector<Invite>> ListInvites();  // live and expired, no tokens
  absl::Status RevokeInvite(std::string_view id);

  // Uses up the invite `token` (exactly once, even when two sign-ups race for it) and
  // returns it: kPermissionDenied if it is unknown, used or expired.
  absl::StatusOr<Invite> TakeInvite(std::string_view token, absl::Time now = absl::Now());
  // Puts back an invite taken by a sign-up that then failed (say, the name was taken).
  absl::Status ReturnInvite(const Invite& invite);

 private:
  kvs::Client* store_;
};

}  // namespace penncloud::frontend
