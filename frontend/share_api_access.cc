#include "frontend/share_api_access.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace penncloud::frontend {
namespace {

constexpr int64_t kGrantMs = 12 * 60 * 60 * 1000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

absl::Status TooManyGuesses() {
  return absl::ResourceExhaustedError("too many wrong guesses; try again later");
}

}  // namespace

GuessLimiter::GuessLimiter(int limit, int64_t window_ms, size_t max_keys)
    : limit_(limit), window_ms_(window_ms), max_keys_(max_keys) {}

bool GuessLimiter::Allowed(const std::string& key, int64_t now_ms) {
  std::lock_guard lock(mu_);
  auto it = windows_.find(key);
  if (it == windows_.end() || now_ms - it->second.start_ms >= window_ms_) return true;
  return it->second.failures < limit_;
}

void GuessLimiter::Failed(const std::string& key, int64_t now_ms) {
  std::lock_guard lock(mu_);
  // A flood of distinct keys must not grow memory without bound; clearing forgives some
  // guesses, which the per-address limit still counts.
  if (windows_.size() >= max_keys_ && !windows_.contains(key)) windows_.clear();
  Window& w = windows_[key];
  if (now_ms - w.start_ms >= window_ms_) w = {now_ms, 0};
  ++w.failures;
}

std::string GrantCookieName(const drive::Share& link) { return "pc_link_" + link.id; }

std::string GrantValue(const drive::Share& link, const std::string& secret, int64_t expires_ms) {
  std::string message = absl::StrCat(link.token, ".", expires_ms);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &length);
  return absl::StrCat(expires_ms, ".",
                      absl::BytesToHexString(std::string(reinterpret_cast<char*>(mac), length)));
}

LinkGate::LinkGate(drive::Shares* shares, GuessLimits limits)
    : shares_(shares),
      per_token_(limits.per_token, limits.window_ms, limits.max_keys),
      per_address_(limits.per_address, limits.window_ms, limits.max_keys) {}

absl::StatusOr<drive::Share> LinkGate::Find(const Request& request) {
  std::string address = ClientAddress(request);
  int64_t now = NowMs();
  if (!per_address_.Allowed(address, now)) return TooManyGuesses();
  auto it = request.params.find("token");
  std::string token = it == request.params.end() ? "" : it->second;
  auto link = shares_->OpenLink(token);
  if (absl::IsNotFound(link.status())) per_address_.Failed(address, now);
  return link;
}

absl::StatusOr<bool> LinkGate::HasGrant(const drive::Share& link, const Request& request) {
  std::string cookie = request.Cookie(GrantCookieName(link));
  size_t dot = cookie.find('.');
  int64_t expires = 0;
  if (dot == std::string::npos || !absl::SimpleAtoi(cookie.substr(0, dot), &expires) ||
      expires <= NowMs()) {
    return false;
  }
  auto secret = shares_->LinkSecret(link);
  if (!secret.ok()) return secret.status();
  std::string want = GrantValue(link, *secret, expires);
  return want.size() == cookie.size() &&
         CRYPTO_memcmp(want.data(), cookie.data(), want.size()) == 0;
}

absl::StatusOr<bool> LinkGate::CheckPassword(const drive::Share& link, const Request& request,
                                             std::string_view password) {
  std::string address = ClientAddress(request);
  int64_t now = NowMs();
  if (!per_token_.Allowed(link.id, now) || !per_address_.Allowed(address, now)) {
    return TooManyGuesses();
  }
  auto ok = shares_->CheckLinkPassword(link, password);
  if (!ok.ok()) return ok.status();
  if (!*ok) {
    per_token_.Failed(link.id, now);
    per_address_.Failed(address, now);
  }
  return *ok;
}

absl::StatusOr<drive::Share> LinkGate::Peek(const Request& request, bool* unlocked) {
  auto link = Find(request);
  if (!link.ok()) return link.status();
  *unlocked = !link->password;
  if (link->password) {
    auto granted = HasGrant(*link, request);
    if (!granted.ok()) return granted.status();
    *unlocked = *granted;
  }
  return link;
}

absl::StatusOr<drive::Share> LinkGate::Open(const Request& request) {
  bool unlocked = false;
  auto link = Peek(request, &unlocked);
  if (!link.ok() || unlocked) return link;
  std::string_view given = request.headers.Get(kSharePasswordHeader);
  if (given.empty()) return absl::UnauthenticatedError("this link needs a password");
  auto ok = CheckPassword(*link, request, given);
  if (!ok.ok()) return ok.status();
  if (!*ok) return absl::UnauthenticatedError("wrong password");
  return link;
}

absl::StatusOr<std::string> LinkGate::Unlock(const ApiContext& ctx, const Request& request,
                                             std::string_view password) {
  auto link = Find(request);
  if (!link.ok()) return link.status();
  auto ok = CheckPassword(*link, request, password);
  if (!ok.ok()) return ok.status();
  if (!*ok) return absl::UnauthenticatedError("wrong password");
  auto secret = shares_->LinkSecret(*link);
  if (!secret.ok()) return secret.status();
  int64_t expires = NowMs() + kGrantMs;
  return absl::StrCat(GrantCookieName(*link), "=", GrantValue(*link, *secret, expires),
                      "; Path=/s/", link->token, "; Max-Age=", kGrantMs / 1000,
                      "; HttpOnly; SameSite=Strict", OverHttps(ctx, request) ? "; Secure" : "");
}

}  // namespace penncloud::frontend
