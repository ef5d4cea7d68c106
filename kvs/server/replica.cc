#include "kvs/server/replica.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/grpc_tls.h"
#include "common/log.h"
#include "kvs/client/client.h"
#include "kvs/server/fatal.h"
#include "kvs/server/paxos_traffic.h"
#include "kvs/server/queue_metrics.h"
#include "kvs/shard/hash_ring.h"
#include "kvs/storage/disk_files.h"

namespace penncloud::kvs::server {
namespace {

using Clock = std::chrono::steady_clock;

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Start-up.

Replica::Replica(const ReplicaOptions& options)
    : options_(options),
      compaction_(CompactionLimits{.interval_slots = options.snapshot_interval,
                                   .keep_slots = options.log_keep_slots,
                                   .log_bytes = options.snapshot_log_bytes}),
      disk_space_(options.data_dir, options.disk_reserve_bytes),
      watches_(options.max_watches),
      started_unix_ms_(std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count()) {}

absl::StatusOr<std::unique_ptr<Replica>> Replica::Start(const ReplicaOptions& options) {
  std::unique_ptr<Replica> replica(new Replica(options));
  if (absl::Status s = replica->Init(); !s.ok()) return s;
  return replica;
}

absl::Status Replica::Init() {
  if (!options_.peers.contains(options_.id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--id=", options_.id, " is not one of the members in --peers"));
  }
  auto store = storage::ReplicaStore::Open(options_.data_dir + "/store", shard::RingPosition);
  if (!store.ok()) return store.status();
  store_ = std::move(*store);
  snapshots_ = std::make_unique<SnapshotExecutor>(*store_);
  // Downloads a crash left behind (an install in progress was finished by Open); a failure
  // to remove them is only wasted space.
  (void)storage::RemoveTree(store_->SnapshotInbox());

  paxos::PersistentState state;
  if (auto hs = store_->HardState()) {
    if (!state.hard_state.ParseFromString(*hs)) {
      return absl::DataLossError("unreadable hard state in the store");
    }
  }
  if (auto meta = store_->Meta(kSnapshotMeta)) {
    if (!state.snapshot.ParseFromString(*meta)) {
      return absl::DataLossError("unreadable snapshot metadata in the store");
    }
  } else if (!options_.join) {
    // A new group: every replica derives the same initial membership from --peers.
    paxos::Membership* m = state.snapshot.mutable_config()->mutable_current();
    for (const auto& [id, address] : options_.peers) m->add_voters(id);
    m->set_window(options_.window);
  }
  compaction_.Compacted(state.snapshot.slot());
  state.applied = store_->AppliedSlot();
  uint64_t replayed_bytes = 0;
  absl::Status scan = store_->ForEachLogEntry([&](uint64_t slot, const std::string& bytes) {
    if (slot <= state.snapshot.slot()) return;
    paxos::Entry entry;
    if (!entry.ParseFromString(bytes)) return;
    replayed_bytes += bytes.size();
    // Entries the state machine holds already count toward the next compaction now;
    // the others when they are applied (ApplyEntry).
    if (slot <= state.applied) compaction_.Applied(slot, bytes.size());
    state.entries.push_back(std::move(entry));
  });
  if (!scan.ok()) return scan;
  if (state.applied < state.snapshot.slot()) {
    return absl::DataLossError(absl::StrCat("state machine applied slot ", state.applied,
                                            " is behind the snapshot slot ",
                                            state.snapshot.slot()));
  }
  LoadMap(store_->ShardMap());
  LoadPeers();
  hooks_.map_applied = [this](const std::string& bytes) { LoadMap(bytes); };
  hooks_.wrong_group = [this](const pb::Command& c) {
    std::string why;
    return Judge(c.row(), /*write=*/true, &why) == Verdict::kWrongGroup;
  };
  hooks_.unavailable = [this](const pb::Command& c) {
    std::string why;
    return Judge(c.row(), /*write=*/true, &why) == Verdict::kUnavailable ? why : std::string();
  };
  durable_promise_ = state.hard_state.promised();
  PC_LOG(kInfo, "kvs.recovered")
  ("id", options_.id)("entries", state.entries.size())("entry_bytes", replayed_bytes)(
      "snapshot_slot", state.snapshot.slot())("applied", state.applied)("commit",
                                                                        state.hard_state.commit());

  paxos::Config config;
  config.id = options_.id;
  config.election_ticks = options_.election_ticks;
  config.heartbeat_ticks = options_.heartbeat_ticks;
  config.lease_reads = options_.lease_reads;
  config.seed = options_.id * 0x9E3779B97F4A7C15ull ^
                static_cast<uint64_t>(Clock::now().time_since_epoch().count());
  node_ = std::make_unique<paxos::Node>(config, std::move(state));
  PublishStatus();

  grpc::ServerBuilder builder;
  queue_ = std::make_unique<LoopQueue>(builder.AddCompletionQueue());
  persist_ = std::make_unique<PersistThread>(*queue_);
  {
    std::map<uint64_t, std::string> peers;
    for (const auto& [id, member] : book_.All()) peers.emplace(id, member.peer_address());
    transport_ = std::make_unique<PeerTransport>(options_.id, peers, queue_->cq());
  }
  client_service_ = NewClientService(this, queue_.get());
  peer_service_ = NewPeerService(this, queue_.get());
  const std::string listen =
      options_.listen.empty() ? options_.peers.at(options_.id) : options_.listen;
  int port = 0;
  builder.AddListeningPort(listen, tls::ServerCredentials(), &port);
  // A second replica started on this port by mistake must fail, not share it: with
  // SO_REUSEPORT the kernel would split the group's traffic between the two.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.SetMaxSendMessageSize(64 << 20);
  builder.RegisterService(client_service_->service());
  builder.RegisterService(peer_service_->service());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", listen));
  }
  client_service_->Listen();
  peer_service_->Listen();
  loop_ = std::thread([this] { Loop(); });
  if (!options_.config.empty()) map_poller_ = std::thread([this] { PollMap(); });
  if (options_.scrub_interval_ms > 0) {
    scrubber_ = std::make_unique<Scrubber>(
        *store_, std::chrono::milliseconds(options_.scrub_first_ms),
        std::chrono::milliseconds(options_.scrub_interval_ms), options_.scrub_bytes_per_s);
  }
  PC_LOG(kInfo, "kvs.serving")("id", options_.id)("listen", listen)("group", options_.group);
  return absl::OkStatus();
}

Replica::~Replica() { Shutdown(); }

void Replica::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  if (queue_) queue_->Wake();
  poll_cv_.notify_all();
  if (map_poller_.joinable()) map_poller_.join();
  scrubber_.reset();
  if (loop_.joinable()) loop_.join();
  StopServing();
  {
    std::lock_guard<std::mutex> lock(shutdown_mu_);
    shut_down_ = true;
  }
  shutdown_cv_.notify_all();
}

void Replica::Wait() {
  std::unique_lock<std::mutex> lock(shutdown_mu_);
  shutdown_cv_.wait(lock, [&] { return shut_down_; });
}

void Replica::StopServing() {
  loop_stopped_ = true;  // the loop thread has been joined: the drainer below polls now
  if (!queue_) {
    transport_.reset();
    return;
  }
  std::atomic<bool> closing{false};
  std::thread drainer([&] {
    // Calls that arrive meanwhile are refused at once (Accept), answers go out, peer
    // batches in flight complete, so the server's shutdown and the transport's wait end.
    while (!closing.load(std::memory_order_acquire)) {
      queue_->Poll(LoopQueue::Clock::now() + std::chrono::milliseconds(20));
    }
    // Only this thread begins operations on the queue now, so none begins after this.
    queue_->Close();
    queue_->DrainClosed();
  });
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  if (snapshots_) snapshots_->Join();
  while (streams_running_.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  transport_.reset();
  closing.store(true, std::memory_order_release);
  drainer.join();
}

void Replica::Enqueue(const std::function<void(Inbox&)>& add) {
  Inbox refused;
  {
    std::lock_guard<std::mutex> lock(mu_);
    add(stop_ ? refused : inbox_);
  }
  Refuse(refused);
  queue_->Wake();
}

void Replica::Inbox::Take(Inbox& other) {
  auto append = [](auto& to, auto& from) {
    if (to.empty()) {
      std::swap(to, from);
      return;
    }
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
    from.clear();
  };
  append(messages, other.messages);
  append(proposals, other.proposals);
  append(reads, other.reads);
  append(snapshot_reports, other.snapshot_reports);
  append(snapshots, other.snapshots);
  append(changes, other.changes);
}

void Replica::Refuse(Inbox& in) {
  const grpc::Status stopping(grpc::StatusCode::UNAVAILABLE, "kvs: replica shutting down");
  for (Proposal& p : in.proposals) p.write.Finish(stopping);
  for (PendingRead& r : in.reads) r.Finish(stopping);
  for (PendingChange& c : in.changes) c.call->Finish(stopping);
  in = Inbox();
}

// ---------------------------------------------------------------------------------------
// The loop.

void Replica::Loop() {
  const auto tick = std::chrono::milliseconds(options_.tick_ms);
  auto next_tick = Clock::now() + tick;
  auto next_sweep = Clock::now() + std::chrono::milliseconds(100);
  while (true) {
    // Runs the calls that arrived (into arrived_) and the answers and peer batches that
    // completed; waits for the first until the next tick if there is nothing to do.
    queue_->Poll(arrived_.empty() ? next_tick : Clock::now());
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
      if (!inbox_.empty()) arrived_.Take(inbox_);
    }
    ProposalQueue().waiting.Set(static_cast<double>(arrived_.proposals.size()));
    // Ticks first: after a pause (SIGSTOP) the core must learn how much time passed (and
    // that its lease ran out) before it is asked to serve any read that waited meanwhile.
    auto now = Clock::now();
    for (int n = 0; now >= next_tick; ++n) {
      if (n == 1000) {
        next_tick = now + tick;
        break;
      }
      node_->Tick();
      next_tick += tick;
    }
    Drain(arrived_);
    while (node_->HasReady()) HandleReady();

    const bool leader = node_->is_leader();
    if (was_leader_ && !leader) {
      apply_queue_.FailAll(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                        "kvs: leadership lost before the write was chosen; retry"));
      FinishChange(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                "kvs: leadership lost during the membership change; retry"));
      watches_.FailAll(absl::UnavailableError("kvs: leadership lost; watch at the new leader"));
    }
    was_leader_ = leader;
    ProposalQueue().proposed.Set(static_cast<double>(apply_queue_.size()));
    if (Clock::now() >= next_sweep) {
      apply_queue_.Expire(Clock::now());
      watches_.Expire(Clock::now());
      if (change_ && change_->deadline <= Clock::now()) {
        FinishChange(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                  "kvs: membership change not chosen in time; retry"));
      }
      MaybeCompact();
      MaybeExpireSessions();
      next_sweep = Clock::now() + std::chrono::milliseconds(100);
    }
    PublishStatus();
  }
  apply_queue_.FailAll(grpc::Status(grpc::StatusCode::UNAVAILABLE, "kvs: replica shutting down"));
  FinishChange(grpc::Status(grpc::StatusCode::UNAVAILABLE, "kvs: replica shutting down"));
  watches_.FailAll(absl::UnavailableError("kvs: replica shutting down"));
  for (auto& [id, read] : pending_reads_) {
    read.Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "kvs: shutting down"));
  }
  pending_reads_.clear();
  // What came in since the last turn (later calls are refused by Accept and Enqueue).
  Refuse(arrived_);
  Inbox left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::swap(left, inbox_);
  }
  Refuse(left);
}

void Replica::Drain(Inbox& in) {
  for (auto& [peer, ok] : in.snapshot_reports) node_->ReportSnapshot(peer, ok);
  for (IncomingSnapshot& s : in.snapshots) {
    paxos::Message message = std::move(s.message);
    snapshots_->Hold(std::move(s));
    CountDroppedMessage(node_->Step(std::move(message)));
  }
  for (paxos::Message& m : in.messages) CountDroppedMessage(node_->Step(std::move(m)));
  for (PendingChange& c : in.changes) StartChange(std::move(c));
  const std::string stamp = in.proposals.empty() ? std::string() : StampNow();
  const int64_t now_ms = UnixMs();
  for (Proposal& p : in.proposals) {
    // Checked here, the last moment before the log, and only here: a command in the log
    // applies on every replica alike, whatever the time.
    if (p.apply_by_ms != 0 && now_ms > p.apply_by_ms + options_.apply_by_slack_ms) {
      PC_LOG(kInfo, "kvs.write_too_late")
      ("session", p.session)("seq", p.seq)("late_ms", now_ms - p.apply_by_ms);
      p.write.Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, kWriteTooLate));
      continue;
    }
    if (p.session != 0) p.command += stamp;  // client writes only
    absl::Status s = node_->Propose(std::move(p.command));
    if (!s.ok()) {
      FillHint(p.write.response->mutable_hint(), paxos::LeaderHint(s));
      p.write.Finish(grpc::Status::OK);
      continue;
    }
    apply_queue_.Add(p.session, p.seq, p.write);
  }
  for (PendingRead& r : in.reads) {
    const uint64_t id = next_read_id_++;
    absl::Status s = node_->RequestRead(id);
    if (!s.ok()) {
      FillHint(r.hint(), paxos::LeaderHint(s));
      r.Finish(grpc::Status::OK);
      continue;
    }
    pending_reads_.emplace(id, r);
  }
  in.messages.clear();
  in.proposals.clear();
  in.reads.clear();
  in.snapshot_reports.clear();
  in.snapshots.clear();
  in.changes.clear();
}

}  // namespace penncloud::kvs::server
