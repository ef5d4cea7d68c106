#include "mail/main_common.h"

#include <csignal>
#include <cstdlib>

#include "frontend/heartbeat.h"
#include "kvs/client/connect.h"
#include "mail/line_server.h"
#include "mail/tls.h"

namespace penncloud::mail {

std::string StateDir(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("PENNCLOUD_STATE");
  return env != nullptr && *env != '\0' ? env : "state";
}

absl::StatusOr<Services> StartServices(const std::string& kvs_spec, const std::string& state_dir,
                                       const std::string& cert, const std::string& key,
                                       const std::string& hostname, bool tls) {
  Services s;
  auto kvs = kvs::Connect(kvs_spec);
  if (!kvs.ok()) return kvs.status();
  s.kvs = std::move(*kvs);
  s.accounts = std::make_unique<accounts::Accounts>(s.kvs.get());
  if (tls) {
    auto ctx = ServerTlsContext(cert.empty() ? state_dir + "/tls/mail.crt" : cert,
                                key.empty() ? state_dir + "/tls/mail.key" : key, hostname);
    if (!ctx.ok()) return ctx.status();
    s.tls = std::move(*ctx);
  }
  return s;
}

std::shared_ptr<void> StartHeartbeat(const std::string& coordinator, const std::string& kind,
                                     const std::string& address, const std::string& name,
                                     LineServer& server) {
  if (coordinator.empty()) return nullptr;
  frontend::HeartbeatOptions options;
  options.coordinator = coordinator;
  options.kind = kind;
  options.address = address;
  options.name = name;
  return std::make_shared<frontend::HeartbeatSender>(options, [&server] {
    coordinator::pb::Load load;
    load.set_connections(static_cast<int64_t>(server.connections()));
    return load;
  });
}

void BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

void WaitForStopSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
}

}  // namespace penncloud::mail
