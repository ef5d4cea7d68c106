#include "accounts/password_reset.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "accounts/rows.h"
#include "accounts/tokens.h"

namespace penncloud::accounts {
namespace {

constexpr char kResetCol[] = "reset";

absl::Status Refused() {
  return absl::NotFoundError("this reset link is not valid (used, replaced or expired)");
}

}  // namespace

absl::Status Accounts::ResetPassword(std::string_view username, std::string_view new_password) {
  absl::StatusOr<std::string> user = NormalizeUsername(username);
  if (!user.ok()) return user.status();
  if (absl::Status s = ValidatePassword(new_password); !s.ok()) return s;
  absl::StatusOr<std::string> hash = HashPassword(new_password, options_.hash_params);
  if (!hash.ok()) return hash.status();
  const std::string row = rows::Account(*user);
  if (absl::Status s = store_->Put(row, rows::kPasswordCol, *hash); !s.ok()) return s;
  // Whoever ran the count up was locked out by it; the owner starts afresh.
  if (absl::Status s = store_->Delete(row, rows::kFailCol); !s.ok()) return s;
  return EndSessionsExcept(*user, "");
}

PasswordResets::PasswordResets(kvs::Client* store, Accounts* accounts,
                               std::function<absl::Time()> now)
    : store_(store), accounts_(accounts), now_(std::move(now)) {}

absl::StatusOr<ResetLink> PasswordResets::Create(std::string_view username,
                                                 absl::Duration valid_for) {
  if (valid_for <= absl::ZeroDuration() || valid_for > kMaxResetLinkTtl) {
    return absl::InvalidArgumentError("a reset link must expire within 7 days");
  }
  absl::StatusOr<std::string> user = NormalizeUsername(username);
  if (!user.ok()) return absl::NotFoundError("no such user");
  absl::StatusOr<bool> exists = accounts_->Exists(*user);
  if (!exists.ok()) return exists.status();
  if (!*exists) return absl::NotFoundError("no such user");
  ResetLink link{.token = NewToken(), .expires_unix_s = absl::ToUnixSeconds(now_() + valid_for)};
  const std::string digest = Sha256Hex(link.token);
  // The link row first, then the account's pointer to it: the pointer is what makes it
  // live, and writing it retires the previous link in the same step.
  if (absl::Status s = store_->Put(rows::PasswordReset(digest), rows::kSessionCol,
                                   absl::StrCat(*user, "\n", link.expires_unix_s));
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> previous = store_->Get(rows::Account(*user), kResetCol);
  if (!previous.ok() && !absl::IsNotFound(previous.status())) return previous.status();
  if (absl::Status s = store_->Put(rows::Account(*user), kResetCol, digest); !s.ok()) return s;
  if (previous.ok() && *previous != digest) {
    (void)store_->Delete(rows::PasswordReset(*previous), rows::kSessionCol);
  }
  return link;
}

absl::StatusOr<PasswordResets::Pending> PasswordResets::Find(std::string_view token) {
  // Tokens are 43 characters; anything far off is refused before any store read.
  if (token.size() < 32 || token.size() > 64) return Refused();
  Pending p{.digest = Sha256Hex(token), .user = "", .value = ""};
  absl::StatusOr<std::string> data = store_->Get(rows::PasswordReset(p.digest), rows::kSessionCol);
  if (absl::IsNotFound(data.status())) return Refused();
  if (!data.ok()) return data.status();
  std::vector<std::string> parts = absl::StrSplit(*data, '\n');
  int64_t until = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &until)) {
    return absl::InternalError("corrupt reset link");
  }
  if (absl::ToUnixSeconds(now_()) >= until) {
    (void)store_->Delete(rows::PasswordReset(p.digest), rows::kSessionCol);
    return Refused();
  }
  absl::StatusOr<std::string> live = store_->Get(rows::Account(parts[0]), kResetCol);
  if (absl::IsNotFound(live.status())) return Refused();
  if (!live.ok()) return live.status();
  if (*live != p.digest) return Refused();  // retired by a newer link
  p.user = parts[0];
  p.value = *std::move(live);
  return p;
}

absl::StatusOr<std::string> PasswordResets::UserOf(std::string_view token) {
  absl::StatusOr<Pending> p = Find(token);
  if (!p.ok()) return p.status();
  return p->user;
}

absl::StatusOr<std::string> PasswordResets::Redeem(std::string_view token,
                                                   std::string_view new_password) {
  absl::StatusOr<Pending> p = Find(token);
  if (!p.ok()) return p.status();
  // Checked before the link is taken, so a password the rules refuse leaves it usable.
  if (absl::Status s = ValidatePassword(new_password); !s.ok()) return s;
  // Single use: of two racing uses, only the one that deletes the account's pointer goes on.
  absl::StatusOr<bool> taken = store_->CDelete(rows::Account(p->user), kResetCol, p->value);
  if (!taken.ok()) return taken.status();
  if (!*taken) return Refused();
  (void)store_->Delete(rows::PasswordReset(p->digest), rows::kSessionCol);
  if (absl::Status s = accounts_->ResetPassword(p->user, new_password); !s.ok()) return s;
  return p->user;
}

}  // namespace penncloud::accounts
