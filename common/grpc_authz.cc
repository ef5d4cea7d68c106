#include "common/grpc_authz.h"

#include <grpcpp/security/auth_context.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/grpc_tls.h"
#include "common/log.h"
#include "common/metrics.h"

namespace penncloud::tls {
namespace {

metrics::CounterFamily& Refusals() {
  static metrics::CounterFamily& family = metrics::Default().Counter(
      "penncloud_grpc_refused_total",
      "internal RPCs refused: no valid PennCloud certificate, or a role or identity that may "
      "not make the call",
      {"rpc", "code"});
  return family;
}

// Who to name in logs: the identity if there is one, else the peer's host (its port
// changes with every connection, and a scanner would fill the log).
std::string CallerKey(const grpc::ServerContextBase& context, const Identity* identity) {
  if (identity != nullptr) return identity->Path();
  std::string peer = context.peer();
  if (auto colon = peer.rfind(':'); colon != std::string::npos) peer.resize(colon);
  return peer;
}

// At most one line a minute per caller, so a flood of refused calls cannot flood the log.
bool ShouldLog(const std::string& key) {
  static std::mutex mu;
  static std::map<std::string, std::chrono::steady_clock::time_point>* last_logged =
      new std::map<std::string, std::chrono::steady_clock::time_point>;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu);
  if (last_logged->size() > 10000) last_logged->clear();  // bounded under a scan
  auto [it, inserted] = last_logged->try_emplace(key, now);
  if (!inserted && now - it->second < std::chrono::minutes(1)) return false;
  it->second = now;
  return true;
}

grpc::Status Refuse(const grpc::ServerContextBase& context, absl::string_view rpc,
                    grpc::StatusCode code, const Identity* identity, std::string why) {
  Refusals()
      .With({std::string(rpc),
             code == grpc::StatusCode::UNAUTHENTICATED ? "unauthenticated" : "permission_denied"})
      .Inc();
  const std::string key = CallerKey(context, identity);
  if (ShouldLog(key)) {
    PC_LOG(kWarn, "grpc.refused")("rpc", rpc)("caller", key)("why", why);
  }
  return grpc::Status(code, std::move(why));
}

// The identity in the caller's verified certificate: its one spiffe://penncloud/ URI SAN.
absl::StatusOr<Identity> CallerIdentity(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("no verified client certificate");
  }
  std::vector<grpc::string_ref> uris = auth->FindPropertyValues("peer_uri");
  if (uris.size() != 1) {
    return absl::UnauthenticatedError(
        absl::StrCat("certificate has ", uris.size(), " URI SANs; want one PennCloud identity"));
  }
  return Identity::FromUri(absl::string_view(uris[0].data(), uris[0].size()));
}

}  // namespace

grpc::Status Authorize(const grpc::ServerContextBase& context, absl::string_view rpc,
                       std::initializer_list<Role> roles, std::optional<Identity>* caller) {
  if (caller != nullptr) caller->reset();
  if (Plaintext()) return grpc::Status::OK;
  absl::StatusOr<Identity> identity = CallerIdentity(context);
  if (!identity.ok()) {
    return Refuse(context, rpc, grpc::StatusCode::UNAUTHENTICATED, nullptr,
                  std::string(identity.status().message()));
  }
  for (Role role : roles) {
    if (identity->role == role) {
      if (caller != nullptr) *caller = *std::move(identity);
      return grpc::Status::OK;
    }
  }
  std::vector<absl::string_view> allowed;
  for (Role role : roles) allowed.push_back(RoleName(role));
  return Refuse(context, rpc, grpc::StatusCode::PERMISSION_DENIED, &*identity,
                absl::StrCat(rpc, " needs the role ", absl::StrJoin(allowed, " or "),
                             "; caller is ", identity->Path()));
}

grpc::Status Deny(const grpc::ServerContextBase& context, absl::string_view rpc,
                  absl::string_view why) {
  absl::StatusOr<Identity> identity = CallerIdentity(context);
  return Refuse(context, rpc, grpc::StatusCode::PERMISSION_DENIED,
                identity.ok() ? &*identity : nullptr, absl::StrCat(rpc, ": ", why));
}

std::optional<CertificateInfo> PeerCertificate(const grpc::AuthContext* auth) {
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return std::nullopt;
  std::vector<grpc::string_ref> pem = auth->FindPropertyValues("x509_pem_cert");
  if (pem.size() != 1) return std::nullopt;
  absl::StatusOr<CertificateInfo> info =
      ReadCertificate(absl::string_view(pem[0].data(), pem[0].size()));
  if (!info.ok()) return std::nullopt;
  return *std::move(info);
}

std::vector<std::string> CallerAddresses(const grpc::ServerContextBase& context) {
  std::vector<std::string> addresses;
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return addresses;
  for (const grpc::string_ref& ip : auth->FindPropertyValues("peer_ip")) {
    addresses.emplace_back(ip.data(), ip.size());
  }
  return addresses;
}

}  // namespace penncloud::tls
