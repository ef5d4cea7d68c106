#include "accounts/two_factor.h"

#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "accounts/base32.h"
#include "accounts/tokens.h"
#include "accounts/totp.h"

namespace penncloud::accounts {
namespace {

constexpr char kSecretCol[] = "totp";
constexpr char kPendingCol[] = "totp_new";
constexpr char kStepCol[] = "totp_step";
constexpr size_t kSecretBytes = 20;  // 160 bits, RFC 4226's recommended key length

std::string AccountRow(std::string_view user) { return std::string("acct/").append(user); }
std::string RecoveryRow(std::string_view user) { return std::string("recov/").append(user); }

// The key behind a stored base32 secret; kInternal if the record is damaged.
absl::StatusOr<std::string> Key(const std::string& stored) {
  std::optional<std::string> key = Base32Decode(stored);
  if (!key || key->empty()) return absl::InternalError("corrupt two-factor secret");
  return *key;
}

// Authenticator apps show "123 456"; people type it so.
std::string WithoutSpaces(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c != ' ') out.push_back(c);
  }
  return out;
}

}  // namespace

TwoFactor::TwoFactor(kvs::Client* store, std::function<absl::Time()> now)
    : store_(store), now_(std::move(now)) {}

absl::StatusOr<TwoFactorState> TwoFactor::State(std::string_view user) {
  TwoFactorState state;
  absl::StatusOr<std::string> secret = store_->Get(AccountRow(user), kSecretCol);
  if (absl::IsNotFound(secret.status())) return state;
  if (!secret.ok()) return secret.status();
  state.enabled = true;
  absl::StatusOr<kvs::ColumnPage> codes =
      store_->List(RecoveryRow(user), {.after = "", .limit = 100, .with_values = false});
  if (!codes.ok()) return codes.status();
  state.recovery_codes_left = static_cast<int>(codes->cells.size());
  return state;
}

absl::StatusOr<Enrollment> TwoFactor::Begin(std::string_view user, std::string_view issuer) {
  absl::StatusOr<TwoFactorState> state = State(user);
  if (!state.ok()) return state.status();
  if (state->enabled) return absl::FailedPreconditionError("two-factor sign-in is already on");
  std::string key = RandomBytes(kSecretBytes);
  Enrollment e{Base32Encode(key), OtpauthUri(issuer, user, key)};
  if (absl::Status s = store_->Put(AccountRow(user), kPendingCol, e.secret); !s.ok()) return s;
  return e;
}

absl::StatusOr<std::vector<std::string>> TwoFactor::Confirm(std::string_view user,
                                                            std::string_view code) {
  const std::string row = AccountRow(user);
  absl::StatusOr<std::string> pending = store_->Get(row, kPendingCol);
  if (absl::IsNotFound(pending.status())) {
    return absl::FailedPreconditionError("start the set-up again: no code is awaited");
  }
  if (!pending.ok()) return pending.status();
  absl::StatusOr<std::string> key = Key(*pending);
  if (!key.ok()) return key.status();
  std::optional<int64_t> step = MatchTotp(*key, WithoutSpaces(code), now_());
  if (!step) return absl::InvalidArgumentError("that code is not right; check the app's clock");
  // The step is recorded before the secret goes live, so this very code cannot sign in.
  if (absl::Status s = store_->Put(row, kStepCol, absl::StrCat(*step)); !s.ok()) return s;
  absl::StatusOr<std::vector<std::string>> codes = NewRecoveryCodes(user);
  if (!codes.ok()) return codes.status();
  // On only if the pending secret is still the one this code was checked against (a second
  // set-up in another tab may have replaced it).
  absl::StatusOr<bool> on = store_->CPut(row, kSecretCol, std::nullopt, *pending);
  if (!on.ok()) return on.status();
  if (!*on) return absl::FailedPreconditionError("two-factor sign-in is already on");
  if (absl::Status s = store_->Delete(row, kPendingCol); !s.ok()) return s;
  return codes;
}

absl::StatusOr<bool> TwoFactor::CheckCode(std::string_view user, std::string_view typed) {
  const std::string row = AccountRow(user);
  absl::StatusOr<std::string> secret = store_->Get(row, kSecretCol);
  if (absl::IsNotFound(secret.status())) return false;
  if (!secret.ok()) return secret.status();
  std::string code = WithoutSpaces(typed);
  if (code.size() != static_cast<size_t>(kTotpDigits)) return UseRecoveryCode(user, code);
  absl::StatusOr<std::string> key = Key(*secret);
  if (!key.ok()) return key.status();
  std::optional<int64_t> step = MatchTotp(*key, code, now_());
  if (!step) return false;
  return TakeStep(row, *step);
}

absl::StatusOr<bool> TwoFactor::TakeStep(const std::string& row, int64_t step) {
  // Only forward: of two logins with one code (or a replay), one CPut wins and the other
  // then sees a step that is not older than its own.
  constexpr int kMaxRaces = 16;
  for (int race = 0; race < kMaxRaces; ++race) {
    absl::StatusOr<std::string> last = store_->Get(row, kStepCol);
    std::optional<std::string_view> expected;
    if (last.ok()) {
      int64_t last_step = 0;
      if (!absl::SimpleAtoi(*last, &last_step)) return absl::InternalError("corrupt totp_step");
      if (step <= last_step) return false;
      expected = *last;
    } else if (!absl::IsNotFound(last.status())) {
      return last.status();
    }
    absl::StatusOr<bool> won = store_->CPut(row, kStepCol, expected, absl::StrCat(step));
    if (!won.ok()) return won.status();
    if (*won) return true;
  }
  return absl::ResourceExhaustedError("too many concurrent sign-ins; try again");
}

absl::StatusOr<bool> TwoFactor::UseRecoveryCode(std::string_view user, std::string_view code) {
  std::optional<std::string> canonical = CanonicalTypedSecret(code, kRecoveryCodeGroups);
  if (!canonical) return false;
  return store_->CDelete(RecoveryRow(user), Sha256Hex(*canonical), "1");
}

absl::StatusOr<std::vector<std::string>> TwoFactor::NewRecoveryCodes(std::string_view user) {
  // Old codes go first, so only this set is ever valid.
  if (absl::Status s = DeleteRecoveryCodes(user); !s.ok()) return s;
  const std::string row = RecoveryRow(user);
  std::vector<std::string> codes;
  for (int i = 0; i < kRecoveryCodes; ++i) {
    codes.push_back(NewTypedSecret(kRecoveryCodeGroups));
    std::string digest = Sha256Hex(*CanonicalTypedSecret(codes.back(), kRecoveryCodeGroups));
    if (absl::Status s = store_->Put(row, digest, "1"); !s.ok()) return s;
  }
  return codes;
}

absl::Status TwoFactor::Disable(std::string_view user) {
  const std::string row = AccountRow(user);
  // The secret first: once it is gone the account is off, whatever happens to the rest.
  for (const char* col : {kSecretCol, kPendingCol, kStepCol}) {
    if (absl::Status s = store_->Delete(row, col); !s.ok()) return s;
  }
  return DeleteRecoveryCodes(user);
}

absl::Status TwoFactor::DeleteRecoveryCodes(std::string_view user) {
  // A user holds at most kRecoveryCodes of them, so one page lists them all.
  const std::string row = RecoveryRow(user);
  absl::StatusOr<kvs::ColumnPage> codes =
      store_->List(row, {.after = "", .limit = 100, .with_values = false});
  if (!codes.ok()) return codes.status();
  for (const kvs::Cell& cell : codes->cells) {
    if (absl::Status s = store_->Delete(row, cell.column); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace penncloud::accounts
