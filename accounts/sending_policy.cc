#include "accounts/sending_policy.h"

#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "accounts/accounts.h"

namespace penncloud::accounts {
namespace {

constexpr char kSiteRow[] = "site/mail";
constexpr char kWaitCol[] = "new_account_external_days";

}  // namespace

SendingPolicy::SendingPolicy(kvs::Client* store, std::function<absl::Time()> now)
    : store_(store), now_(std::move(now)) {}

absl::StatusOr<bool> SendingPolicy::MaySendOutside(std::string_view username) {
  absl::StatusOr<std::string> user = NormalizeUsername(username);
  if (!user.ok()) return false;
  absl::StatusOr<kvs::ColumnPage> row =
      store_->List("acct/" + *user, {.after = "", .limit = 16, .with_values = true});
  if (!row.ok()) return row.status();
  bool exists = false;
  std::optional<int64_t> created;
  for (const kvs::Cell& cell : row->cells) {
    if (cell.column == "password") exists = true;
    if ((cell.column == "admin" || cell.column == "external") && cell.value == "1") return true;
    int64_t seconds = 0;
    if (cell.column == "created" && absl::SimpleAtoi(cell.value, &seconds)) created = seconds;
  }
  if (!exists) return false;
  if (!created) return true;  // made before accounts recorded their age
  absl::StatusOr<int> days = WaitDays();
  if (!days.ok()) return days.status();
  return now_() >= absl::FromUnixSeconds(*created) + absl::Hours(24) * *days;
}

absl::Status SendingPolicy::SetAllowed(std::string_view username, bool allowed) {
  absl::StatusOr<std::string> user = NormalizeUsername(username);
  if (!user.ok()) return user.status();
  if (allowed) return store_->Put("acct/" + *user, "external", "1");
  return store_->Delete("acct/" + *user, "external");
}

absl::StatusOr<int> SendingPolicy::WaitDays() {
  absl::StatusOr<std::string> value = store_->Get(kSiteRow, kWaitCol);
  if (absl::IsNotFound(value.status())) return kDefaultWaitDays;
  if (!value.ok()) return value.status();
  int days = 0;
  if (!absl::SimpleAtoi(*value, &days) || days < 0) return kDefaultWaitDays;
  return days;
}

absl::Status SendingPolicy::SetWaitDays(int days) {
  if (days < 0 || days > 3650) return absl::InvalidArgumentError("days must be 0 to 3650");
  return store_->Put(kSiteRow, kWaitCol, absl::StrCat(days));
}

}  // namespace penncloud::accounts
