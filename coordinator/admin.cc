#include "coordinator/admin.h"

#include "frontend/static_files.h"

namespace penncloud::coordinator {

frontend::Handler WithAdmin(const frontend::ApiContext& ctx, frontend::SessionHandler handler) {
  return [&ctx, handler = std::move(handler)](frontend::Request& req) {
    absl::StatusOr<accounts::Session> session = frontend::RequireSession(ctx, req);
    if (absl::IsUnavailable(session.status()) || absl::IsDeadlineExceeded(session.status())) {
      return frontend::FromStatus(session.status());
    }
    if (!session.ok()) return frontend::ErrorResponse(403, "admin login required");
    absl::StatusOr<bool> admin = ctx.accounts->IsAdmin(session->username);
    if (!admin.ok()) return frontend::FromStatus(admin.status());
    if (!*admin) return frontend::ErrorResponse(403, "admin login required");
    return handler(req, *session);
  };
}

void RegisterAdminRoutes(frontend::Router& router, const frontend::ApiContext& ctx,
                         Registry* registry) {
  router.Add(
      "GET", "/admin", WithAdmin(ctx, [](frontend::Request&, const accounts::Session& s) {
        frontend::Response res;
        res.headers.Set("Content-Type", "text/html; charset=utf-8");
        res.headers.Set("Cache-Control", "no-store");
        frontend::AddPageSecurityHeaders(res);
        res.body =
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>PennCloud "
            "admin</title><link rel=\"stylesheet\" href=\"/assets/css/bootstrap.min.css\">"
            "</head><body class=\"container py-4\"><h1>PennCloud admin</h1><p>Signed in as " +
            s.username +
            ". The node table is at <a href=\"/api/admin/nodes\">/api/admin/nodes</a>.</p>"
            "</body></html>";
        return res;
      }));
  router.Add("GET", "/api/admin/nodes",
             WithAdmin(ctx, [registry](frontend::Request&, const accounts::Session&) {
               nlohmann::json nodes = nlohmann::json::array();
               for (const NodeState& n : registry->Snapshot("", Clock::now())) {
                 nodes.push_back({{"kind", n.kind},
                                  {"address", n.address},
                                  {"name", n.name},
                                  {"healthy", n.healthy},
                                  {"in_flight", n.load.in_flight},
                                  {"requests_per_second", n.load.requests_per_second},
                                  {"connections", n.load.connections},
                                  {"last_heartbeat_unix_ms", n.last_beat_unix_ms}});
               }
               return frontend::JsonResponse(200, {{"nodes", nodes}});
             }));
  router.Add("*", "/admin/*", WithAdmin(ctx, [](frontend::Request&, const accounts::Session&) {
               return frontend::ErrorResponse(404, "not found");
             }));
  router.Add("*", "/api/admin/*", WithAdmin(ctx, [](frontend::Request&, const accounts::Session&) {
               return frontend::ErrorResponse(404, "not found");
             }));
}

}  // namespace penncloud::coordinator
