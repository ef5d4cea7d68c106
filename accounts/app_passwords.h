// App passwords: one secret per device or mail client, so a phone's IMAP login can be
// revoked without changing the web password, and so mail keeps working once two-factor
// sign-in is on (then the protocols take nothing else; accounts.h, CheckPassword).
//
// A secret is 32 random base32 characters (160 bits, NewTypedSecret(8)), shown once at
// creation. Only its SHA-256 is stored (Sha256Hex, as for sessions): the secret is random,
// not chosen by a person, so a fast digest cannot be searched backwards and each check
// costs one store read instead of an Argon2 run per stored app password.
//
// Store layout:
//   appw/<user>  <sha256 hex of the canonical secret> =
//                "<created unix s> <last used unix s, 0 = never> <name>"
// The digest is also the id the owner lists and revokes it by. Revoking deletes the cell,
// and every check reads it, so a revoked secret is refused at once everywhere. The last-use
// time is written at most once a minute per app password, by CPut from the value read, so a
// check racing a revoke never brings the cell back.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kvs/client/client.h"

namespace penncloud::accounts {

inline constexpr int kAppPasswordGroups = 8;
inline constexpr size_t kMaxAppPasswordName = 64;
inline constexpr size_t kMaxAppPasswords = 50;

struct AppPassword {
  std::string id;
  std::string name;
  absl::Time created;
  std::optional<absl::Time> last_used;
};

struct NewAppPassword {
  AppPassword info;
  std::string secret;  // as shown to the user, in groups: "abcd-efgh-..."
};

class AppPasswords {
 public:
  // `store` must outlive this object. Thread-safe. Users passed in are normalized names.
  explicit AppPasswords(
      kvs::Client* store, std::function<absl::Time()> now = [] { return absl::Now(); });

  // kInvalidArgument for a name that is empty, too long or holds control characters;
  // kResourceExhausted past kMaxAppPasswords.
  absl::StatusOr<NewAppPassword> Create(std::string_view user, std::string_view name);
  // Newest first.
  absl::StatusOr<std::vector<AppPassword>> List(std::string_view user);
  // kNotFound if the user has no app password of that id.
  absl::Status Revoke(std::string_view user, std::string_view id);
  // The id of the user's app password `typed` is, if it is one, noting the use; std::nullopt
  // if it is not (or has not the shape of one: no store read then).
  absl::StatusOr<std::optional<std::string>> Match(std::string_view user, std::string_view typed);
  // Whether the app password `id` still exists (for caches of verified logins).
  absl::StatusOr<bool> Exists(std::string_view user, std::string_view id);

 private:
  kvs::Client* const store_;
  const std::function<absl::Time()> now_;
};

}  // namespace penncloud::accounts
