// The admin console's user list: accounts by name, a page at a time, with a name prefix
// to search by. Read from the `users` row (rows.h): one column per account, written by
// sign-up before the account itself, so one List pages through every account in name
// order whatever group each account's row lives in. Accounts made before the list existed
// are added once by a scan of every group (coordinator/admin_users_backfill.h), which
// calls ListAccountRow for each row it finds and MarkBackfillDone at its end.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"

namespace penncloud::accounts {

struct UserSummary {
  std::string name;
  bool admin = false;
  bool disabled = false;
  int64_t created_unix_s = 0;  // 0: not recorded
};

struct UserPage {
  std::vector<UserSummary> users;
  std::string next;  // pass as `after` for the next page; "" at the end
};

inline constexpr int kMaxUsersPerPage = 100;

// Users whose name starts with `prefix` (lower-cased here), after `after`, at most `limit`
// (1..kMaxUsersPerPage), in name order. Entries of sign-ups that never finished are left
// out, so a page may hold fewer than `limit` users while `next` is set.
absl::StatusOr<UserPage> ListUsers(kvs::Client* store, std::string_view prefix,
                                   std::string_view after, int limit);

// If `row` is an account's row (acct/<name>) and the account exists, puts it in the list.
// Returns whether it did (idempotent: true again for a listed account).
absl::StatusOr<bool> ListAccountRow(kvs::Client* store, std::string_view row);

// Whether the one-time backfill has finished; and recording that it has.
absl::StatusOr<bool> BackfillDone(kvs::Client* store);
absl::Status MarkBackfillDone(kvs::Client* store, int64_t now_unix_s);

}  // namespace penncloud::accounts
