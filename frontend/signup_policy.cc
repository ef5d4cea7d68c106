#include "frontend/signup_policy.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace penncloud::frontend {
namespace {

constexpr char kPolicyRow[] = "site/signup";
constexpr char kPolicyCol[] = "policy";
constexpr char kInvitesRow[] = "site/invites";

std::string Digest(std::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

// "<expiry unix s> <creator>"
std::string InviteValue(int64_t expires, std::string_view creator) {
  return absl::StrCat(expires, " ", std::string(creator));
}

Invite ParseInvite(std::string id, std::string_view value) {
  Invite invite{.id = std::move(id)};
  size_t space = value.find(' ');
  (void)absl::SimpleAtoi(std::string(value.substr(0, space)), &invite.expires_unix_s);
  if (space != std::string_view::npos) invite.creator = std::string(value.substr(space + 1));
  return invite;
}

}  // namespace

std::string_view SignupPolicyName(SignupPolicy policy) {
  switch (policy) {
    case SignupPolicy::kOpen:
      return "open";
    case SignupPolicy::kInvite:
      return "invite";
    case SignupPolicy::kClosed:
      return "closed";
  }
  return "open";
}

absl::StatusOr<SignupPolicy> ParseSignupPolicy(std::string_view name) {
  for (SignupPolicy p : {SignupPolicy::kOpen, SignupPolicy::kInvite, SignupPolicy::kClosed}) {
    if (name == SignupPolicyName(p)) return p;
  }
  return absl::InvalidArgumentError("policy must be \"open\", \"invite\" or \"closed\"");
}

absl::StatusOr<SignupPolicy> SignupRules::Policy() {
  absl::StatusOr<std::string> stored = store_->Get(kPolicyRow, kPolicyCol);
  if (absl::IsNotFound(stored.status())) return SignupPolicy::kOpen;
  if (!stored.ok()) return stored.status();
  absl::StatusOr<SignupPolicy> policy = ParseSignupPolicy(*stored);
  // An unreadable value fails closed rather than open.
  return policy.ok() ? *policy : SignupPolicy::kClosed;
}

absl::Status SignupRules::SetPolicy(SignupPolicy policy) {
  return store_->Put(kPolicyRow, kPolicyCol, SignupPolicyName(policy));
}

absl::StatusOr<Invite> SignupRules::CreateInvite(std::string_view creator, absl::Duration valid_for,
                                                 absl::Time now) {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) return absl::InternalError("no randomness");
  std::string token =
      absl::WebSafeBase64Escape(absl::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
  Invite invite{.id = Digest(token),
                .token = token,
                .creator = std::string(creator),
                .expires_unix_s = absl::ToUnixSeconds(now + valid_for)};
  if (absl::Status s =
          store_->Put(kInvitesRow, invite.id, InviteValue(invite.expires_unix_s, invite.creator));
      !s.ok()) {
    return s;
  }
  return invite;
}

absl::StatusOr<std::vector<Invite>> SignupRules::ListInvites() {
  std::vector<Invite> out;
  std::string after;
  while (true) {
    absl::StatusOr<kvs::ColumnPage> page =
        store_->List(kInvitesRow, {.after = after, .limit = 500, .with_values = true});
    if (!page.ok()) return page.status();
    for (const kvs::Cell& cell : page->cells) out.push_back(ParseInvite(cell.column, cell.value));
    if (!page->more || page->cells.empty()) return out;
    after = page->cells.back().column;
  }
}

absl::Status SignupRules::RevokeInvite(std::string_view id) {
  return store_->Delete(kInvitesRow, id);
}

absl::StatusOr<Invite> SignupRules::TakeInvite(std::string_view token, absl::Time now) {
  const absl::Status refused =
      absl::PermissionDeniedError("this invite link is not valid (used, revoked or expired)");
  if (token.empty() || token.size() > 128) return refused;
  const std::string id = Digest(token);
  absl::StatusOr<std::string> value = store_->Get(kInvitesRow, id);
  if (absl::IsNotFound(value.status())) return refused;
  if (!value.ok()) return value.status();
  Invite invite = ParseInvite(id, *value);
  if (invite.expires_unix_s <= absl::ToUnixSeconds(now)) return refused;
  // Compare-and-delete: of two sign-ups racing for one invite, one wins.
  absl::StatusOr<bool> won = store_->CDelete(kInvitesRow, id, *value);
  if (!won.ok()) return won.status();
  if (!*won) return refused;
  return invite;
}

absl::Status SignupRules::ReturnInvite(const Invite& invite) {
  absl::StatusOr<bool> put = store_->CPut(kInvitesRow, invite.id, std::nullopt,
                                          InviteValue(invite.expires_unix_s, invite.creator));
  return put.status();
}

}  // namespace penncloud::frontend
