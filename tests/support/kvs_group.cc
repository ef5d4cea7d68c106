#include "tests/support/kvs_group.h"

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kvs/client/replica_group_client.h"
#include "tests/support/launch_record.h"
#include "tests/support/test_pki.h"

namespace penncloud::testing {

absl::StatusOr<std::unique_ptr<KvsGroup>> KvsGroup::Start(KvsGroupOptions options) {
  std::unique_ptr<KvsGroup> group(new KvsGroup());
  group->options_ = options;
  const int n = options.replicas;
  if (!options.ports.empty() && static_cast<int>(options.ports.size()) != n) {
    return absl::InvalidArgumentError("one port per replica");
  }
  group->dir_ = options.data_dir.empty() ? TempDir("kvs-group") : options.data_dir;
  if (std::error_code error; !std::filesystem::create_directories(group->dir_, error) && error) {
    return absl::InternalError(absl::StrCat(group->dir_, ": ", error.message()));
  }
  std::vector<std::string> addresses;
  for (int i = 0; i < n; ++i) {
    group->ports_.push_back(options.ports.empty() ? FreePort() : options.ports[i]);
    addresses.push_back(absl::StrCat("127.0.0.1:", group->ports_.back()));
  }
  group->spec_ = absl::StrJoin(addresses, ",");
  if (options.proxied_peers) {
    group->proxies_.resize(n);
    for (int from = 0; from < n; ++from) {
      group->proxies_[from].resize(n);
      for (int to = 0; to < n; ++to) {
        if (from != to) group->proxies_[from][to] = std::make_unique<FaultProxy>(group->ports_[to]);
      }
    }
  }
  group->initial_ = n;
  group->replicas_.resize(n);
  for (int i = 0; i < n; ++i) {
    if (absl::Status s = group->Launch(i); !s.ok()) return s;
  }
  for (int i = 0; i < n; ++i) {
    if (!WaitForPort(group->ports_[i], options.start_timeout)) {
      return absl::UnavailableError(absl::StrCat("kvs_server ", i + 1, " did not listen; see ",
                                                 group->dir_, "/replica-", i + 1, ".log"));
    }
  }
  if (options.wait_for_leader) {
    absl::StatusOr<int> leader = group->Leader(options.start_timeout);
    if (!leader.ok()) return leader.status();
  }
  return group;
}

KvsGroup::~KvsGroup() {
  for (Process& p : replicas_) {
    if (p.running()) {
      p.Continue();
      p.Kill();
      p.Wait(std::chrono::seconds(5));
    }
  }
  proxies_.clear();
  if (options_.data_dir.empty()) RemoveTestDir(dir_);
}

std::string KvsGroup::address(int i) const { return absl::StrCat("127.0.0.1:", ports_[i]); }

absl::Status KvsGroup::Launch(int i, const std::vector<std::string>& more_flags) {
  const int n = static_cast<int>(ports_.size());
  std::vector<std::string> peers;
  std::vector<std::string> clients;
  for (int j = 0; j < n; ++j) {
    const int port = (options_.proxied_peers && j != i) ? proxies_[i][j]->port() : ports_[j];
    peers.push_back(absl::StrCat(j + 1, "=127.0.0.1:", port));
    clients.push_back(absl::StrCat(j + 1, "=127.0.0.1:", ports_[j]));
  }
  std::vector<std::string> args = {
      absl::StrCat("--id=", i + 1),
      absl::StrCat("--peers=", absl::StrJoin(peers, ",")),
      absl::StrCat("--client_addrs=", absl::StrJoin(clients, ",")),
      absl::StrCat("--listen=127.0.0.1:", ports_[i]),
      absl::StrCat("--data_dir=", dir_, "/replica-", i + 1),
  };
  if (i >= initial_) args.push_back("--join");
  if (options_.serve_metrics) {
    while (static_cast<int>(metrics_ports_.size()) <= i) metrics_ports_.push_back(FreePort());
    args.push_back(absl::StrCat("--metrics_listen=127.0.0.1:", metrics_ports_[i]));
  }
  for (const std::string& f : options_.extra_flags) args.push_back(f);
  for (const std::string& f : more_flags) args.push_back(f);
  args = WithTestTls(BinaryPath("kvs_server"), std::move(args));  // into the launch record too
  absl::StatusOr<Process> p = Process::Start(BinaryPath("kvs_server"), args,
                                             absl::StrCat(dir_, "/replica-", i + 1, ".log"));
  if (!p.ok()) return p.status();
  replicas_[i] = std::move(*p);
  if (!options_.run_dir.empty()) {
    return WriteLaunchRecord(options_.run_dir,
                             {.name = absl::StrCat(options_.record_prefix, i + 1),
                              .tier = "kvs",
                              .address = address(i),
                              .binary = BinaryPath("kvs_server"),
                              .args = args,
                              .log = absl::StrCat(dir_, "/replica-", i + 1, ".log"),
                              .pid = replicas_[i].pid()});
  }
  return absl::OkStatus();
}

void KvsGroup::Kill(int i) {
  if (!replicas_[i].running()) return;
  replicas_[i].Continue();  // a stopped process dies on SIGKILL too, but reap it promptly
  replicas_[i].Kill();
  replicas_[i].Wait(std::chrono::seconds(5));
}

absl::Status KvsGroup::Restart(int i, const std::vector<std::string>& more_flags) {
  Kill(i);
  if (absl::Status s = Launch(i, more_flags); !s.ok()) return s;
  if (!WaitForPort(ports_[i], options_.start_timeout)) {
    return absl::UnavailableError(absl::StrCat("kvs_server ", i + 1, " did not come back; see ",
                                               dir_, "/replica-", i + 1, ".log"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> KvsGroup::StartJoining(int port) {
  if (options_.proxied_peers) {
    return absl::UnimplementedError("StartJoining does not support proxied_peers");
  }
  const int i = size();
  ports_.push_back(port != 0 ? port : FreePort());
  replicas_.emplace_back();
  absl::StrAppend(&spec_, ",", address(i));
  if (absl::Status s = Launch(i); !s.ok()) return s;
  if (!WaitForPort(ports_[i], options_.start_timeout)) {
    return absl::UnavailableError(absl::StrCat(
        "joining kvs_server ", i + 1, " did not listen; see ", dir_, "/replica-", i + 1, ".log"));
  }
  return i;
}

void KvsGroup::Stop(int i) { replicas_[i].Stop(); }
void KvsGroup::Continue(int i) { replicas_[i].Continue(); }
bool KvsGroup::running(int i) const { return replicas_[i].running(); }
int KvsGroup::Wait(int i, std::chrono::milliseconds timeout) { return replicas_[i].Wait(timeout); }

absl::StatusOr<int> KvsGroup::Leader(std::chrono::milliseconds timeout) {
  std::vector<std::string> addresses;
  for (int i = 0; i < size(); ++i) addresses.push_back(address(i));
  kvs::ReplicaGroupOptions client_options;
  client_options.attempt_timeout = std::chrono::milliseconds(300);
  kvs::ReplicaGroupClient client(addresses, client_options);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    // A replica counts as leader when it says so itself and a majority (it included)
    // names it: followers may still name a leader that has just died.
    std::vector<int> votes(size() + 1, 0);
    std::vector<bool> claims(size() + 1, false);
    for (const auto& [address, status] : client.StatusAll()) {
      if (!status.ok() || status->leader_id() == 0) continue;
      if (status->leader_id() > static_cast<uint64_t>(size())) continue;
      ++votes[status->leader_id()];
      if (status->role() == "leader" && status->id() == status->leader_id()) {
        claims[status->id()] = true;
      }
    }
    for (int id = 1; id <= size(); ++id) {
      if (claims[id] && votes[id] > size() / 2) return id - 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::UnavailableError(absl::StrCat("no leader agreed on by a majority within ",
                                             timeout.count(), " ms; logs in ", dir_));
}

void KvsGroup::Isolate(int i) {
  for (int j = 0; j < size(); ++j) {
    if (j == i) continue;
    proxies_[i][j]->SetBlocked(true);
    proxies_[j][i]->SetBlocked(true);
  }
}

void KvsGroup::Heal() {
  for (auto& row : proxies_) {
    for (auto& proxy : row) {
      if (proxy) proxy->SetBlocked(false);
    }
  }
}

}  // namespace penncloud::testing
