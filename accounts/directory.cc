#include "accounts/directory.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "accounts/rows.h"

namespace penncloud::accounts {
namespace {

// The greatest string below every name that starts with `prefix` and above every other
// name before them: names are made of [a-z0-9._-], all below '~'.
std::string JustBefore(std::string_view prefix) {
  if (prefix.empty()) return "";
  std::string s(prefix);
  s.back() = static_cast<char>(s.back() - 1);
  s.push_back('~');
  return s;
}

absl::StatusOr<UserSummary> Describe(kvs::Client* store, std::string name) {
  UserSummary user{.name = std::move(name)};
  absl::StatusOr<kvs::ColumnPage> row =
      store->List(rows::Account(user.name), {.after = "", .limit = 32, .with_values = true});
  if (!row.ok()) return row.status();
  for (const kvs::Cell& cell : row->cells) {
    if (cell.column == "admin") user.admin = cell.value == "1";
    if (cell.column == "disabled") user.disabled = true;
    if (cell.column == "created") (void)absl::SimpleAtoi(cell.value, &user.created_unix_s);
  }
  return user;
}

}  // namespace

absl::StatusOr<UserPage> ListUsers(kvs::Client* store, std::string_view prefix,
                                   std::string_view after, int limit) {
  if (limit < 1 || limit > kMaxUsersPerPage) {
    return absl::InvalidArgumentError("limit must be from 1 to 100");
  }
  if (prefix.size() > 64 || after.size() > 64) return absl::InvalidArgumentError("too long");
  const std::string lower = absl::AsciiStrToLower(std::string(prefix));
  std::string start = std::max(std::string(after), JustBefore(lower));
  absl::StatusOr<kvs::ColumnPage> page =
      store->List(rows::kUsers, {.after = start, .limit = limit, .with_values = false});
  if (!page.ok()) return page.status();
  UserPage out;
  bool past_prefix = false;
  for (const kvs::Cell& cell : page->cells) {
    if (!cell.column.starts_with(lower)) {
      past_prefix = true;
      break;
    }
    absl::StatusOr<UserSummary> user = Describe(store, cell.column);
    if (!user.ok()) return user.status();
    out.users.push_back(*std::move(user));
  }
  if (page->more && !past_prefix && !out.users.empty()) out.next = out.users.back().name;
  return out;
}

}  // namespace penncloud::accounts
