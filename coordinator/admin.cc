#include "coordinator/admin.h"

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "coordinator/admin_queue.h"
#include "coordinator/admin_signup.h"
#include "coordinator/admin_users.h"
#include "coordinator/node_id.h"
#include "http/static_files.h"
#include "kvs/shard/cluster_status.h"

namespace penncloud::coordinator {
namespace {

using http::ErrorResponse;
using http::JsonResponse;
using http::Request;
using http::Response;
using Session = accounts::Session;

// Service errors as HTTP, with 501 for what is not built yet.
Response FromStatus(const absl::Status& status) {
  if (absl::IsUnimplemented(status)) return ErrorResponse(501, std::string(status.message()));
  return frontend::FromStatus(status);
}

Response FromJson(const absl::StatusOr<nlohmann::json>& result) {
  if (!result.ok()) return FromStatus(result.status());
  return JsonResponse(200, *result);
}

Response ConsolePage(const std::string& web_root, const Session& s) {
  Response res;
  res.headers.Set("Content-Type", "text/html; charset=utf-8");
  res.headers.Set("Cache-Control", "no-store");
  http::AddPageSecurityHeaders(res);
  std::ifstream in(web_root + "/admin.html", std::ios::binary);
  if (in) {
    std::stringstream page;
    page << in.rdbuf();
    res.body = page.str();
    return res;
  }
  // Until the console page is installed: a pointer to the API.
  res.body =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>PennCloud "
      "admin</title><link rel=\"stylesheet\" href=\"/assets/css/bootstrap.min.css\">"
      "</head><body class=\"container py-4\"><h1>PennCloud admin</h1><p>Signed in as " +
      s.username +
      ". The node table is at <a href=\"/api/admin/overview\">/api/admin/overview</a>.</p>"
      "</body></html>";
  return res;
}

nlohmann::json Overview(const NodeTable& table) {
  const int64_t now = absl::ToUnixMillis(absl::Now());
  ClusterView view = table.poller()->View();
  nlohmann::json nodes = nlohmann::json::array();
  for (const NodeRow& row : table.Rows(view, now)) nodes.push_back(ToJson(row, now));
  nlohmann::json groups = nlohmann::json::array();
  for (const GroupView& g : view.groups) {
    nlohmann::json members = nlohmann::json::array();
    for (uint64_t r : g.replicas) members.push_back(KvsNodeId(g.id, r));
    groups.push_back({{"id", g.id},
                      {"leader", g.leader ? nlohmann::json(KvsNodeId(g.id, *g.leader))
                                          : nlohmann::json(nullptr)},
                      {"members", members},
                      {"ops_per_second", g.ops_per_second}});
  }
  nlohmann::json rebalance = {{"active", false},  {"ranges_done", 0},       {"ranges_total", 0},
                              {"bytes_moved", 0}, {"bytes_total", nullptr}, {"eta_s", nullptr}};
  nlohmann::json map_version = nullptr;
  if (view.map) {
    const cluster::ClusterMap& map = view.map->proto();
    map_version = map.version();
    kvs::shard::RebalanceEstimate estimate =
        kvs::shard::EstimateRebalance(*view.map, absl::FromUnixMillis(now));
    rebalance["active"] = estimate.in_progress;
    rebalance["ranges_done"] = estimate.ranges_done;
    rebalance["ranges_total"] = estimate.ranges_total;
    rebalance["ranges_in_flight"] = estimate.ranges_in_flight;
    rebalance["bytes_moved"] = estimate.bytes_done;
    // Both are estimates from the ranges done so far: unknown until the first one is.
    if (estimate.bytes_total_estimate > 0) rebalance["bytes_total"] = estimate.bytes_total_estimate;
    if (estimate.time_left) rebalance["eta_s"] = absl::ToDoubleSeconds(*estimate.time_left);
  }
  return {{"now_ms", now},
          {"map_version", map_version},
          {"nodes", nodes},
          {"groups", groups},
          {"rebalance", rebalance}};
}

nlohmann::json SeriesJson(const std::map<std::string, std::vector<Sample>>& series, bool p99) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [id, samples] : series) {
    nlohmann::json points = nlohmann::json::array();
    for (const Sample& s : samples) {
      nlohmann::json point = {s.unix_ms, s.rate};
      if (p99) point.push_back(s.p99_ms ? nlohmann::json(*s.p99_ms) : nlohmann::json(nullptr));
      points.push_back(std::move(point));
    }
    out[id] = std::move(points);
  }
  return out;
}

// Stop or start the node named in the path.
Response ChangeNode(const AdminServices& services, const Request& req, bool stop) {
  const std::string& id = req.params.at("id");
  std::optional<NodeRow> row = services.nodes->Find(id, absl::ToUnixMillis(absl::Now()));
  if (!row) return ErrorResponse(404, absl::StrCat("no node ", id));
  if (row->tier == "coordinator") {
    return ErrorResponse(422, "the coordinator cannot be stopped or started from its console");
  }
  if (!row->record) {
    return ErrorResponse(
        422, absl::StrCat("no launch record for ", id, " (the coordinator needs --run_dir)"));
  }
  if (stop) {
    if (!row->running) return ErrorResponse(409, absl::StrCat(id, " is already stopped"));
    if (absl::Status s = services.launcher->Stop(*row->record); !s.ok()) return FromStatus(s);
    return JsonResponse(200, {{"id", id}, {"health", "stopped"}});
  }
  if (row->running) return ErrorResponse(409, absl::StrCat(id, " is already running"));
  absl::StatusOr<LaunchRecord> started = services.launcher->Start(*row->record);
  if (!started.ok()) return FromStatus(started.status());
  return JsonResponse(200, {{"id", id}, {"health", "down"}, {"pid", started->pid}});
}

// The row / column / cell named in the query, decoded.
absl::StatusOr<std::string> QueryKey(const Request& req, const char* name, bool required) {
  auto it = req.query.find(name);
  if (it == req.query.end()) {
    if (required) return absl::InvalidArgumentError(absl::StrCat(name, " is required"));
    return std::string();
  }
  return DecodeKey(it->second);
}

absl::Status CheckGroup(const std::string& group) {
  if (!IsGroupId(group)) {
    return absl::InvalidArgumentError(absl::StrCat("bad group id '", group, "'"));
  }
  return absl::OkStatus();
}

}  // namespace

http::Handler WithAdmin(const frontend::ApiContext& ctx, frontend::SessionHandler handler) {
  return [&ctx, handler = std::move(handler)](http::Request& req) {
    absl::StatusOr<accounts::Session> session = frontend::RequireSession(ctx, req);
    if (absl::IsUnavailable(session.status()) || absl::IsDeadlineExceeded(session.status())) {
      return frontend::FromStatus(session.status());
    }
    if (!session.ok()) return http::ErrorResponse(403, "admin login required");
    absl::StatusOr<bool> admin = ctx.accounts->IsAdmin(session->username);
    if (!admin.ok()) return frontend::FromStatus(admin.status());
    if (!*admin) return http::ErrorResponse(403, "admin login required");
    return handler(req, *session);
  };
}

void RegisterAdminRoutes(http::Router& router, const frontend::ApiContext& ctx,
                         const AdminServices& services) {
  // `s` is copied into each handler: the services outlive the router.
  const AdminServices s = services;
  auto add = [&](const char* method, const char* pattern, frontend::SessionHandler handler) {
    router.Add(method, pattern, WithAdmin(ctx, std::move(handler)));
  };

  add("GET", "/admin",
      [s](Request&, const Session& session) { return ConsolePage(s.web_root, session); });
  add("GET", "/api/admin/overview",
      [s](Request&, const Session&) { return JsonResponse(200, Overview(*s.nodes)); });
  add("GET", "/api/admin/nodes", [s](Request&, const Session&) {
    nlohmann::json overview = Overview(*s.nodes);
    return JsonResponse(200, {{"nodes", overview["nodes"]}});
  });
  add("POST", "/api/admin/nodes/{id}/stop",
      [s](Request& req, const Session&) { return ChangeNode(s, req, /*stop=*/true); });
  add("POST", "/api/admin/nodes/{id}/start",
      [s](Request& req, const Session&) { return ChangeNode(s, req, /*stop=*/false); });

  add("GET", "/api/admin/history", [s](Request& req, const Session&) {
    int seconds = 600;
    if (std::string text = req.Query("seconds"); !text.empty()) {
      if (!absl::SimpleAtoi(text, &seconds) || seconds < 1 || seconds > 600) {
        return ErrorResponse(400, "seconds must be 1..600");
      }
    }
    const int64_t now = absl::ToUnixMillis(absl::Now());
    return JsonResponse(200, {{"frontends", SeriesJson(s.history->Frontends(now, seconds), true)},
                              {"groups", SeriesJson(s.history->Groups(now, seconds), false)}});
  });

  add("POST", "/api/admin/groups/{group}/replicas", [s](Request& req, const Session&) {
    const std::string& group = req.params.at("group");
    if (absl::Status st = CheckGroup(group); !st.ok()) return FromStatus(st);
    absl::StatusOr<std::string> id = s.membership->AddReplica(group);
    if (!id.ok()) return FromStatus(id.status());
    return JsonResponse(202, {{"id", *id}});
  });
  add("DELETE", "/api/admin/groups/{group}/replicas/{id}", [s](Request& req, const Session&) {
    const std::string& group = req.params.at("group");
    if (absl::Status st = CheckGroup(group); !st.ok()) return FromStatus(st);
    absl::Status st = s.membership->RemoveReplica(group, req.params.at("id"));
    if (!st.ok()) return FromStatus(st);
    return JsonResponse(202, {{"id", req.params.at("id")}});
  });
  add("POST", "/api/admin/groups", [s](Request&, const Session&) {
    absl::StatusOr<std::string> group = s.membership->AddGroup();
    if (!group.ok()) return FromStatus(group.status());
    return JsonResponse(202, {{"group", *group}});
  });
  add("DELETE", "/api/admin/groups/{group}", [s](Request& req, const Session&) {
    const std::string& group = req.params.at("group");
    if (absl::Status st = CheckGroup(group); !st.ok()) return FromStatus(st);
    if (absl::Status st = s.membership->RemoveGroup(group); !st.ok()) return FromStatus(st);
    return JsonResponse(202, {{"group", group}});
  });

  add("GET", "/api/admin/data/{group}/rows", [s](Request& req, const Session&) {
    const std::string& group = req.params.at("group");
    if (absl::Status st = CheckGroup(group); !st.ok()) return FromStatus(st);
    absl::StatusOr<std::string> after = QueryKey(req, "after", false);
    if (!after.ok()) return FromStatus(after.status());
    absl::StatusOr<int> limit = ParseLimit(req.Query("limit"));
    if (!limit.ok()) return FromStatus(limit.status());
    return FromJson(s.data->Rows(group, *after, *limit));
  });
  add("GET", "/api/admin/data/{group}/columns", [s](Request& req, const Session&) {
    const std::string& group = req.params.at("group");
    if (absl::Status st = CheckGroup(group); !st.ok()) return FromStatus(st);
    absl::StatusOr<std::string> row = QueryKey(req, "row", true);
    if (!row.ok()) return FromStatus(row.status());
    if (row->empty()) return ErrorResponse(400, "row must not be empty");
    absl::StatusOr<std::string> after = QueryKey(req, "after", false);
    if (!after.ok()) return FromStatus(after.status());
    absl::StatusOr<int> limit = ParseLimit(req.Query("limit"));
    if (!limit.ok()) return FromStatus(limit.status());
    return FromJson(s.data->Columns(group, *row, *after, *limit));
  });
  add("GET", "/api/admin/data/{group}/cell", [s](Request& req, const Session&) {
    const std::string& group = req.params.at("group");
    if (absl::Status st = CheckGroup(group); !st.ok()) return FromStatus(st);
    absl::StatusOr<std::string> row = QueryKey(req, "row", true);
    if (!row.ok()) return FromStatus(row.status());
    absl::StatusOr<std::string> column = QueryKey(req, "column", true);
    if (!column.ok()) return FromStatus(column.status());
    if (row->empty() || column->empty()) return ErrorResponse(400, "row and column are required");
    return FromJson(s.data->Cell(group, *row, *column));
  });

  RegisterSignupAdminRoutes(router, ctx);
  RegisterUserAdminRoutes(router, ctx);
  RegisterQueueAdminRoutes(router, ctx);

  add("*", "/admin/*", [](Request&, const Session&) { return ErrorResponse(404, "not found"); });
  add("*", "/api/admin/*",
      [](Request&, const Session&) { return ErrorResponse(404, "not found"); });
}

}  // namespace penncloud::coordinator
