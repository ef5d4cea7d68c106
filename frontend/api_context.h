// What every JSON API handler shares: the services, and the helpers that turn a request
// into a session and a result into a response.
//
// Conventions of the API (DESIGN.md):
// - Errors are HTTP statuses with a `{"error": "..."}` body (ErrorResponse / FromStatus).
// - The session is the `pc_session` cookie (HttpOnly, SameSite=Strict, Path=/).
// - Every state-changing request (anything but GET/HEAD/OPTIONS) authenticated by that
//   cookie must carry the session's CSRF token in `X-CSRF-Token`, or it gets 403.
//   Requests authenticated by HTTP Basic (WebDAV) carry no cookie and need no CSRF token.
//
// A module adds its routes like this (frontend/mail_api.cc):
//
//   void RegisterMailRoutes(Router& router, const ApiContext& ctx) {
//     router.Add("GET", "/api/mail", WithSession(ctx, [&ctx](Request& req,
//                                                           const accounts::Session& s) {
//       ... ctx.store ... s.username ...
//       return JsonResponse(200, {{"messages", list}});
//     }));
//   }
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "accounts/accounts.h"
#include "http/json_response.h"
#include "http/router.h"
#include "kvs/client/client.h"
#include "nlohmann/json.hpp"

namespace penncloud::frontend {

// The HTTP framework's vocabulary, which every handler of the API speaks.
using http::BodyReader;
using http::ErrorResponse;
using http::Handler;
using http::Headers;
using http::JsonResponse;
using http::ParseTarget;
using http::PercentDecode;
using http::PercentEncode;
using http::Request;
using http::Response;
using http::RouteOptions;
using http::Router;

inline constexpr char kSessionCookie[] = "pc_session";
inline constexpr char kCsrfHeader[] = "X-CSRF-Token";

struct ApiContext {
  kvs::Client* store = nullptr;
  accounts::Accounts* accounts = nullptr;
  std::string mail_domain = "penncloud.local";
  // Where the static web app lives (web/ in the checkout).
  std::string web_root;
  // Whether Set-Cookie says Secure (off for plain-HTTP loopback deployments).
  bool secure_cookies = false;
  // The undo-send window of accounts that never chose one (frontend/mail_delivery_api.h);
  // the frontend binary's --undo_send_default_s (5), 0 here so in-process tests send at once.
  int undo_send_default_s = 0;
};

// Maps a service error to its HTTP status: InvalidArgument 400, Unauthenticated 401,
// PermissionDenied 403, NotFound 404, AlreadyExists 409, FailedPrecondition 409,
// OutOfRange 416, ResourceExhausted 429, Unavailable/DeadlineExceeded 503, else 500.
Response FromStatus(const absl::Status& status);
int HttpStatusFor(absl::StatusCode code);

// Deepest nesting of arrays and objects a JSON request body may have (ours need 3).
inline constexpr int kMaxJsonDepth = 32;

// Parses the body as a JSON object; kInvalidArgument if it is not one or nests deeper than
// kMaxJsonDepth.
absl::StatusOr<nlohmann::json> ParseJsonBody(const Request& request);
// A string member of a JSON object; kInvalidArgument if absent or not a string.
absl::StatusOr<std::string> JsonString(const nlohmann::json& object, const char* key);

bool IsStateChanging(std::string_view method);

// The session of the request's cookie, with the CSRF rule applied: kUnauthenticated if
// there is no live session, kPermissionDenied if a state-changing request lacks the token.
absl::StatusOr<accounts::Session> RequireSession(const ApiContext& ctx, const Request& request);

using SessionHandler = std::function<Response(Request&, const accounts::Session&)>;
// A handler that answers 401/403 itself unless RequireSession succeeds.
Handler WithSession(const ApiContext& ctx, SessionHandler handler);
// The same on the I/O thread, for a `handler` that never blocks: the session is read with
// Accounts::StartWhoAmI, and the route's handler (WithSession) answers when that declines.
// Register both with Router::AddWithFastPath.
http::FastPath SessionFastPath(const ApiContext& ctx, SessionHandler handler);

// The user name and password of an "Authorization: Basic" header, as sent;
// kUnauthenticated if there is none or it is malformed.
struct BasicCredentials {
  std::string user;
  std::string password;
};
absl::StatusOr<BasicCredentials> ParseBasicAuth(const Request& request);

// HTTP Basic credentials checked with Accounts::CheckPassword (for WebDAV clients).
// kUnauthenticated (answer 401 with WWW-Authenticate) if missing or wrong. Returns the user.
absl::StatusOr<std::string> RequireBasicAuth(const ApiContext& ctx, const Request& request);

// Where the request came from, for the owner's sessions list: the coordinator's
// X-Forwarded-For (it sets the header itself and drops a client's), else the peer; without
// the port.
std::string ClientAddress(const Request& request);
// The address and User-Agent that Accounts records with a new session.
accounts::ClientInfo ClientOf(const Request& request);

// Whether the browser's connection is encrypted: --secure_cookies, or the coordinator's
// X-Forwarded-Proto (it sets the header itself and drops a client's; frontends listen
// only for it).
bool OverHttps(const ApiContext& ctx, const Request& request);

// Set-Cookie values that set / clear the session cookie (Secure when OverHttps).
std::string SessionCookie(const ApiContext& ctx, const Request& request, const std::string& token,
                          absl::Duration ttl);
std::string ClearedSessionCookie(const ApiContext& ctx, const Request& request);

}  // namespace penncloud::frontend
