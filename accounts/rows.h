// The store rows of accounts and sessions (layout in accounts.h), named in one place for
// the files that implement Accounts.
#pragma once

#include <string>
#include <string_view>

namespace penncloud::accounts::rows {

inline constexpr char kSessionCol[] = "data";
// The user list: one empty column per account, named by the user.
inline constexpr char kUsers[] = "users";
// Once every account older than the list is in it (directory.h BackfillDone).
inline constexpr char kUsersBackfill[] = "users.backfill";

// Columns of the account row that files other than accounts.cc use.
inline constexpr char kPasswordCol[] = "password";
inline constexpr char kFailCol[] = "fail";

inline std::string Account(std::string_view user) { return std::string("acct/").append(user); }
inline std::string Session(std::string_view digest) { return std::string("sess/").append(digest); }
inline std::string SessionIndex(std::string_view user) {
  return std::string("usess/").append(user);
}
inline std::string Seen(std::string_view user) { return std::string("useen/").append(user); }
inline std::string PasswordReset(std::string_view digest) {
  return std::string("pwreset/").append(digest);
}
inline std::string CodeTicket(std::string_view digest) {
  return std::string("tfa/").append(digest);
}

}  // namespace penncloud::accounts::rows
