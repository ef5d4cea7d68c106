// The admin console's user list: accounts by name, a page at a time, with a name prefix
// to search by. Read from the `users` row (rows.h), which sign-up and every login keep.
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
// (1..kMaxUsersPerPage), in name order.
absl::StatusOr<UserPage> ListUsers(kvs::Client* store, std::string_view prefix,
                                   std::string_view after, int limit);

}  // namespace penncloud::accounts
