#include "accounts/directory.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "accounts/accounts.h"
#include "accounts/rows.h"

namespace penncloud::accounts {
namespace {

constexpr char kBackfillCol[] = "done";
// Index pages read for one page of users: entries of unfinished sign-ups are rare, so
// more than this many in a row end the page early (with `next` set) rather than loop.
constexpr int kMaxIndexReads = 4;

// The greatest string below every name that starts with `prefix` and above every other
// name before them: names are made of [a-z0-9._-], all below '~'.
std::string JustBefore(std::string_view prefix) {
  if (prefix.empty()) return "";
  std::string s(prefix);
  s.back() = static_cast<char>(s.back() - 1);
  s.push_back('~');
  return s;
}

// The account's flags; kNotFound if no account has that name (a sign-up that failed
// between writing the list's entry and the account).
absl::StatusOr<UserSummary> Describe(kvs::Client* store, std::string name) {
  UserSummary user{.name = std::move(name)};
  absl::StatusOr<kvs::ColumnPage> row =
      store->List(rows::Account(user.name), {.after = "", .limit = 32, .with_values = true});
  if (!row.ok()) return row.status();
  bool exists = false;
  for (const kvs::Cell& cell : row->cells) {
    if (cell.column == rows::kPasswordCol) exists = true;
    if (cell.column == "admin") user.admin = cell.value == "1";
    if (cell.column == "disabled") user.disabled = true;
    if (cell.column == "created") (void)absl::SimpleAtoi(cell.value, &user.created_unix_s);
  }
  if (!exists) return absl::NotFoundError("no such user");
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
  std::string cursor = std::max(std::string(after), JustBefore(lower));
  UserPage out;
  for (int read = 0; read < kMaxIndexReads; ++read) {
    const int want = limit - static_cast<int>(out.users.size());
    absl::StatusOr<kvs::ColumnPage> page =
        store->List(rows::kUsers, {.after = cursor, .limit = want, .with_values = false});
    if (!page.ok()) return page.status();
    for (const kvs::Cell& cell : page->cells) {
      if (!cell.column.starts_with(lower)) return out;  // past the prefix: the end
      cursor = cell.column;
      absl::StatusOr<UserSummary> user = Describe(store, cell.column);
      if (absl::IsNotFound(user.status())) continue;
      if (!user.ok()) return user.status();
      out.users.push_back(*std::move(user));
    }
    if (!page->more) return out;
    if (static_cast<int>(out.users.size()) == limit) break;
  }
  out.next = cursor;
  return out;
}

absl::StatusOr<bool> ListAccountRow(kvs::Client* store, std::string_view row) {
  constexpr std::string_view kAccountPrefix = "acct/";
  if (!row.starts_with(kAccountPrefix)) return false;
  std::string_view name = row.substr(kAccountPrefix.size());
  absl::StatusOr<std::string> normal = NormalizeUsername(name);
  if (!normal.ok() || *normal != name) return false;  // not a name sign-up would make
  absl::StatusOr<std::string> hash = store->Get(row, rows::kPasswordCol);
  if (absl::IsNotFound(hash.status())) return false;
  if (!hash.ok()) return hash.status();
  if (absl::Status s = store->Put(rows::kUsers, name, ""); !s.ok()) return s;
  return true;
}

absl::StatusOr<bool> BackfillDone(kvs::Client* store) {
  absl::StatusOr<std::string> done = store->Get(rows::kUsersBackfill, kBackfillCol);
  if (absl::IsNotFound(done.status())) return false;
  if (!done.ok()) return done.status();
  return true;
}

absl::Status MarkBackfillDone(kvs::Client* store, int64_t now_unix_s) {
  return store->Put(rows::kUsersBackfill, kBackfillCol, absl::StrCat(now_unix_s));
}

}  // namespace penncloud::accounts
