#include "coordinator/admin_users.h"

#include "absl/strings/numbers.h"
#include "accounts/directory.h"
#include "common/log.h"
#include "coordinator/admin.h"
#include "coordinator/admin_quota.h"
#include "coordinator/admin_reset.h"

namespace penncloud::coordinator {
namespace {

using frontend::FromStatus;
using http::ErrorResponse;
using http::JsonResponse;
using http::Request;
using http::Response;
using Session = accounts::Session;

nlohmann::json ToJson(const accounts::UserSummary& u) {
  return {{"username", u.name},
          {"admin", u.admin},
          {"disabled", u.disabled},
          {"created", u.created_unix_s}};
}

// A listed user with their drive's usage and quota ({"used","quota"}).
absl::StatusOr<nlohmann::json> WithDrive(kvs::Client* store, const accounts::UserSummary& u) {
  absl::StatusOr<drive::Usage> usage = DriveUsage(store, u.name);
  if (!usage.ok()) return usage.status();
  nlohmann::json out = ToJson(u);
  out["drive"] = {{"used", usage->used_bytes}, {"quota", usage->quota_bytes}};
  return out;
}

// The one user `name`, as the list shows it.
Response OneUser(kvs::Client* store, const std::string& name) {
  absl::StatusOr<accounts::UserPage> page = accounts::ListUsers(store, name, "", 1);
  if (!page.ok()) return FromStatus(page.status());
  if (page->users.empty() || page->users[0].name != name) {
    return ErrorResponse(404, "no such user");
  }
  return JsonResponse(200, ToJson(page->users[0]));
}

// The flag `field` of a JSON body {"<field>": bool}.
absl::StatusOr<bool> BoolField(Request& req, const char* field) {
  absl::StatusOr<nlohmann::json> body = frontend::ParseJsonBody(req);
  if (!body.ok()) return body.status();
  auto it = body->find(field);
  if (it == body->end() || !it->is_boolean()) {
    return absl::InvalidArgumentError(std::string(field) + " must be true or false");
  }
  return it->get<bool>();
}

// The {name} of the route, normalized; the admin's own account refused for a change
// that would lock them out.
absl::StatusOr<std::string> Target(Request& req, const Session& admin, bool locks_out) {
  absl::StatusOr<std::string> name = accounts::NormalizeUsername(req.params.at("name"));
  if (!name.ok()) return absl::NotFoundError("no such user");
  if (locks_out && *name == admin.username) {
    return absl::FailedPreconditionError("you cannot do this to your own account");
  }
  return name;
}

Response Conflict(const absl::Status& s) {
  if (absl::IsFailedPrecondition(s)) return ErrorResponse(409, std::string(s.message()));
  return FromStatus(s);
}

}  // namespace

void RegisterUserAdminRoutes(http::Router& router, const frontend::ApiContext& ctx) {
  auto add = [&](const char* method, const char* pattern, frontend::SessionHandler handler) {
    router.Add(method, pattern, WithAdmin(ctx, std::move(handler)));
  };
  kvs::Client* store = ctx.store;
  accounts::Accounts* accounts = ctx.accounts;
  RegisterResetAdminRoutes(router, ctx);
  RegisterQuotaAdminRoutes(router, ctx);
  add("GET", "/api/admin/users", [store](Request& req, const Session&) {
    int limit = 50;
    if (std::string given = req.Query("limit", ""); !given.empty()) {
      if (!absl::SimpleAtoi(given, &limit)) return ErrorResponse(400, "bad limit");
    }
    absl::StatusOr<accounts::UserPage> page =
        accounts::ListUsers(store, req.Query("q", ""), req.Query("after", ""), limit);
    if (!page.ok()) return FromStatus(page.status());
    nlohmann::json users = nlohmann::json::array();
    for (const accounts::UserSummary& u : page->users) {
      absl::StatusOr<nlohmann::json> user = WithDrive(store, u);
      if (!user.ok()) return FromStatus(user.status());
      users.push_back(*std::move(user));
    }
    return JsonResponse(
        200, {{"users", users},
              {"next", page->next.empty() ? nlohmann::json(nullptr) : nlohmann::json(page->next)}});
  });
  add("POST", "/api/admin/users", [store, accounts](Request& req, const Session& admin) {
    absl::StatusOr<nlohmann::json> body = frontend::ParseJsonBody(req);
    if (!body.ok()) return FromStatus(body.status());
    // A misspelt field ("admn") must not quietly make an account other than the one meant.
    for (const auto& [key, value] : body->items()) {
      if (key != "username" && key != "password" && key != "admin") {
        return ErrorResponse(400, "unknown field: " + key);
      }
    }
    absl::StatusOr<std::string> name = frontend::JsonString(*body, "username");
    absl::StatusOr<std::string> password = frontend::JsonString(*body, "password");
    if (!name.ok()) return FromStatus(name.status());
    if (!password.ok()) return FromStatus(password.status());
    auto make_admin = body->find("admin");
    if (make_admin != body->end() && !make_admin->is_boolean()) {
      return ErrorResponse(400, "admin must be true or false");
    }
    absl::StatusOr<std::string> created =
        accounts->SignUp(*name, *password, make_admin != body->end() && make_admin->get<bool>());
    if (absl::IsAlreadyExists(created.status())) return ErrorResponse(409, "username is taken");
    if (!created.ok()) return FromStatus(created.status());
    PC_LOG(kInfo, "admin.user_created")("user", *created)("by", admin.username);
    Response res = OneUser(store, *created);
    if (res.status == 200) res.status = 201;
    return res;
  });
  add("POST", "/api/admin/users/{name}/disabled",
      [store, accounts](Request& req, const Session& admin) {
        absl::StatusOr<bool> disabled = BoolField(req, "disabled");
        if (!disabled.ok()) return FromStatus(disabled.status());
        absl::StatusOr<std::string> name = Target(req, admin, *disabled);
        if (!name.ok()) return Conflict(name.status());
        if (absl::Status s = accounts->SetDisabled(*name, *disabled); !s.ok()) {
          return FromStatus(s);
        }
        PC_LOG(kInfo, "admin.user_disabled")
        ("user", *name)("disabled", *disabled)("by", admin.username);
        return OneUser(store, *name);
      });
  add("POST", "/api/admin/users/{name}/admin",
      [store, accounts](Request& req, const Session& admin) {
        absl::StatusOr<bool> make_admin = BoolField(req, "admin");
        if (!make_admin.ok()) return FromStatus(make_admin.status());
        absl::StatusOr<std::string> name = Target(req, admin, !*make_admin);
        if (!name.ok()) return Conflict(name.status());
        absl::StatusOr<bool> exists = accounts->Exists(*name);
        if (!exists.ok()) return FromStatus(exists.status());
        if (!*exists) return ErrorResponse(404, "no such user");
        if (absl::Status s = accounts->SetAdmin(*name, *make_admin); !s.ok()) {
          return FromStatus(s);
        }
        PC_LOG(kInfo, "admin.user_admin")
        ("user", *name)("admin", *make_admin)("by", admin.username);
        return OneUser(store, *name);
      });
}

}  // namespace penncloud::coordinator
