// Accounts and sessions of PennCloud: sign up, log in (with a second factor when the account
// has one), log out, change password, "who am I", CSRF tokens, the list of a user's
// sessions, and the one password check every mail and file protocol calls (CheckPassword:
// SMTP AUTH, POP3, IMAP, WebDAV). A plain library over kvs::Client; it never sees HTTP.
//
// Rules:
// - Usernames: 3-32 characters of [a-z0-9._-], starting with a letter. Input is
//   lower-cased first (so "Alice" is "alice", as mail addresses are case-insensitive).
// - Passwords: 8-128 bytes. Stored only as Argon2id PHC strings (see password_hash.h).
// - Sessions: a 256-bit token from RAND_bytes, stored under its SHA-256, with an expiry
//   (default 7 days) and its own 256-bit CSRF token. Logout deletes it; a password change
//   deletes every other session of the account. The owner can list them (device, address,
//   created, last seen) and end any; every request reads the store, so an ended session is
//   refused at once by every frontend. Last seen is written at most once a minute per
//   session per process.
// - Two-factor sign-in (two_factor.h): with it on, the right password yields no session
//   but a ticket (5 minutes); the session begins only when LogInWithCode gets a fresh TOTP
//   code or an unused recovery code with that ticket.
// - Protocol logins (CheckPassword): an app password (app_passwords.h) always works; the web
//   password works only while two-factor sign-in is off. Nothing is cached here, so a
//   revoked app password or a changed password is refused at the next login.
// - Failed logins: after kFreeFailures failures in a row, each further attempt must wait
//   2^(failures - kFreeFailures) seconds (capped at 15 minutes) after the last failure;
//   attempts during the wait are refused with kResourceExhausted without checking the
//   password. Every checked attempt first takes a failure step by CPut (so N parallel
//   guesses cost N steps, not one); a success then clears the count. Code guesses at the
//   second step take steps the same way, and with two-factor on the right password alone
//   does not clear the count (the finished sign-in does), so knowing the password buys no
//   free code guesses. A right app password neither takes nor clears a step: 160 random bits
//   are not guessed, and mail clients keep working while someone guesses the web password.
//   The state lives in the store, so every frontend and the mail servers share it.
//
// Store layout (rows / columns):
//   acct/<user>   password = PHC string, admin = "1" (absent: not admin),
//                 fail = "<count> <unix ms of last failure>", created = unix seconds,
//                 external = "1" (sending_policy.h), totp/totp_new/totp_step (two_factor.h),
//                 disabled = "1" (set by an admin: no login of any kind, no sessions)
//   users         <user> = "" (the admin console's user list, directory.h; written before
//                 the account, so an entry without an account is a failed sign-up)
//   users.backfill  done = unix seconds (every older account was added to `users`)
//   sess/<sha256(token)>  data = "<user>\n<csrf>\n<expiry unix seconds>[\nadmin]"
//   usess/<user>  <sha256(token)> = "<expiry>\n<created>\n<client address>\n<user agent>"
//                 (index, so a password change finds them all; older entries hold only
//                 the expiry)
//   useen/<user>  <sha256(token)> = last seen, unix seconds
//   tfa/<sha256(ticket)>  data = "<user>\n<expiry unix seconds>" (password right, code owed)
//   appw/<user>, recov/<user>  app_passwords.h, two_factor.h
//
// Errors: kInvalidArgument (bad name/password shape), kAlreadyExists (name taken),
// kUnauthenticated (wrong credentials, unknown/expired session), kResourceExhausted
// (throttled), kUnavailable/kDeadlineExceeded (store unreachable).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "accounts/app_passwords.h"
#include "accounts/password_hash.h"
#include "accounts/seen_throttle.h"
#include "accounts/two_factor.h"
#include "kvs/client/client.h"

namespace penncloud::accounts {

inline constexpr int kFreeFailures = 5;

struct Options {
  HashParams hash_params;
  absl::Duration session_ttl = absl::Hours(24 * 7);
  absl::Duration max_backoff = absl::Minutes(15);
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

struct Session {
  std::string username;
  std::string csrf;
  absl::Time expires;
  // Whether the user was an admin when the session began: what the web app uses to show the
  // admin console's link. Admin pages and APIs still ask IsAdmin on every request.
  bool admin = false;
};

// Where a login comes from, recorded with its session for the owner's list.
struct ClientInfo {
  std::string address;
  std::string user_agent;
};

struct LoginResult {
  std::string token;  // the session cookie's value
  Session session;
  // Set instead of a session when the account has two-factor sign-in: the password was
  // right, and LogInWithCode takes this with a code.
  std::string code_ticket;
  bool needs_code() const { return !code_ticket.empty(); }
};

// What a protocol login was checked against, so that a cache of verified logins (WebDAV's)
// can ask cheaply whether it still holds (ProtocolLoginHolds).
struct ProtocolLogin {
  std::string user;
  std::string app_password_id;  // set when an app password matched
  std::string password_hash;    // else the stored web-password hash it matched
};

// One of a user's sessions, for the "where you're logged in" list.
struct SessionInfo {
  std::string id;  // sha256 of the token: names it without giving it away
  absl::Time created;
  absl::Time last_seen;
  absl::Time expires;
  std::string address;
  std::string user_agent;
  bool current = false;
};

// Lower-cases ASCII letters and checks the username rules above.
absl::StatusOr<std::string> NormalizeUsername(std::string_view username);
absl::Status ValidatePassword(std::string_view password);

class Accounts {
 public:
  // `store` must outlive this object. Thread-safe.
  explicit Accounts(kvs::Client* store, Options options = {});

  // Creates the account; kAlreadyExists if the name is taken (decided by CPut, so of two
  // concurrent sign-ups of one name exactly one wins). Returns the normalized name.
  absl::StatusOr<std::string> SignUp(std::string_view username, std::string_view password,
                                     bool admin = false);

  // A session, or (two-factor on) a ticket for LogInWithCode.
  absl::StatusOr<LoginResult> LogIn(std::string_view username, std::string_view password,
                                    const ClientInfo& client = {});
  // The second step: kUnauthenticated for an unknown or expired ticket or a wrong code.
  absl::StatusOr<LoginResult> LogInWithCode(std::string_view ticket, std::string_view code,
                                            const ClientInfo& client = {});

  // For SMTP AUTH, POP3, IMAP and WebDAV: an app password, or the web password while
  // two-factor sign-in is off (with the same throttling), without creating a session.
  // Returns the normalized name.
  absl::StatusOr<std::string> CheckPassword(std::string_view username, std::string_view password);
  // CheckPassword, saying what matched.
  absl::StatusOr<ProtocolLogin> CheckProtocolLogin(std::string_view username,
                                                   std::string_view password);
  // Whether `login` would still pass: its app password exists, or the web password is
  // unchanged and two-factor still off. One store read.
  absl::StatusOr<bool> ProtocolLoginHolds(const ProtocolLogin& login);

  // The live session of `token`; kUnauthenticated if unknown or expired.
  absl::StatusOr<Session> WhoAmI(std::string_view token);
  // WhoAmI for a caller that must not block (kvs::Client::StartGet): `done` runs once, on
  // the store client's thread or before this returns, with WhoAmI's answer, or with
  // std::nullopt when the quick read did not settle it or the session's last-seen write is
  // due: the caller then asks WhoAmI.
  void StartWhoAmI(std::string_view token,
                   std::function<void(std::optional<absl::StatusOr<Session>>)> done);

  // Ends the session; succeeds if it was already gone.
  absl::Status LogOut(std::string_view token);

  // Checks `old_password`, stores `new_password`, and ends every other session.
  absl::Status ChangePassword(std::string_view token, std::string_view old_password,
                              std::string_view new_password);

  // The sessions of `token`'s user, the current one marked; expired ones are left out.
  absl::StatusOr<std::vector<SessionInfo>> ListSessions(std::string_view token);
  // Ends one of the user's own sessions by id; kNotFound if the user has none of that id.
  absl::Status EndSession(std::string_view token, std::string_view id);
  // Ends every session of the user but `token`'s.
  absl::Status EndOtherSessions(std::string_view token);

  // Sets a new password for `username` without the old one (a reset link an admin made,
  // password_reset.h): the rules of ValidatePassword, the failed-login count cleared, every
  // session ended. App passwords and two-step sign-in stay. Defined in password_reset.cc.
  absl::Status ResetPassword(std::string_view username, std::string_view new_password);

  // Turning two-factor sign-in off takes the password and a code (TOTP or recovery), with
  // failure steps as at login.
  absl::Status DisableTwoFactor(std::string_view token, std::string_view password,
                                std::string_view code);

  AppPasswords& app_passwords() { return app_passwords_; }
  TwoFactor& two_factor() { return two_factor_; }

  absl::StatusOr<bool> IsAdmin(std::string_view username);
  absl::Status SetAdmin(std::string_view username, bool admin);
  // A disabled account cannot log in (web, protocols, app passwords: kPermissionDenied,
  // told only to a caller with the right password or app password); disabling ends every
  // session it has. kNotFound for an unknown user.
  absl::Status SetDisabled(std::string_view username, bool disabled);
  absl::StatusOr<bool> IsDisabled(std::string_view username);
  // Whether the account exists (for mail delivery to local users).
  absl::StatusOr<bool> Exists(std::string_view username);

  // Constant-time check of a request's X-CSRF-Token against its session.
  static bool CsrfMatches(const Session& session, std::string_view provided);

 private:
  struct Checked {
    std::string user;
    std::string password_hash;
    bool two_factor = false;
  };
  // Checks the web password with a failure step. The count is cleared on success, unless
  // the account has two-factor sign-in and `code_follows`: then only this attempt's own step
  // is given back, and the finished sign-in clears the rest.
  absl::StatusOr<Checked> Authenticate(std::string_view username, std::string_view password,
                                       bool code_follows = false);
  // A failure step taken for a code guess, then the code checked; clears the count if right.
  absl::StatusOr<bool> CheckCodeWithStep(const std::string& user, std::string_view code);
  absl::Status EndSessionsExcept(const std::string& user, const std::string& keep_digest);
  void NoteSeen(const std::string& user, const std::string& digest);
  // The live session in a session record as read; kUnauthenticated if none or expired.
  absl::StatusOr<Session> SessionOf(const absl::StatusOr<std::string>& record) const;
  // Counts this attempt as a failure before its password is checked (CPut from `cell`, the
  // counter as read; absent if none); kResourceExhausted if the account must wait.
  struct Step {
    std::optional<std::string> before;  // the counter this step was taken from
    std::string taken;                  // the counter as this step left it
  };
  absl::StatusOr<Step> TakeFailureStep(const std::string& user, std::optional<std::string> cell);
  absl::StatusOr<LoginResult> CreateSession(const std::string& user, const ClientInfo& client);

  kvs::Client* const store_;
  const Options options_;
  AppPasswords app_passwords_;
  TwoFactor two_factor_;
  SeenThrottle seen_;
  std::string dummy_hash_;  // verified against for unknown users, so timing reveals nothing
};

}  // namespace penncloud::accounts
