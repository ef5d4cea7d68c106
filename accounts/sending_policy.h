// Who may send mail outside the local domain. A fresh account is the spammer's tool of
// choice, so it may write only to local users until either an admin allows it or it is
// old enough; admins always may.
//
//   acct/<user>  created  = unix seconds, written at sign-up (Accounts::SignUp)
//                external = "1" once an admin allowed it (absent: not allowed)
//   site/mail    new_account_external_days = whole days a new account waits (default
//                kDefaultWaitDays; 0 = no wait), one setting for every frontend and server
//
// An account with no `created` cell predates the rule and may send. Plain values in and out,
// no protocol here: SMTP (RCPT) and webmail compose both ask Allowed().
#pragma once

#include <functional>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kvs/client/client.h"

namespace penncloud::accounts {

inline constexpr int kDefaultWaitDays = 7;

class SendingPolicy {
 public:
  // `store` must outlive this object. Thread-safe.
  explicit SendingPolicy(
      kvs::Client* store, std::function<absl::Time()> now = [] { return absl::Now(); });

  // Whether `user` may send to other domains now.
  absl::StatusOr<bool> MaySendOutside(std::string_view user);
  // The admin's switch for one account.
  absl::Status SetAllowed(std::string_view user, bool allowed);
  // The admin's setting for every new account.
  absl::StatusOr<int> WaitDays();
  absl::Status SetWaitDays(int days);

 private:
  kvs::Client* const store_;
  const std::function<absl::Time()> now_;
};

}  // namespace penncloud::accounts
