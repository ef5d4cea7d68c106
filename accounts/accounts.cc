#include "accounts/accounts.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "accounts/rows.h"
#include "accounts/tokens.h"

namespace penncloud::accounts {
namespace {

constexpr char kPasswordCol[] = "password";
constexpr char kAdminCol[] = "admin";
constexpr char kFailCol[] = "fail";
constexpr char kCreatedCol[] = "created";
constexpr char kDisabledCol[] = "disabled";
using rows::kSessionCol;
constexpr char kTotpCol[] = "totp";
constexpr absl::Duration kCodeTicketTtl = absl::Minutes(5);

constexpr auto AccountRow = rows::Account;
constexpr auto SessionRow = rows::Session;
constexpr auto IndexRow = rows::SessionIndex;
constexpr auto TicketRow = rows::CodeTicket;

// A client's text as one line of bounded length (it is stored between newlines).
std::string OneLine(std::string_view text, size_t max) {
  std::string out(text.substr(0, max));
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

absl::Status Unauthenticated() { return absl::UnauthenticatedError("wrong username or password"); }
absl::Status Disabled() { return absl::PermissionDeniedError("this account is disabled"); }

struct Failures {
  int64_t count = 0;
  int64_t last_ms = 0;
};

Failures ParseFailures(std::string_view text) {
  Failures f;
  std::vector<std::string> parts = absl::StrSplit(std::string(text), ' ');
  if (parts.size() == 2 && absl::SimpleAtoi(parts[0], &f.count) &&
      absl::SimpleAtoi(parts[1], &f.last_ms)) {
    return f;
  }
  return {};
}

}  // namespace

absl::StatusOr<std::string> NormalizeUsername(std::string_view username) {
  std::string user(username);
  for (char& c : user) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (user.size() < 3 || user.size() > 32) {
    return absl::InvalidArgumentError("username must be 3 to 32 characters");
  }
  if (user[0] < 'a' || user[0] > 'z') {
    return absl::InvalidArgumentError("username must start with a letter");
  }
  for (char c : user) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(
          "username may contain only letters, digits, '.', '_' and '-'");
    }
  }
  return user;
}

absl::Status ValidatePassword(std::string_view password) {
  if (password.size() < 8)
    return absl::InvalidArgumentError("password must be at least 8 characters");
  if (password.size() > 128)
    return absl::InvalidArgumentError("password must be at most 128 bytes");
  return absl::OkStatus();
}

Accounts::Accounts(kvs::Client* store, Options options)
    : store_(store),
      options_(std::move(options)),
      app_passwords_(store, options_.now),
      two_factor_(store, options_.now) {
  dummy_hash_ = HashPassword("penncloud-dummy-password", options_.hash_params).value();
}

absl::StatusOr<std::string> Accounts::SignUp(std::string_view username, std::string_view password,
                                             bool admin) {
  absl::StatusOr<std::string> user = NormalizeUsername(username);
  if (!user.ok()) return user.status();
  if (absl::Status s = ValidatePassword(password); !s.ok()) return s;
  absl::StatusOr<std::string> hash = HashPassword(password, options_.hash_params);
  if (!hash.ok()) return hash.status();
  // The user list's entry before the account: an account that exists is always listed.
  // A sign-up that fails after this line leaves an entry the list skips (directory.h).
  if (absl::Status s = store_->Put(rows::kUsers, *user, ""); !s.ok()) return s;
  absl::StatusOr<bool> won = store_->CPut(AccountRow(*user), kPasswordCol, std::nullopt, *hash);
  if (!won.ok()) return won.status();
  if (!*won) return absl::AlreadyExistsError("username is taken");
  // Its age decides when it may send mail outside the domain (sending_policy.h).
  const std::string created = absl::StrCat(absl::ToUnixSeconds(options_.now()));
  if (absl::Status s = store_->Put(AccountRow(*user), kCreatedCol, created); !s.ok()) return s;
  if (admin) {
    if (absl::Status s = SetAdmin(*user, true); !s.ok()) return s;
  }
  return *user;
}

absl::StatusOr<Accounts::Checked> Accounts::Authenticate(std::string_view username,
                                                         std::string_view password,
                                                         bool code_follows) {
  absl::StatusOr<std::string> user = NormalizeUsername(username);
  if (!user.ok() || password.size() > 128) {
    VerifyPassword(password.substr(0, 128), dummy_hash_);
    return Unauthenticated();
  }
  // One round trip for the hash, the failure count and whether a second factor is on.
  absl::StatusOr<kvs::ColumnPage> row =
      store_->List(AccountRow(*user), {.after = "", .limit = 32, .with_values = true});
  if (!row.ok()) return row.status();
  std::optional<std::string> hash;
  std::optional<std::string> fail_cell;  // the counter exactly as stored, for the CPut
  bool two_factor = false;
  bool disabled = false;
  for (const kvs::Cell& cell : row->cells) {
    if (cell.column == kPasswordCol) hash = cell.value;
    if (cell.column == kFailCol) fail_cell = cell.value;
    if (cell.column == kTotpCol) two_factor = true;
    if (cell.column == kDisabledCol) disabled = true;
  }
  if (!hash) {
    VerifyPassword(password, dummy_hash_);
    return Unauthenticated();
  }
  absl::StatusOr<Step> step = TakeFailureStep(*user, std::move(fail_cell));
  if (!step.ok()) return step.status();
  if (!VerifyPassword(password, *hash)) return Unauthenticated();  // the step stays taken
  if (two_factor && code_follows) {
    // With a code still owed, the right password gives back only its own step: the count
    // is cleared by the right code, so redoing the password step buys no free code guesses.
    // Best effort: if another attempt moved the counter since, this step stays.
    absl::StatusOr<bool> undone =
        step->before ? store_->CPut(AccountRow(*user), kFailCol, step->taken, *step->before)
                     : store_->CDelete(AccountRow(*user), kFailCol, step->taken);
    if (!undone.ok()) return undone.status();
  } else {
    // The right password clears the count, this attempt's own step included.
    if (absl::Status s = store_->Delete(AccountRow(*user), kFailCol); !s.ok()) return s;
  }
  // Said only to someone who knows the password.
  if (disabled) return Disabled();
  return Checked{*user, *std::move(hash), two_factor};
}

absl::StatusOr<bool> Accounts::CheckCodeWithStep(const std::string& user, std::string_view code) {
  absl::StatusOr<std::string> fail = store_->Get(AccountRow(user), kFailCol);
  std::optional<std::string> cell;
  if (fail.ok()) {
    cell = *std::move(fail);
  } else if (!absl::IsNotFound(fail.status())) {
    return fail.status();
  }
  if (absl::StatusOr<Step> step = TakeFailureStep(user, std::move(cell)); !step.ok()) {
    return step.status();
  }
  absl::StatusOr<bool> right = two_factor_.CheckCode(user, code);
  if (!right.ok() || !*right) return right;  // the step stays taken
  if (absl::Status s = store_->Delete(AccountRow(user), kFailCol); !s.ok()) return s;
  return true;
}

absl::StatusOr<Accounts::Step> Accounts::TakeFailureStep(const std::string& user,
                                                         std::optional<std::string> cell) {
  // Every password check first counts as a failure, taken by CPut from the value this
  // attempt saw. Of N parallel guesses each must win its own CPut, so N guesses cost N
  // steps; a loser reads the counter again and is refused if it now says to wait. (Reading,
  // hashing and only then writing let them all through one back-off window.)
  constexpr int kMaxRaces = 32;
  for (int race = 0; race < kMaxRaces; ++race) {
    Failures failures = cell ? ParseFailures(*cell) : Failures{};
    if (failures.count >= kFreeFailures) {
      int64_t shift = std::min<int64_t>(failures.count - kFreeFailures, 20);
      absl::Duration wait = std::min(absl::Seconds(int64_t{1} << shift), options_.max_backoff);
      absl::Time until = absl::FromUnixMillis(failures.last_ms) + wait;
      absl::Time now = options_.now();
      if (now < until) {
        int64_t secs = absl::ToInt64Seconds(absl::Ceil(until - now, absl::Seconds(1)));
        return absl::ResourceExhaustedError(absl::StrCat("too many failed logins; try again in ",
                                                         std::max<int64_t>(secs, 1), " s"));
      }
    }
    std::string taken = absl::StrCat(failures.count + 1, " ", absl::ToUnixMillis(options_.now()));
    std::optional<std::string_view> expected;
    if (cell) expected = *cell;
    absl::StatusOr<bool> won = store_->CPut(AccountRow(user), kFailCol, expected, taken);
    if (!won.ok()) return won.status();
    if (*won) return Step{std::move(cell), std::move(taken)};
    absl::StatusOr<std::string> stored = store_->Get(AccountRow(user), kFailCol);
    if (absl::IsNotFound(stored.status())) {
      cell.reset();
    } else if (!stored.ok()) {
      return stored.status();
    } else {
      cell = *std::move(stored);
    }
  }
  return absl::ResourceExhaustedError("too many concurrent logins; try again later");
}

absl::StatusOr<LoginResult> Accounts::CreateSession(const std::string& user,
                                                    const ClientInfo& client) {
  LoginResult result;
  result.token = NewToken();
  result.session.username = user;
  result.session.csrf = NewToken();
  result.session.expires = options_.now() + options_.session_ttl;
  absl::StatusOr<kvs::ColumnPage> row =
      store_->List(AccountRow(user), {.after = "", .limit = 32, .with_values = true});
  if (!row.ok()) return row.status();
  for (const kvs::Cell& cell : row->cells) {
    if (cell.column == kAdminCol) result.session.admin = cell.value == "1";
    if (cell.column == kDisabledCol) return Disabled();
  }
  std::string digest = Sha256Hex(result.token);
  std::string expiry = absl::StrCat(absl::ToUnixSeconds(result.session.expires));
  // Index first: a session that exists is always findable by a password change.
  std::string entry =
      absl::StrCat(expiry, "\n", absl::ToUnixSeconds(options_.now()), "\n",
                   OneLine(client.address, 64), "\n", OneLine(client.user_agent, 256));
  if (absl::Status s = store_->Put(IndexRow(user), digest, entry); !s.ok()) return s;
  if (absl::Status s = store_->Put(SessionRow(digest), kSessionCol,
                                   absl::StrCat(user, "\n", result.session.csrf, "\n", expiry,
                                                result.session.admin ? "\nadmin" : ""));
      !s.ok()) {
    return s;
  }
  return result;
}

absl::StatusOr<LoginResult> Accounts::LogIn(std::string_view username, std::string_view password,
                                            const ClientInfo& client) {
  absl::StatusOr<Checked> checked = Authenticate(username, password, /*code_follows=*/true);
  if (!checked.ok()) return checked.status();
  if (!checked->two_factor) return CreateSession(checked->user, client);
  LoginResult owed;
  owed.code_ticket = NewToken();
  std::string expiry = absl::StrCat(absl::ToUnixSeconds(options_.now() + kCodeTicketTtl));
  if (absl::Status s = store_->Put(TicketRow(Sha256Hex(owed.code_ticket)), kSessionCol,
                                   absl::StrCat(checked->user, "\n", expiry));
      !s.ok()) {
    return s;
  }
  return owed;
}

absl::StatusOr<LoginResult> Accounts::LogInWithCode(std::string_view ticket, std::string_view code,
                                                    const ClientInfo& client) {
  const absl::Status expired =
      absl::UnauthenticatedError("sign-in expired; enter your password again");
  if (ticket.empty() || ticket.size() > 128) return expired;
  const std::string row = TicketRow(Sha256Hex(ticket));
  absl::StatusOr<std::string> data = store_->Get(row, kSessionCol);
  if (absl::IsNotFound(data.status())) return expired;
  if (!data.ok()) return data.status();
  std::vector<std::string> parts = absl::StrSplit(*data, '\n');
  int64_t until = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &until)) {
    return absl::InternalError("corrupt sign-in ticket");
  }
  if (options_.now() >= absl::FromUnixSeconds(until)) {
    (void)store_->Delete(row, kSessionCol);
    return expired;
  }
  absl::StatusOr<bool> right = CheckCodeWithStep(parts[0], code);
  if (!right.ok()) return right.status();
  if (!*right) return absl::UnauthenticatedError("wrong code");
  // A ticket begins one session: of two racing uses, only the one that deletes it goes on.
  absl::StatusOr<bool> taken = store_->CDelete(row, kSessionCol, *data);
  if (!taken.ok()) return taken.status();
  if (!*taken) return expired;
  return CreateSession(parts[0], client);
}

absl::StatusOr<std::string> Accounts::CheckPassword(std::string_view username,
                                                    std::string_view password) {
  absl::StatusOr<ProtocolLogin> login = CheckProtocolLogin(username, password);
  if (!login.ok()) return login.status();
  return std::move(login->user);
}

absl::StatusOr<ProtocolLogin> Accounts::CheckProtocolLogin(std::string_view username,
                                                           std::string_view password) {
  absl::StatusOr<std::string> user = NormalizeUsername(username);
  if (user.ok()) {
    absl::StatusOr<std::optional<std::string>> app = app_passwords_.Match(*user, password);
    if (!app.ok()) return app.status();
    if (*app) {
      absl::StatusOr<bool> disabled = IsDisabled(*user);
      if (!disabled.ok()) return disabled.status();
      if (*disabled) return Disabled();
      return ProtocolLogin{.user = *user, .app_password_id = **app, .password_hash = ""};
    }
  }
  absl::StatusOr<Checked> checked = Authenticate(username, password, /*code_follows=*/true);
  if (!checked.ok()) return checked.status();
  if (checked->two_factor) {
    // The step this attempt took stays: to a guesser, this is one more wrong answer.
    return absl::UnauthenticatedError(
        "this account has two-factor sign-in: use an app password (Account settings)");
  }
  return ProtocolLogin{
      .user = checked->user, .app_password_id = "", .password_hash = checked->password_hash};
}

absl::StatusOr<bool> Accounts::ProtocolLoginHolds(const ProtocolLogin& login) {
  if (!login.app_password_id.empty()) {
    absl::StatusOr<bool> disabled = IsDisabled(login.user);
    if (!disabled.ok() || *disabled) return !disabled.ok() ? disabled : false;
    return app_passwords_.Exists(login.user, login.app_password_id);
  }
  absl::StatusOr<kvs::ColumnPage> row =
      store_->List(AccountRow(login.user), {.after = "", .limit = 32, .with_values = true});
  if (!row.ok()) return row.status();
  bool same_password = false;
  for (const kvs::Cell& cell : row->cells) {
    if (cell.column == kTotpCol || cell.column == kDisabledCol) return false;
    if (cell.column == kPasswordCol) same_password = cell.value == login.password_hash;
  }
  return same_password;
}

absl::StatusOr<Session> Accounts::SessionOf(const absl::StatusOr<std::string>& record) const {
  if (absl::IsNotFound(record.status())) return absl::UnauthenticatedError("not logged in");
  if (!record.ok()) return record.status();
  std::vector<absl::string_view> parts = absl::StrSplit(*record, '\n');
  int64_t expiry = 0;
  // user, csrf, expiry, and "admin" as a fourth line for an admin's session.
  if (parts.size() < 3 || parts.size() > 4 || !absl::SimpleAtoi(parts[2], &expiry)) {
    return absl::InternalError("corrupt session record");
  }
  Session session{std::string(parts[0]), std::string(parts[1]), absl::FromUnixSeconds(expiry),
                  parts.size() == 4 && parts[3] == "admin"};
  if (options_.now() >= session.expires) return absl::UnauthenticatedError("session expired");
  return session;
}

absl::StatusOr<Session> Accounts::WhoAmI(std::string_view token) {
  if (token.empty() || token.size() > 128) return absl::UnauthenticatedError("not logged in");
  const std::string digest = Sha256Hex(token);
  absl::StatusOr<Session> session = SessionOf(store_->Get(SessionRow(digest), kSessionCol));
  if (session.ok()) NoteSeen(session->username, digest);
  return session;
}

void Accounts::StartWhoAmI(std::string_view token,
                           std::function<void(std::optional<absl::StatusOr<Session>>)> done) {
  if (token.empty() || token.size() > 128) return done(absl::UnauthenticatedError("not logged in"));
  std::string digest = Sha256Hex(token);
  const std::string row = SessionRow(digest);
  store_->StartGet(
      row, kSessionCol,
      [this, digest = std::move(digest), done = std::move(done)](kvs::StartedGet record) {
        if (!record.has_value()) return done(std::nullopt);
        absl::StatusOr<Session> session = SessionOf(*record);
        // The write would block: WhoAmI makes it.
        if (session.ok() && seen_.Due(digest, options_.now())) {
          return done(std::nullopt);
        }
        done(std::move(session));
      });
}

absl::Status Accounts::LogOut(std::string_view token) {
  absl::StatusOr<Session> session = WhoAmI(token);
  std::string digest = Sha256Hex(token);
  if (absl::Status s = store_->Delete(SessionRow(digest), kSessionCol); !s.ok()) return s;
  if (!session.ok()) return absl::OkStatus();
  if (absl::Status s = store_->Delete(IndexRow(session->username), digest); !s.ok()) return s;
  return store_->Delete(rows::Seen(session->username), digest);
}

absl::Status Accounts::ChangePassword(std::string_view token, std::string_view old_password,
                                      std::string_view new_password) {
  absl::StatusOr<Session> session = WhoAmI(token);
  if (!session.ok()) return session.status();
  if (absl::Status s = ValidatePassword(new_password); !s.ok()) return s;
  absl::StatusOr<Checked> checked = Authenticate(session->username, old_password);
  if (!checked.ok()) return checked.status();
  absl::StatusOr<std::string> hash = HashPassword(new_password, options_.hash_params);
  if (!hash.ok()) return hash.status();
  if (absl::Status s = store_->Put(AccountRow(checked->user), kPasswordCol, *hash); !s.ok()) {
    return s;
  }
  return EndSessionsExcept(checked->user, Sha256Hex(token));
}

absl::Status Accounts::DisableTwoFactor(std::string_view token, std::string_view password,
                                        std::string_view code) {
  absl::StatusOr<Session> session = WhoAmI(token);
  if (!session.ok()) return session.status();
  // One step for the password and the code together: it stays unless both are right.
  absl::StatusOr<Checked> checked =
      Authenticate(session->username, password, /*code_follows=*/true);
  if (!checked.ok()) return checked.status();
  if (!checked->two_factor) return absl::FailedPreconditionError("two-factor sign-in is off");
  absl::StatusOr<bool> right = two_factor_.CheckCode(checked->user, code);
  if (!right.ok()) return right.status();
  if (!*right) return absl::UnauthenticatedError("wrong code");
  if (absl::Status s = store_->Delete(AccountRow(checked->user), kFailCol); !s.ok()) return s;
  return two_factor_.Disable(checked->user);
}

absl::StatusOr<bool> Accounts::IsAdmin(std::string_view username) {
  absl::StatusOr<std::string> user = NormalizeUsername(username);
  if (!user.ok()) return false;
  absl::StatusOr<std::string> flag = store_->Get(AccountRow(*user), kAdminCol);
  if (absl::IsNotFound(flag.status())) return false;
  if (!flag.ok()) return flag.status();
  return *flag == "1";
}

absl::StatusOr<bool> Accounts::IsDisabled(std::string_view username) {
  absl::StatusOr<std::string> user = NormalizeUsername(username);
  if (!user.ok()) return false;
  absl::StatusOr<std::string> flag = store_->Get(AccountRow(*user), kDisabledCol);
  if (absl::IsNotFound(flag.status())) return false;
  if (!flag.ok()) return flag.status();
  return true;
}

absl::Status Accounts::SetDisabled(std::string_view username, bool disabled) {
  absl::StatusOr<std::string> user = NormalizeUsername(username);
  if (!user.ok()) return user.status();
  absl::StatusOr<bool> exists = Exists(*user);
  if (!exists.ok()) return exists.status();
  if (!*exists) return absl::NotFoundError("no such user");
  if (!disabled) return store_->Delete(AccountRow(*user), kDisabledCol);
  // The flag first, so a login that starts now is refused; then the sessions end.
  if (absl::Status s = store_->Put(AccountRow(*user), kDisabledCol, "1"); !s.ok()) return s;
  return EndSessionsExcept(*user, "");
}

absl::Status Accounts::SetAdmin(std::string_view username, bool admin) {
  absl::StatusOr<std::string> user = NormalizeUsername(username);
  if (!user.ok()) return user.status();
  if (admin) return store_->Put(AccountRow(*user), kAdminCol, "1");
  return store_->Delete(AccountRow(*user), kAdminCol);
}

absl::StatusOr<bool> Accounts::Exists(std::string_view username) {
  absl::StatusOr<std::string> user = NormalizeUsername(username);
  if (!user.ok()) return false;
  absl::StatusOr<std::string> hash = store_->Get(AccountRow(*user), kPasswordCol);
  if (absl::IsNotFound(hash.status())) return false;
  if (!hash.ok()) return hash.status();
  return true;
}

bool Accounts::CsrfMatches(const Session& session, std::string_view provided) {
  return !provided.empty() && ConstantTimeEquals(session.csrf, provided);
}

}  // namespace penncloud::accounts
