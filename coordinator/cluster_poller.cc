#include "coordinator/cluster_poller.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/grpc_authz.h"
#include "common/grpc_tls.h"
#include "common/log.h"
#include "coordinator/node_id.h"
#include "grpcpp/grpcpp.h"
#include "kvs/shard/config_store.h"

namespace penncloud::coordinator {
namespace {

std::vector<std::string> SplitAddresses(const std::string& text) {
  return absl::StrSplit(text, ',', absl::SkipWhitespace());
}

ReplicaView Target(std::string group, uint64_t replica, std::string address, bool learner) {
  ReplicaView view;
  view.group = std::move(group);
  view.replica = replica;
  view.address = std::move(address);
  view.learner = learner;
  return view;
}

}  // namespace

KvsLayout KvsLayout::FromSpec(const std::string& spec) {
  KvsLayout layout;
  if (spec.empty() || spec == "memory") return layout;
  if (spec.starts_with("config=")) {
    layout.config = SplitAddresses(spec.substr(7));
  } else {
    layout.single_group = SplitAddresses(spec);
  }
  return layout;
}

ClusterPoller::ClusterPoller(KvsLayout layout, Registry* registry, History* history,
                             ClusterPollerOptions options)
    : layout_(std::move(layout)), registry_(registry), history_(history), options_(options) {
  if (!layout_.config.empty()) {
    kvs::ReplicaGroupOptions quick;
    quick.deadline = std::chrono::milliseconds(1000);
    quick.attempt_timeout = options_.status_timeout;
    config_client_ = std::make_unique<kvs::ReplicaGroupClient>(layout_.config, quick);
  }
}

ClusterPoller::~ClusterPoller() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ClusterPoller::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void ClusterPoller::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    auto started = std::chrono::steady_clock::now();
    PollOnce();
    lock.lock();
    cv_.wait_until(lock, started + options_.interval, [this] { return stop_; });
  }
}

ClusterView ClusterPoller::View() const {
  std::lock_guard lock(mu_);
  return view_;
}

std::vector<std::string> ClusterPoller::GroupAddresses(const std::string& group) const {
  if (group == kConfigGroup) return layout_.config;
  if (!layout_.single_group.empty()) {
    return group == "1" ? layout_.single_group : std::vector<std::string>{};
  }
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  if (!view_.map) return out;
  for (const cluster::Group& g : view_.map->proto().groups()) {
    if (absl::StrCat(g.id()) != group) continue;
    for (const cluster::Replica& r : g.replicas()) out.push_back(r.address());
  }
  return out;
}

kvs::pb::KvsService::Stub* ClusterPoller::Stub(const std::string& address) {
  auto& stub = stubs_[address];
  if (!stub) {
    grpc::ChannelArguments args;
    // Notice a restarted replica within a poll or two instead of after a long backoff.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    // gRPC also takes this as the least time a connection attempt (TCP and TLS handshake)
    // gets: a few ms never complete on a loaded machine (the multi-host test saw it).
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 5000);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
    stub = kvs::pb::KvsService::NewStub(
        grpc::CreateCustomChannel(address, tls::ChannelCredentials(), args));
  }
  return stub.get();
}

std::vector<ClusterPoller::Answer> ClusterPoller::StatusOf(
    const std::vector<std::string>& addresses) {
  struct Call {
    grpc::ClientContext context;
    kvs::pb::StatusResponse response;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<kvs::pb::StatusResponse>> rpc;
  };
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<Call>> calls;
  const auto deadline = std::chrono::system_clock::now() + options_.status_timeout;
  for (size_t i = 0; i < addresses.size(); ++i) {
    auto call = std::make_unique<Call>();
    call->context.set_deadline(deadline);
    call->rpc = Stub(addresses[i])->AsyncStatus(&call->context, kvs::pb::StatusRequest(), &cq);
    call->rpc->Finish(&call->response, &call->status, reinterpret_cast<void*>(i));
    calls.push_back(std::move(call));
  }
  std::vector<Answer> out(addresses.size());
  for (size_t done = 0; done < calls.size(); ++done) {
    void* tag = nullptr;
    bool ok = false;
    if (!cq.Next(&tag, &ok)) break;
    size_t i = reinterpret_cast<size_t>(tag);
    if (ok && calls[i]->status.ok()) {
      out[i].status = std::move(calls[i]->response);
      out[i].certificate = tls::PeerCertificate(calls[i]->context.auth_context().get());
    }
  }
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
  return out;
}

void ClusterPoller::PollOnce() {
  const int64_t now = absl::ToUnixMillis(absl::Now());
  ClusterView previous = View();
  ClusterView next;
  next.polled_unix_ms = now;
  next.map = previous.map;
  if (config_client_) {
    kvs::shard::ConfigStore store(*config_client_);
    absl::StatusOr<kvs::shard::ClusterMap> map = store.Read();
    if (map.ok()) next.map = std::move(*map);
  }

  // Who to ask: the config group (ids by position until a replica names itself), then the
  // data groups of the map (or the one unsharded group).
  std::vector<ReplicaView> targets;
  for (size_t i = 0; i < layout_.config.size(); ++i) {
    targets.push_back(Target(kConfigGroup, i + 1, layout_.config[i], false));
  }
  for (size_t i = 0; i < layout_.single_group.size(); ++i) {
    targets.push_back(Target("1", i + 1, layout_.single_group[i], false));
  }
  if (next.map && layout_.single_group.empty()) {
    std::vector<const cluster::Group*> groups;
    for (const cluster::Group& g : next.map->proto().groups()) groups.push_back(&g);
    std::sort(groups.begin(), groups.end(), [](auto* a, auto* b) { return a->id() < b->id(); });
    for (const cluster::Group* g : groups) {
      for (const cluster::Replica& r : g->replicas()) {
        targets.push_back(Target(absl::StrCat(g->id()), r.id(), r.address(), r.learner()));
      }
      // Replicas the group's log already has but the map does not list yet (a replica
      // being added), as the leader reported them in the last poll.
      auto known = members_.find(g->id());
      if (known == members_.end()) continue;
      for (const kvs::pb::Member& m : known->second) {
        bool listed = false;
        for (const cluster::Replica& r : g->replicas()) listed = listed || r.id() == m.id();
        if (!listed && !m.address().empty()) {
          targets.push_back(Target(absl::StrCat(g->id()), m.id(), m.address(), m.learner()));
        }
      }
    }
  }
  std::vector<std::string> addresses;
  for (const ReplicaView& t : targets) addresses.push_back(t.address);
  std::vector<Answer> statuses = StatusOf(addresses);

  std::map<std::string, const ReplicaView*> before;
  for (const ReplicaView& r : previous.replicas) before[r.group + "/" + r.address] = &r;
  std::map<std::string, Counter> applied;
  std::map<std::string, Counter> requests;
  std::map<uint64_t, std::vector<kvs::pb::Member>> members;
  for (size_t i = 0; i < targets.size(); ++i) {
    ReplicaView view = targets[i];
    auto old = before.find(view.group + "/" + view.address);
    const ReplicaView* prior = old == before.end() ? nullptr : old->second;
    if (statuses[i].status) {
      view.up = true;
      view.status = std::move(statuses[i].status);
      view.certificate = std::move(statuses[i].certificate);
      if (view.group == kConfigGroup && view.status->id() != 0) view.replica = view.status->id();
      view.up_since_unix_ms = view.status->started_unix_ms() > 0 ? view.status->started_unix_ms()
                              : prior && prior->up               ? prior->up_since_unix_ms
                                                                 : now;
      applied[view.address] = {now, view.status->applied_commands_total()};
      requests[view.address] = {now, view.status->client_requests_total()};
      if (auto was = requests_.find(view.address);
          was != requests_.end() && now > was->second.unix_ms &&
          view.status->client_requests_total() >= was->second.value) {
        view.requests_per_second =
            double(view.status->client_requests_total() - was->second.value) * 1000.0 /
            double(now - was->second.unix_ms);
      }
    } else if (prior) {
      view.status = prior->status;
      view.certificate = prior->certificate;
      if (view.group == kConfigGroup) view.replica = prior->replica;
    }
    next.replicas.push_back(std::move(view));
  }

  // Groups in the order their replicas appear; the leader is the replica that says it
  // leads; its applied slots per second are the group's operations per second.
  for (const ReplicaView& r : next.replicas) {
    if (next.groups.empty() || next.groups.back().id != r.group) {
      next.groups.emplace_back();
      next.groups.back().id = r.group;
    }
    GroupView& g = next.groups.back();
    g.replicas.push_back(r.replica);
    if (!r.up || r.status->role() != "leader") continue;
    g.leader = r.replica;
    uint64_t group_number = 0;
    if (absl::SimpleAtoi(r.group, &group_number)) {
      members[group_number].assign(r.status->members().begin(), r.status->members().end());
    }
    auto was = applied_.find(r.address);
    if (was != applied_.end() && now > was->second.unix_ms &&
        r.status->applied_commands_total() >= was->second.value) {
      g.ops_per_second = double(r.status->applied_commands_total() - was->second.value) * 1000.0 /
                         double(now - was->second.unix_ms);
    }
  }
  applied_ = std::move(applied);
  requests_ = std::move(requests);
  members_ = std::move(members);
  for (const GroupView& g : next.groups) {
    Sample sample;
    sample.unix_ms = now;
    sample.rate = g.ops_per_second;
    history_->AddGroup(g.id, sample);
  }
  SampleFrontends(now);

  std::lock_guard lock(mu_);
  view_ = std::move(next);
}

void ClusterPoller::SampleFrontends(int64_t now_ms) {
  for (const NodeState& n : registry_->Snapshot("frontend", Clock::now())) {
    Sample s;
    s.unix_ms = now_ms;
    s.rate = n.healthy ? n.load.requests_per_second : 0;
    if (n.healthy && n.load.p99_ms > 0) s.p99_ms = n.load.p99_ms;
    history_->AddFrontend(ServiceNodeId(n.kind, n.address), s);
  }
}

}  // namespace penncloud::coordinator
