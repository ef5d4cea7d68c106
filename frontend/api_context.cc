#include "frontend/api_context.h"

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace penncloud::frontend {

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
      return 409;
    case absl::StatusCode::kFailedPrecondition:
      return 409;
    case absl::StatusCode::kOutOfRange:
      return 416;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 503;
    default:
      return 500;
  }
}

Response FromStatus(const absl::Status& status) {
  int code = HttpStatusFor(status.code());
  // Internal details stay in the log; users get a plain sentence.
  if (code == 500) return ErrorResponse(500, "internal error");
  if (code == 503) return ErrorResponse(503, "storage temporarily unavailable; try again");
  return ErrorResponse(code, std::string(status.message()));
}

absl::StatusOr<nlohmann::json> ParseJsonBody(const Request& request) {
  // Nesting is refused as it is met, so a megabyte of '[' never becomes a million nested
  // values (which nlohmann::json would then dump and destroy recursively).
  bool too_deep = false;
  auto limit_depth = [&too_deep](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
    bool opens = event == nlohmann::json::parse_event_t::object_start ||
                 event == nlohmann::json::parse_event_t::array_start;
    if (opens && depth >= kMaxJsonDepth) too_deep = true;
    return !too_deep;
  };
  nlohmann::json body =
      nlohmann::json::parse(request.body, limit_depth, /*allow_exceptions=*/false);
  if (too_deep) {
    return absl::InvalidArgumentError(
        absl::StrCat("request body nests deeper than ", kMaxJsonDepth, " levels"));
  }
  if (body.is_discarded() || !body.is_object()) {
    return absl::InvalidArgumentError("request body must be a JSON object");
  }
  return body;
}

absl::StatusOr<std::string> JsonString(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("missing string field \"", key, "\""));
  }
  return it->get<std::string>();
}

bool IsStateChanging(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

namespace {

// The CSRF rule, on the request's session as read.
absl::StatusOr<accounts::Session> WithCsrfRule(const Request& request,
                                               absl::StatusOr<accounts::Session> session) {
  if (!session.ok()) return session.status();
  if (IsStateChanging(request.method) &&
      !accounts::Accounts::CsrfMatches(*session, request.headers.Get(kCsrfHeader))) {
    return absl::PermissionDeniedError("missing or wrong X-CSRF-Token");
  }
  return session;
}

Response Answer(Request& request, const absl::StatusOr<accounts::Session>& session,
                const SessionHandler& handler) {
  if (!session.ok()) return FromStatus(session.status());
  return handler(request, *session);
}

}  // namespace

absl::StatusOr<accounts::Session> RequireSession(const ApiContext& ctx, const Request& request) {
  std::string token = request.Cookie(kSessionCookie);
  if (token.empty()) return absl::UnauthenticatedError("not logged in");
  return WithCsrfRule(request, ctx.accounts->WhoAmI(token));
}

Handler WithSession(const ApiContext& ctx, SessionHandler handler) {
  return [&ctx, handler = std::move(handler)](Request& request) {
    return Answer(request, RequireSession(ctx, request), handler);
  };
}

http::FastPath SessionFastPath(const ApiContext& ctx, SessionHandler handler) {
  auto shared = std::make_shared<const SessionHandler>(std::move(handler));
  return [&ctx, shared](Request& request, http::Respond respond) {
    ctx.accounts->StartWhoAmI(
        request.Cookie(kSessionCookie),
        [&request, shared,
         respond = std::move(respond)](std::optional<absl::StatusOr<accounts::Session>> session) {
          if (!session.has_value()) return respond(std::nullopt);
          respond(Answer(request, WithCsrfRule(request, *std::move(session)), *shared));
        });
  };
}

absl::StatusOr<BasicCredentials> ParseBasicAuth(const Request& request) {
  std::string_view auth = request.headers.Get("Authorization");
  constexpr std::string_view kBasic = "Basic ";
  if (auth.size() <= kBasic.size() || !auth.starts_with(kBasic)) {
    return absl::UnauthenticatedError("authentication required");
  }
  std::string decoded;
  std::string encoded(auth.substr(kBasic.size()));
  if (!absl::Base64Unescape(encoded, &decoded)) {
    return absl::UnauthenticatedError("malformed credentials");
  }
  size_t colon = decoded.find(':');
  if (colon == std::string::npos) return absl::UnauthenticatedError("malformed credentials");
  return BasicCredentials{.user = decoded.substr(0, colon), .password = decoded.substr(colon + 1)};
}

absl::StatusOr<std::string> RequireBasicAuth(const ApiContext& ctx, const Request& request) {
  absl::StatusOr<BasicCredentials> given = ParseBasicAuth(request);
  if (!given.ok()) return given.status();
  return ctx.accounts->CheckPassword(given->user, given->password);
}

std::string ClientAddress(const Request& request) {
  std::string address(request.headers.Get("X-Forwarded-For"));
  if (address.empty()) address = request.remote;
  if (address.starts_with('[')) {  // "[::1]:8000"
    size_t close = address.find(']');
    return close == std::string::npos ? address : address.substr(1, close - 1);
  }
  size_t colon = address.find(':');
  if (colon != std::string::npos && address.find(':', colon + 1) == std::string::npos) {
    address.resize(colon);  // "192.0.2.1:5000"; a bare IPv6 address has several colons
  }
  return address;
}

accounts::ClientInfo ClientOf(const Request& request) {
  return {ClientAddress(request), std::string(request.headers.Get("User-Agent"))};
}

bool OverHttps(const ApiContext& ctx, const Request& request) {
  return ctx.secure_cookies || request.headers.Get("X-Forwarded-Proto") == "https";
}

std::string SessionCookie(const ApiContext& ctx, const Request& request, const std::string& token,
                          absl::Duration ttl) {
  return absl::StrCat(kSessionCookie, "=", token, "; Path=/; Max-Age=", absl::ToInt64Seconds(ttl),
                      "; HttpOnly; SameSite=Strict", OverHttps(ctx, request) ? "; Secure" : "");
}

std::string ClearedSessionCookie(const ApiContext& ctx, const Request& request) {
  return absl::StrCat(kSessionCookie, "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict",
                      OverHttps(ctx, request) ? "; Secure" : "");
}

}  // namespace penncloud::frontend
