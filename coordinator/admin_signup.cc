#include "coordinator/admin_signup.h"

#include "common/log.h"
#include "coordinator/admin.h"
#include "frontend/signup_policy.h"

namespace penncloud::coordinator {
namespace {

using frontend::FromStatus;
using frontend::SignupPolicy;
using frontend::SignupRules;
using http::ErrorResponse;
using http::JsonResponse;
using http::Request;
using http::Response;
using Session = accounts::Session;

Response Settings(SignupRules& rules) {
  absl::StatusOr<SignupPolicy> policy = rules.Policy();
  if (!policy.ok()) return FromStatus(policy.status());
  absl::StatusOr<std::vector<frontend::Invite>> invites = rules.ListInvites();
  if (!invites.ok()) return FromStatus(invites.status());
  nlohmann::json list = nlohmann::json::array();
  for (const frontend::Invite& i : *invites) {
    list.push_back({{"id", i.id}, {"creator", i.creator}, {"expires", i.expires_unix_s}});
  }
  return JsonResponse(200, {{"policy", frontend::SignupPolicyName(*policy)}, {"invites", list}});
}

}  // namespace

void RegisterSignupAdminRoutes(http::Router& router, const frontend::ApiContext& ctx) {
  auto add = [&](const char* method, const char* pattern, frontend::SessionHandler handler) {
    router.Add(method, pattern, WithAdmin(ctx, std::move(handler)));
  };
  kvs::Client* store = ctx.store;
  add("GET", "/api/admin/signup", [store](Request&, const Session&) {
    SignupRules rules(store);
    return Settings(rules);
  });
  add("PUT", "/api/admin/signup", [store](Request& req, const Session& admin) {
    absl::StatusOr<nlohmann::json> body = frontend::ParseJsonBody(req);
    if (!body.ok()) return FromStatus(body.status());
    absl::StatusOr<std::string> name = frontend::JsonString(*body, "policy");
    if (!name.ok()) return FromStatus(name.status());
    absl::StatusOr<SignupPolicy> policy = frontend::ParseSignupPolicy(*name);
    if (!policy.ok()) return FromStatus(policy.status());
    SignupRules rules(store);
    if (absl::Status s = rules.SetPolicy(*policy); !s.ok()) return FromStatus(s);
    PC_LOG(kInfo, "admin.signup_policy")("policy", *name)("by", admin.username);
    return Settings(rules);
  });
  add("POST", "/api/admin/invites", [store](Request& req, const Session& admin) {
    int days = 7;
    if (!req.body.empty()) {
      absl::StatusOr<nlohmann::json> body = frontend::ParseJsonBody(req);
      if (!body.ok()) return FromStatus(body.status());
      if (auto it = body->find("days"); it != body->end()) {
        if (!it->is_number_integer() || *it < 1 || *it > 30) {
          return ErrorResponse(400, "days must be a whole number from 1 to 30");
        }
        days = it->get<int>();
      }
    }
    absl::StatusOr<frontend::Invite> invite =
        SignupRules(store).CreateInvite(admin.username, absl::Hours(24 * days));
    if (!invite.ok()) return FromStatus(invite.status());
    PC_LOG(kInfo, "admin.invite_created")("id", invite->id.substr(0, 12))("by", admin.username);
    return JsonResponse(201, {{"id", invite->id},
                              {"token", invite->token},
                              {"url", "/signup?invite=" + invite->token},
                              {"expires", invite->expires_unix_s}});
  });
  add("DELETE", "/api/admin/invites/{id}", [store](Request& req, const Session&) {
    const std::string& id = req.params.at("id");
    if (id.size() != 64) return ErrorResponse(400, "bad invite id");
    if (absl::Status s = SignupRules(store).RevokeInvite(id); !s.ok()) return FromStatus(s);
    return JsonResponse(200, nlohmann::json::object());
  });
}

}  // namespace penncloud::coordinator
