#include "kvs/server/replica.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/grpc_authz.h"
#include "common/grpc_tls.h"
#include "common/log.h"
#include "kvs/client/client.h"
#include "kvs/client/replica_group_client.h"
#include "kvs/machine/session_expiry.h"
#include "kvs/paxos/membership.h"
#include "kvs/server/fatal.h"
#include "kvs/server/paxos_traffic.h"
#include "kvs/server/queue_metrics.h"
#include "kvs/shard/config_store.h"
#include "kvs/shard/wrong_group.h"
#include "kvs/storage/snapshot_file.h"

namespace penncloud::kvs::server {
namespace {

using Clock = std::chrono::steady_clock;
using tls::Role;

constexpr char kSnapshotMeta[] = "snapshot_meta";
constexpr char kPeersMeta[] = "peers";  // pb::PeerBook, part of snapshots
constexpr size_t kSnapshotChunkBytes = 1 << 20;
constexpr int kMaxListLimit = 1000;

grpc::Status Invalid(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "kvs: " + message);
}

grpc::Status CheckCell(const std::string& row, const std::string& column) {
  if (row.empty()) return Invalid("empty row");
  if (row.size() > kMaxKeyBytes) {
    return Invalid(absl::StrCat("row of ", row.size(), " bytes exceeds ", kMaxKeyBytes));
  }
  if (column.size() > kMaxKeyBytes) {
    return Invalid(absl::StrCat("column of ", column.size(), " bytes exceeds ", kMaxKeyBytes));
  }
  return grpc::Status::OK;
}

grpc::Status CheckListLimit(int limit) {
  if (limit >= 1 && limit <= kMaxListLimit) return grpc::Status::OK;
  return Invalid(absl::StrCat("list limit ", limit, " not in 1..", kMaxListLimit));
}

grpc::Status CheckCommand(const pb::Command& c) {
  if (c.op() != pb::OP_PUT && c.op() != pb::OP_CPUT && c.op() != pb::OP_DELETE &&
      c.op() != pb::OP_CDELETE) {
    return Invalid(absl::StrCat("unknown or unsupported op ", static_cast<int>(c.op()),
                                " (want PUT, CPUT, DELETE or CDELETE)"));
  }
  if (c.op() == pb::OP_CDELETE && c.expect_absent()) {
    return Invalid("CDELETE compares with a value; expect_absent makes no sense there");
  }
  if (grpc::Status s = CheckCell(c.row(), c.column()); !s.ok()) return s;
  if (c.value().size() > kMaxValueBytes || c.expected().size() > kMaxValueBytes) {
    return Invalid(absl::StrCat("value exceeds the limit of ", kMaxValueBytes, " bytes"));
  }
  if (c.session() == 0 || c.seq() == 0) {
    return Invalid("write without (session, seq): every write must carry its at-most-once id");
  }
  return grpc::Status::OK;
}

// Who may call what (docs/security.md, "Inside the cluster"). Data writes come from the
// services, the coordinator and operators; the cluster map's row (the map and the
// rebalancer's lease) changes only through the coordinator or an operator, so a service's
// certificate cannot redraw the ring.
grpc::Status AuthorizeWrites(const grpc::ServerContextBase& context, absl::string_view rpc,
                             const std::vector<const pb::Command*>& commands) {
  std::optional<tls::Identity> caller;
  grpc::Status s =
      tls::Authorize(context, rpc, {Role::kService, Role::kCoordinator, Role::kAdmin}, &caller);
  if (!s.ok() || !caller || caller->role != Role::kService) return s;
  for (const pb::Command* c : commands) {
    if (c->row() == shard::kMapRow) {
      return tls::Deny(context, rpc, "the cluster map's row is not a service's to write");
    }
  }
  return grpc::Status::OK;
}

grpc::Status AuthorizeReads(const grpc::ServerContextBase& context, absl::string_view rpc) {
  return tls::Authorize(context, rpc,
                        {Role::kService, Role::kCoordinator, Role::kAdmin, Role::kReplica});
}

grpc::Status AuthorizeOperator(const grpc::ServerContextBase& context, absl::string_view rpc) {
  return tls::Authorize(context, rpc, {Role::kCoordinator, Role::kAdmin});
}

const char* RoleName(paxos::Role role) {
  switch (role) {
    case paxos::Role::kLeader:
      return "leader";
    case paxos::Role::kCandidate:
      return "candidate";
    default:
      return "follower";
  }
}

grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

// Identifies an OP_SET_MAP among the pending writes (it has no client session).
uint64_t Nonce() {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  std::lock_guard<std::mutex> lock(mu);
  uint64_t n = 0;
  while (n == 0) n = rng();
  return n;
}

// The members of `m`, sorted, for comparing two memberships.
std::pair<std::vector<uint64_t>, std::vector<uint64_t>> Members(const paxos::Membership& m) {
  std::vector<uint64_t> voters(m.voters().begin(), m.voters().end());
  std::vector<uint64_t> learners(m.learners().begin(), m.learners().end());
  std::sort(voters.begin(), voters.end());
  std::sort(learners.begin(), learners.end());
  return {voters, learners};
}

bool Contains(const google::protobuf::RepeatedField<uint64_t>& ids, uint64_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

void Erase(google::protobuf::RepeatedField<uint64_t>* ids, uint64_t id) {
  ids->erase(std::remove(ids->begin(), ids->end(), id), ids->end());
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Answering calls and batch items.

// Every item (and the handler itself, until it has queued them all) holds one count; the
// last to let go answers the call. Items write only their own pre-sized elements of the
// response, so no lock is needed.
struct Replica::BatchCall {
  grpc::ServerUnaryReactor* reactor;
  pb::BatchResponse* response;
  std::atomic<int> remaining;

  void Answer(pb::ItemStatus* item, const grpc::Status& status) {
    item->set_code(status.error_code());
    item->set_message(status.error_message());
    Release();
  }
  void Release() {
    if (remaining.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    reactor->Finish(grpc::Status::OK);
    delete this;
  }
};

void Replica::PendingWrite::Finish(const grpc::Status& status) {
  if (batch == nullptr) {
    reactor->Finish(status);
  } else {
    batch->Answer(batch->response->mutable_write_status(index), status);
  }
}

void Replica::PendingRead::Finish(const grpc::Status& status) {
  if (batch == nullptr) {
    reactor->Finish(status);
  } else {
    batch->Answer(batch->response->mutable_get_status(index), status);
  }
}

// ---------------------------------------------------------------------------------------
// gRPC services.

class Replica::ClientService final : public pb::KvsService::CallbackService {
 public:
  explicit ClientService(Replica* replica) : r_(replica) {}

  grpc::ServerUnaryReactor* Write(grpc::CallbackServerContext* context,
                                  const pb::WriteRequest* request,
                                  pb::WriteResponse* response) override {
    r_->CountRequest();
    auto* reactor = context->DefaultReactor();
    const pb::Command& c = request->command();
    if (grpc::Status s = AuthorizeWrites(*context, "Write", {&c}); !s.ok()) {
      reactor->Finish(s);
      return reactor;
    }
    if (grpc::Status s = CheckCommand(c); !s.ok()) {
      reactor->Finish(s);
      return reactor;
    }
    if (!r_->is_leader_.load(std::memory_order_relaxed)) {
      r_->FillHint(response->mutable_hint());
      reactor->Finish(grpc::Status::OK);
      return reactor;
    }
    Proposal p{
        c.SerializeAsString(), c.session(), c.seq(),
        PendingWrite{reactor, response,
                     Clock::now() + std::chrono::milliseconds(r_->options_.write_timeout_ms)}};
    r_->Enqueue([&](Inbox& in) { in.proposals.push_back(std::move(p)); });
    return reactor;
  }

  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context, const pb::GetRequest* request,
                                pb::GetResponse* response) override {
    r_->CountRequest();
    PendingRead read;
    read.reactor = context->DefaultReactor();
    read.get = request;
    read.get_response = response;
    grpc::Status s = AuthorizeReads(*context, "Get");
    if (s.ok()) s = CheckCell(request->row(), request->column());
    return StartRead(read, s, response->mutable_hint());
  }

  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* context,
                                 const pb::ListRequest* request,
                                 pb::ListResponse* response) override {
    r_->CountRequest();
    grpc::Status s = AuthorizeReads(*context, "List");
    if (s.ok()) s = CheckCell(request->row(), request->after());
    if (s.ok()) s = CheckListLimit(request->limit());
    PendingRead read;
    read.reactor = context->DefaultReactor();
    read.list = request;
    read.list_response = response;
    return StartRead(read, s, response->mutable_hint());
  }

  grpc::ServerUnaryReactor* InstallMap(grpc::CallbackServerContext* context,
                                       const pb::InstallMapRequest* request,
                                       pb::WriteResponse* response) override {
    r_->CountRequest();
    auto* reactor = context->DefaultReactor();
    if (grpc::Status s = r_->AuthorizeInstallMap(*context); !s.ok()) {
      reactor->Finish(s);
      return reactor;
    }
    // Only valid maps enter the log: every replica must be able to route by it.
    if (absl::StatusOr<shard::ClusterMap> map = shard::ClusterMap::Parse(request->map());
        !map.ok()) {
      reactor->Finish(Invalid(absl::StrCat("bad cluster map: ", map.status().message())));
      return reactor;
    }
    if (!r_->is_leader_.load(std::memory_order_relaxed)) {
      r_->FillHint(response->mutable_hint());
      reactor->Finish(grpc::Status::OK);
      return reactor;
    }
    pb::Command c;
    c.set_op(pb::OP_SET_MAP);
    c.set_seq(Nonce());
    c.set_map(request->map());
    Proposal p{
        c.SerializeAsString(), 0, c.seq(),
        PendingWrite{reactor, response,
                     Clock::now() + std::chrono::milliseconds(r_->options_.write_timeout_ms)}};
    r_->Enqueue([&](Inbox& in) { in.proposals.push_back(std::move(p)); });
    return reactor;
  }

  grpc::ServerUnaryReactor* Migrate(grpc::CallbackServerContext* context,
                                    const pb::MigrateRequest* request,
                                    pb::WriteResponse* response) override {
    r_->CountRequest();
    auto* reactor = context->DefaultReactor();
    if (grpc::Status s = AuthorizeOperator(*context, "Migrate"); !s.ok()) {
      reactor->Finish(s);
      return reactor;
    }
    const pb::MigrateStep& step = request->step();
    if (step.kind() == pb::MIGRATE_UNSPECIFIED || step.migration().id() == 0) {
      reactor->Finish(Invalid("migrate step without kind or migration id"));
      return reactor;
    }
    if (!r_->is_leader_.load(std::memory_order_relaxed)) {
      r_->FillHint(response->mutable_hint());
      reactor->Finish(grpc::Status::OK);
      return reactor;
    }
    pb::Command c;
    c.set_op(pb::OP_MIGRATE);
    c.set_seq(Nonce());
    *c.mutable_migrate() = step;
    Proposal p{
        c.SerializeAsString(), 0, c.seq(),
        PendingWrite{reactor, response,
                     Clock::now() + std::chrono::milliseconds(r_->options_.write_timeout_ms)}};
    r_->Enqueue([&](Inbox& in) { in.proposals.push_back(std::move(p)); });
    return reactor;
  }

  grpc::ServerUnaryReactor* ListRows(grpc::CallbackServerContext* context,
                                     const pb::ListRowsRequest* request,
                                     pb::ListRowsResponse* response) override {
    r_->CountRequest();
    grpc::Status s = AuthorizeOperator(*context, "ListRows");
    if (s.ok() && request->after().size() > kMaxKeyBytes) {
      s = Invalid(
          absl::StrCat("row of ", request->after().size(), " bytes exceeds ", kMaxKeyBytes));
    }
    if (s.ok()) s = CheckListLimit(request->limit());
    PendingRead read;
    read.reactor = context->DefaultReactor();
    read.rows = request;
    read.rows_response = response;
    return StartRead(read, s, response->mutable_hint());
  }

  grpc::ServerUnaryReactor* ChangeMembership(grpc::CallbackServerContext* context,
                                             const pb::ChangeMembershipRequest* request,
                                             pb::ChangeMembershipResponse* response) override {
    r_->CountRequest();
    auto* reactor = context->DefaultReactor();
    const pb::Member& m = request->member();
    if (grpc::Status s = AuthorizeOperator(*context, "ChangeMembership"); !s.ok()) {
      reactor->Finish(s);
      return reactor;
    }
    grpc::Status s;
    if (request->change() == pb::MEMBERSHIP_UNSPECIFIED) {
      s = Invalid("membership change without a kind (add learner, promote or remove)");
    } else if (m.id() == 0) {
      s = Invalid("membership change without a replica id (ids start at 1)");
    } else if (request->change() == pb::MEMBERSHIP_ADD_LEARNER &&
               (m.peer_address().find(':') == std::string::npos ||
                m.address().find(':') == std::string::npos)) {
      s = Invalid("adding a replica needs its peer and client addresses as host:port");
    }
    if (!s.ok()) {
      reactor->Finish(s);
      return reactor;
    }
    if (!r_->is_leader_.load(std::memory_order_relaxed)) {
      r_->FillHint(response->mutable_hint());
      reactor->Finish(grpc::Status::OK);
      return reactor;
    }
    PendingChange change;
    change.reactor = reactor;
    change.response = response;
    change.request = *request;
    change.deadline = Clock::now() + std::chrono::milliseconds(r_->options_.write_timeout_ms);
    r_->Enqueue([&](Inbox& in) { in.changes.push_back(std::move(change)); });
    return reactor;
  }

  // The items go to the loop together (one hand-off, one wake-up), where each takes the
  // path of its own call: the same checks, proposals and read index, the same answers.
  grpc::ServerUnaryReactor* Batch(grpc::CallbackServerContext* context,
                                  const pb::BatchRequest* request,
                                  pb::BatchResponse* response) override {
    r_->CountRequest();
    auto* reactor = context->DefaultReactor();
    const int writes = request->writes_size();
    const int gets = request->gets_size();
    std::vector<const pb::Command*> commands;
    commands.reserve(writes);
    for (const pb::WriteRequest& w : request->writes()) commands.push_back(&w.command());
    grpc::Status allowed = writes > 0 ? AuthorizeWrites(*context, "Batch", commands)
                                      : AuthorizeReads(*context, "Batch");
    if (!allowed.ok()) {
      reactor->Finish(allowed);
      return reactor;
    }
    if (!r_->is_leader_.load(std::memory_order_relaxed) || writes + gets == 0) {
      if (writes + gets > 0) r_->FillHint(response->mutable_hint());
      reactor->Finish(grpc::Status::OK);
      return reactor;
    }
    for (int i = 0; i < writes; ++i) {
      response->add_writes();
      response->add_write_status();
    }
    for (int i = 0; i < gets; ++i) {
      response->add_gets();
      response->add_get_status();
    }
    auto* batch = new BatchCall{reactor, response, writes + gets + 1};
    const auto deadline = Clock::now() + std::chrono::milliseconds(r_->options_.write_timeout_ms);
    std::vector<Proposal> proposals;
    proposals.reserve(writes);
    for (int i = 0; i < writes; ++i) {
      const pb::Command& c = request->writes(i).command();
      PendingWrite w{nullptr, response->mutable_writes(i), deadline, batch, i};
      if (grpc::Status s = CheckCommand(c); !s.ok()) {
        w.Finish(s);
        continue;
      }
      proposals.push_back(Proposal{c.SerializeAsString(), c.session(), c.seq(), w});
    }
    std::vector<PendingRead> reads;
    reads.reserve(gets);
    for (int i = 0; i < gets; ++i) {
      PendingRead read;
      read.batch = batch;
      read.index = i;
      read.get = &request->gets(i);
      read.get_response = response->mutable_gets(i);
      if (grpc::Status s = CheckCell(read.get->row(), read.get->column()); !s.ok()) {
        read.Finish(s);
        continue;
      }
      reads.push_back(read);
    }
    if (!proposals.empty() || !reads.empty()) {
      r_->Enqueue([&](Inbox& in) {
        for (Proposal& p : proposals) in.proposals.push_back(std::move(p));
        in.reads.insert(in.reads.end(), reads.begin(), reads.end());
      });
    }
    batch->Release();  // the handler's own count: answers now if every item was refused
    return reactor;
  }

  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* context, const pb::StatusRequest*,
                                   pb::StatusResponse* response) override {
    r_->CountRequest();
    auto* reactor = context->DefaultReactor();
    if (grpc::Status s = AuthorizeReads(*context, "Status"); !s.ok()) {
      reactor->Finish(s);
      return reactor;
    }
    *response = r_->StatusNow();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  // A read that passed validation goes to the loop, which serves it once the core says it is
  // safe; a replica that is not the leader answers at once with a hint instead.
  grpc::ServerUnaryReactor* StartRead(PendingRead read, const grpc::Status& valid,
                                      pb::LeaderHint* hint) {
    if (!valid.ok()) {
      read.Finish(valid);
      return read.reactor;
    }
    if (!r_->is_leader_.load(std::memory_order_relaxed)) {
      r_->FillHint(hint);
      read.Finish(grpc::Status::OK);
      return read.reactor;
    }
    grpc::ServerUnaryReactor* reactor = read.reactor;
    r_->Enqueue([&](Inbox& in) { in.reads.push_back(read); });
    return reactor;
  }
  Replica* r_;
};

// Send, the hot path, is a callback method: a peer's batch is handled on the gRPC thread
// that read it, with no hand-off to a synchronous-server thread (each such hand-off waits
// for a core on a busy machine). The streaming transfers stay synchronous.
class Replica::PeerService final
    : public pb::KvsPeer::WithCallbackMethod_Send<pb::KvsPeer::Service> {
 public:
  explicit PeerService(Replica* replica) : r_(replica) {}
  using pb::KvsPeer::WithCallbackMethod_Send<pb::KvsPeer::Service>::Send;

  grpc::Status FetchRange(grpc::ServerContext* context, const pb::FetchRangeRequest* request,
                          grpc::ServerWriter<pb::RangeChunk>* writer) override {
    if (grpc::Status s = AuthorizeOperator(*context, "FetchRange"); !s.ok()) return s;
    // Only once FREEZE is applied (and on disk) here is the range final: no write to it
    // comes after FREEZE in the log.
    const pb::MigrationStep step = r_->store_->StepOf(request->migration().id());
    if (step != pb::STEP_FROZEN && step != pb::STEP_RELEASED) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          absl::StrCat("kvs: migration ", request->migration().id(),
                                       " is not frozen at replica ", r_->options_.id));
    }
    absl::Status s =
        r_->store_->DumpRange(request->migration(), kSnapshotChunkBytes,
                              [&](const pb::RangeChunk& chunk) { return writer->Write(chunk); });
    if (!s.ok()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, s.ToString());
    return grpc::Status::OK;
  }

  grpc::ServerUnaryReactor* Send(grpc::CallbackServerContext* context, const pb::PeerBatch* batch,
                                 pb::PeerAck*) override {
    auto* reactor = context->DefaultReactor();
    if (grpc::Status s = r_->AuthorizePeer(*context, "Send", batch->from()); !s.ok()) {
      reactor->Finish(s);
      return reactor;
    }
    std::vector<paxos::Message> messages;
    messages.reserve(batch->messages_size());
    for (const std::string& bytes : batch->messages()) {
      paxos::Message m;
      if (!m.ParseFromString(bytes)) {
        reactor->Finish(Invalid("malformed Paxos message"));
        return reactor;
      }
      // The certificate vouched for the batch's sender; each message must be its own.
      if (m.from() != batch->from()) {
        reactor->Finish(tls::Deny(*context, "Send", "a message names another sender"));
        return reactor;
      }
      if (m.to() != r_->options_.id) continue;  // misrouted (e.g. a stale proxy mapping)
      CountPaxosMessage(Direction::kReceived, m);
      if (m.type() == paxos::MSG_SNAPSHOT) {
        // A snapshot no newer than what is applied here brings nothing: peers that refuse
        // a candidate's prepare offer theirs on every try (docs/paxos.md), and each
        // download would copy the whole store.
        if (m.snapshot().slot() <= r_->store_->AppliedSlot()) continue;
        // The data comes in a separate stream; the message is stepped once it is here.
        r_->FetchSnapshot(std::move(m));
        continue;
      }
      messages.push_back(std::move(m));
    }
    if (!messages.empty()) {
      r_->Enqueue([&](Inbox& in) {
        for (auto& m : messages) in.messages.push_back(std::move(m));
      });
    }
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::Status FetchSnapshot(grpc::ServerContext* context, const pb::SnapshotRequest* request,
                             grpc::ServerWriter<pb::SnapshotChunk>* writer) override {
    if (grpc::Status s = r_->AuthorizePeer(*context, "FetchSnapshot", request->from()); !s.ok()) {
      return s;
    }
    absl::Status s = r_->store_->DumpSnapshot(
        kSnapshotChunkBytes, [&](const pb::SnapshotChunk& chunk) { return writer->Write(chunk); });
    const uint64_t peer = request->from();
    r_->Enqueue([&](Inbox& in) { in.snapshot_reports.emplace_back(peer, s.ok()); });
    PC_LOG(kInfo, "kvs.snapshot_sent")("peer", peer)("ok", s.ok());
    if (!s.ok()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, s.ToString());
    return grpc::Status::OK;
  }

 private:
  Replica* r_;
};

// ---------------------------------------------------------------------------------------
// Start-up.

Replica::Replica(const ReplicaOptions& options)
    : options_(options),
      compaction_(CompactionLimits{.interval_slots = options.snapshot_interval,
                                   .keep_slots = options.log_keep_slots,
                                   .log_bytes = options.snapshot_log_bytes}),
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
  {
    // Downloads a crash left behind (an install in progress was finished by Open).
    std::error_code ignored;
    std::filesystem::remove_all(store_->SnapshotInbox(), ignored);
  }

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
  absl::Status scan = store_->ForEachLogEntry([&](uint64_t slot, const std::string& bytes) {
    if (slot <= state.snapshot.slot()) return;
    paxos::Entry entry;
    if (!entry.ParseFromString(bytes)) return;
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
  ("id", options_.id)("entries", state.entries.size())("snapshot_slot", state.snapshot.slot())(
      "applied", state.applied)("commit", state.hard_state.commit());

  paxos::Config config;
  config.id = options_.id;
  config.election_ticks = options_.election_ticks;
  config.heartbeat_ticks = options_.heartbeat_ticks;
  config.lease_reads = options_.lease_reads;
  config.seed = options_.id * 0x9E3779B97F4A7C15ull ^
                static_cast<uint64_t>(Clock::now().time_since_epoch().count());
  node_ = std::make_unique<paxos::Node>(config, std::move(state));
  {
    std::map<uint64_t, std::string> peers;
    std::lock_guard<std::mutex> lock(book_mu_);
    for (const auto& [id, member] : book_) peers.emplace(id, member.peer_address());
    transport_ = std::make_unique<PeerTransport>(options_.id, peers);
  }
  PublishStatus();

  client_service_ = std::make_unique<ClientService>(this);
  peer_service_ = std::make_unique<PeerService>(this);
  grpc::ServerBuilder builder;
  const std::string listen =
      options_.listen.empty() ? options_.peers.at(options_.id) : options_.listen;
  int port = 0;
  builder.AddListeningPort(listen, tls::ServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.SetMaxSendMessageSize(64 << 20);
  builder.RegisterService(client_service_.get());
  builder.RegisterService(peer_service_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", listen));
  }
  loop_ = std::thread([this] { Loop(); });
  if (!options_.config.empty()) map_poller_ = std::thread([this] { PollMap(); });
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
  cv_.notify_all();
  poll_cv_.notify_all();
  if (map_poller_.joinable()) map_poller_.join();
  if (loop_.joinable()) loop_.join();
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  if (snapshot_thread_.joinable()) snapshot_thread_.join();
  transport_.reset();
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

void Replica::Enqueue(const std::function<void(Inbox&)>& add) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    add(inbox_);
    ProposalQueue().waiting.Set(static_cast<double>(inbox_.proposals.size()));
    // A busy loop drains the inbox on its next turn anyway; only a sleeping one needs
    // the (system call) wake-up.
    wake = loop_sleeping_;
  }
  if (wake) cv_.notify_one();
}

// ---------------------------------------------------------------------------------------
// The loop.

void Replica::Loop() {
  const auto tick = std::chrono::milliseconds(options_.tick_ms);
  auto next_tick = Clock::now() + tick;
  auto next_sweep = Clock::now() + std::chrono::milliseconds(100);
  Inbox in;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      loop_sleeping_ = true;
      cv_.wait_until(lock, next_tick, [&] { return stop_ || !inbox_.empty(); });
      loop_sleeping_ = false;
      if (stop_) break;
      std::swap(in, inbox_);
      ProposalQueue().waiting.Set(0);
    }
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
    for (auto& [peer, ok] : in.snapshot_reports) node_->ReportSnapshot(peer, ok);
    for (IncomingSnapshot& s : in.snapshots) {
      paxos::Message message = std::move(s.message);
      if (held_snapshot_ && held_snapshot_->dir != s.dir) {
        std::error_code ignored;  // superseded before the core asked for it
        std::filesystem::remove_all(held_snapshot_->dir, ignored);
      }
      held_snapshot_ = std::move(s);
      CountDroppedMessage(node_->Step(std::move(message)));
    }
    for (paxos::Message& m : in.messages) CountDroppedMessage(node_->Step(std::move(m)));
    for (PendingChange& c : in.changes) StartChange(std::move(c));
    const std::string stamp = in.proposals.empty() ? std::string() : StampNow();
    for (Proposal& p : in.proposals) {
      if (p.session != 0) p.command += stamp;  // client writes only
      absl::Status s = node_->Propose(std::move(p.command));
      if (!s.ok()) {
        FillHint(p.write.response->mutable_hint(), paxos::LeaderHint(s));
        p.write.Finish(grpc::Status::OK);
        continue;
      }
      pending_writes_[{p.session, p.seq}].push_back(p.write);
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

    while (node_->HasReady()) HandleReady();

    const bool leader = node_->is_leader();
    if (was_leader_ && !leader) {
      FailPendingWrites(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                     "kvs: leadership lost before the write was chosen; retry"));
      FinishChange(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                "kvs: leadership lost during the membership change; retry"));
    }
    was_leader_ = leader;
    ProposalQueue().proposed.Set(static_cast<double>(pending_writes_.size()));
    if (Clock::now() >= next_sweep) {
      SweepPendingWrites();
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
  FailPendingWrites(grpc::Status(grpc::StatusCode::UNAVAILABLE, "kvs: replica shutting down"));
  FinishChange(grpc::Status(grpc::StatusCode::UNAVAILABLE, "kvs: replica shutting down"));
  for (auto& [id, read] : pending_reads_) {
    read.Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "kvs: shutting down"));
  }
  pending_reads_.clear();
}

void Replica::InstallSnapshot(const paxos::SnapshotMeta& meta) {
  if (!held_snapshot_) {
    Fatal("kvs.snapshot_missing",
          absl::InternalError("the core installed a snapshot whose data never arrived"));
  }
  const uint64_t data_slot = held_snapshot_->slot;
  if (data_slot < meta.slot()) {
    // Cannot happen (the sender dumps after compacting, and its applied slot never goes
    // below a compaction point), but installing it would silently lose slots.
    Fatal("kvs.snapshot_too_old",
          absl::InternalError(absl::StrCat("snapshot data at slot ", data_slot,
                                           " is older than its metadata slot ", meta.slot())));
  }
  PC_LOG(kInfo, "kvs.snapshot_install")
  ("slot", meta.slot())("data_slot", data_slot)("dir", held_snapshot_->dir);
  // The downloaded files replace the state machine and the snapshot's metadata is recorded;
  // a crash in the middle leaves the old state (download incomplete: the leader sends the
  // snapshot again) or is finished from the files at the next open, never half-replaced.
  absl::Status s =
      store_->InstallSnapshot(held_snapshot_->dir, kSnapshotMeta, meta.SerializeAsString());
  if (s.ok()) s = store_->CompactLog(meta.slot());
  if (!s.ok()) Fatal("kvs.snapshot_install_failed", s);
  compaction_.Compacted(meta.slot());
  held_snapshot_.reset();
  LoadMap(store_->ShardMap());
  LoadPeers();
}

void Replica::ApplyEntry(const paxos::Entry& entry) {
  // The state machine may be ahead of the core (a snapshot's data is taken at the
  // sender's applied slot, which can be past the snapshot's slot): skip what it has.
  if (entry.slot() <= store_->AppliedSlot()) return;
  compaction_.Applied(entry.slot(), entry.ByteSizeLong());
  std::vector<pb::Command> commands;
  if (entry.type() == paxos::ENTRY_COMMANDS) {
    commands.resize(entry.commands_size());
    for (int i = 0; i < entry.commands_size(); ++i) {
      // A command that does not parse stays OP_UNSPECIFIED and does nothing, on every
      // replica alike.
      commands[i].ParseFromString(entry.commands(i));
    }
  } else if (entry.type() == paxos::ENTRY_CONFIG) {
    PC_LOG(kInfo, "kvs.membership")
    ("slot", entry.slot())("voters", entry.membership().voters_size())(
        "learners", entry.membership().learners_size());
    // Peers are authorized by the published membership (AuthorizePeer): a new member's
    // first replies must not meet the old one.
    PublishStatus(/*now_please=*/true);
  }
  // The address book is written before the slot (RocksDB keeps write order, so it is on
  // disk whenever the slot is); applying it again after a crash changes nothing.
  for (const pb::Command& c : commands) {
    if (c.op() == pb::OP_SET_PEER) ApplySetPeer(c.peer());
  }
  absl::StatusOr<std::vector<storage::ApplyOutcome>> outcomes =
      store_->ApplySlot(entry.slot(), commands, &hooks_);
  if (!outcomes.ok()) Fatal("kvs.apply_failed", outcomes.status());
  applied_commands_.fetch_add(commands.size(), std::memory_order_relaxed);
  if (change_) {
    for (const pb::Command& c : commands) {
      if (c.op() == pb::OP_SET_PEER && change_ && c.seq() == change_->peer_nonce) ProposeChange();
    }
    if (change_ && change_->target && entry.type() == paxos::ENTRY_CONFIG &&
        Members(entry.membership()) == Members(*change_->target)) {
      change_->response->set_chosen(true);
      FinishChange(grpc::Status::OK);
    }
  }
  if (pending_writes_.empty()) return;
  for (size_t i = 0; i < commands.size(); ++i) {
    auto it = pending_writes_.find({commands[i].session(), commands[i].seq()});
    if (it == pending_writes_.end()) continue;
    const storage::ApplyOutcome& outcome = (*outcomes)[i];
    for (PendingWrite& w : it->second) {
      if (outcome.stale) {
        w.Finish(grpc::Status(grpc::StatusCode::ABORTED,
                              "kvs: request superseded by a later one of its session"));
        continue;
      }
      if (outcome.expired) {
        w.Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                              absl::StrCat(kSessionExpired,
                                           ": the write may be a late retry of "
                                           "one applied before; not applied")));
        continue;
      }
      if (!outcome.unavailable.empty()) {
        w.Finish(
            grpc::Status(grpc::StatusCode::UNAVAILABLE, "kvs: " + outcome.unavailable + "; retry"));
        continue;
      }
      if (outcome.result.wrong_group()) {
        w.Finish(ToGrpc(shard::WrongGroupError(
            outcome.result.map_version(),
            absl::StrCat("group ", options_.group, " does not serve this row"))));
        continue;
      }
      w.response->set_cput_succeeded(outcome.result.cput_succeeded());
      w.Finish(grpc::Status::OK);
    }
    pending_writes_.erase(it);
  }
}

void Replica::ServeRead(PendingRead& r) {
  // Checked on the applied state, after the read index: refused by exactly the replicas
  // whose state says the group does not serve the row.
  if (r.rows != nullptr) {
    // Admin listing of what this group stores: no row of its own to judge.
    std::vector<std::string> rows;
    bool more = false;
    absl::Status s = store_->ListRows(r.rows->after(), r.rows->limit(), &rows, &more);
    if (!s.ok()) {
      r.Finish(grpc::Status(grpc::StatusCode::INTERNAL, s.ToString()));
      return;
    }
    for (std::string& row : rows) r.rows_response->add_rows(std::move(row));
    r.rows_response->set_more(more);
    r.Finish(grpc::Status::OK);
    return;
  }
  std::string why;
  switch (Judge(r.get != nullptr ? r.get->row() : r.list->row(), /*write=*/false, &why)) {
    case Verdict::kServe:
      break;
    case Verdict::kWrongGroup:
      r.Finish(ToGrpc(shard::WrongGroupError(store_->MapVersion(), why)));
      return;
    case Verdict::kUnavailable:
      r.Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "kvs: " + why + "; retry"));
      return;
  }
  if (r.get != nullptr) {
    auto value = store_->Get(r.get->row(), r.get->column());
    if (!value.ok()) {
      r.Finish(grpc::Status(grpc::StatusCode::INTERNAL, value.status().ToString()));
      return;
    }
    if (value->has_value()) {
      r.get_response->set_found(true);
      r.get_response->set_value(std::move(**value));
    }
    r.Finish(grpc::Status::OK);
    return;
  }
  std::vector<storage::ListedCell> cells;
  bool more = false;
  absl::Status s = store_->List(r.list->row(), r.list->after(), r.list->limit(),
                                r.list->with_values(), &cells, &more);
  if (!s.ok()) {
    r.Finish(grpc::Status(grpc::StatusCode::INTERNAL, s.ToString()));
    return;
  }
  for (storage::ListedCell& cell : cells) {
    pb::ListCell* out = r.list_response->add_cells();
    out->set_column(std::move(cell.column));
    out->set_value(std::move(cell.value));
  }
  r.list_response->set_more(more);
  r.Finish(grpc::Status::OK);
}

void Replica::FailPendingWrites(const grpc::Status& status) {
  for (auto& [key, writes] : pending_writes_) {
    for (PendingWrite& w : writes) w.Finish(status);
  }
  pending_writes_.clear();
}

void Replica::SweepPendingWrites() {
  const auto now = Clock::now();
  for (auto it = pending_writes_.begin(); it != pending_writes_.end();) {
    auto& writes = it->second;
    auto expired = std::remove_if(writes.begin(), writes.end(), [&](PendingWrite& w) {
      if (w.deadline > now) return false;
      w.Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "kvs: write not chosen in time (no quorum?); retry"));
      return true;
    });
    writes.erase(expired, writes.end());
    if (writes.empty()) {
      pending_writes_.erase(it++);
    } else {
      ++it;
    }
  }
}

std::string Replica::StampNow() {
  // A serialized Command holding only stamp_ms: appended to a serialized command it sets
  // that field (protobuf merges concatenated messages), without re-encoding the value.
  pb::Command stamp;
  stamp.set_stamp_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
  return stamp.SerializeAsString();
}

void Replica::MaybeExpireSessions() {
  const int64_t idle = options_.session_idle_ms;
  if (idle <= 0 || !node_->is_leader() || Clock::now() < next_expiry_) return;
  // Measured on the log's clock, so every replica drops the same sessions; at most one
  // sweep a second is proposed (a lost one is proposed again).
  std::optional<pb::SessionExpiry> due = machine::ExpiryDue(store_->SessionClockNow(), idle);
  if (!due) return;
  next_expiry_ = Clock::now() + std::chrono::seconds(1);
  pb::Command c;
  c.set_op(pb::OP_EXPIRE_SESSIONS);
  c.set_seq(Nonce());
  *c.mutable_expire() = *due;
  if (absl::Status s = node_->Propose(c.SerializeAsString()); !s.ok()) return;
  PC_LOG(kDebug, "kvs.sessions_expiring")("horizon_ms", c.expire().horizon_ms());
}

void Replica::MaybeCompact() {
  const std::optional<uint64_t> due = compaction_.Due();
  if (!due) return;
  const uint64_t slot = *due;
  const uint64_t log_bytes = compaction_.applied_bytes();
  absl::StatusOr<paxos::SnapshotMeta> meta = node_->Compact(slot);
  if (!meta.ok()) {
    PC_LOG(kWarn, "kvs.compact_refused")("slot", slot)("error", meta.status().ToString());
    return;
  }
  // The state machine is the snapshot (it lives in the same store); persisting the meta
  // with sync also makes every earlier unsynced apply durable.
  absl::Status s = store_->PutMeta(kSnapshotMeta, meta->SerializeAsString(), /*sync=*/true);
  if (s.ok()) s = store_->CompactLog(meta->slot());
  if (!s.ok()) Fatal("kvs.compact_failed", s);
  compaction_.Compacted(meta->slot());
  PC_LOG(kInfo, "kvs.compacted")
  ("through", meta->slot())("applied", store_->AppliedSlot())("log_bytes_before", log_bytes)(
      "log_bytes_after", compaction_.applied_bytes());
}

void Replica::FetchSnapshot(paxos::Message message) {
  bool idle = false;
  if (!fetching_snapshot_.compare_exchange_strong(idle, true)) return;  // one at a time
  if (snapshot_thread_.joinable()) snapshot_thread_.join();
  snapshot_thread_ = std::thread([this, message = std::move(message)]() mutable {
    pb::KvsPeer::Stub* stub = transport_->Stub(message.from());
    // Each chunk goes to disk as it arrives: memory stays at one chunk (snapshot_file.h).
    const std::string dir = absl::StrCat(store_->SnapshotInbox(), "/", Nonce());
    auto download = storage::SnapshotDownload::Create(dir);
    uint64_t chunks = 0;
    bool ok = false;
    if (stub != nullptr && download.ok()) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      pb::SnapshotRequest request;
      request.set_from(options_.id);
      auto reader = stub->FetchSnapshot(&context, request);
      pb::SnapshotChunk chunk;
      absl::Status stored;
      while (reader->Read(&chunk)) {
        ok = chunk.last();
        ++chunks;
        stored = (*download)->Add(chunk);
        if (!stored.ok()) {
          ok = false;
          context.TryCancel();
          break;
        }
        chunk.Clear();
      }
      grpc::Status s = reader->Finish();
      if (ok && s.ok()) stored = (*download)->Finish();
      ok = ok && s.ok() && stored.ok();
      PC_LOG(kInfo, "kvs.snapshot_fetched")
      ("from", message.from())("chunks", chunks)("ok", ok)("error", s.error_message())(
          "store_error", stored.ToString());
    }
    if (ok) {
      const uint64_t slot = (*download)->slot();
      Enqueue([&](Inbox& in) {
        in.snapshots.push_back(IncomingSnapshot{std::move(message), dir, slot});
      });
    } else {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
    fetching_snapshot_ = false;
  });
}

// ---------------------------------------------------------------------------------------
// Sharding.

void Replica::LoadMap(const std::string& bytes) {
  map_.reset();
  if (!bytes.empty()) {
    absl::StatusOr<shard::ClusterMap> map = shard::ClusterMap::Parse(bytes);
    // Maps are validated before they are proposed, so this cannot fail on one replica and
    // not another; if it did, serving everything is what an unsharded group does.
    if (map.ok()) {
      map_ = std::move(*map);
    } else {
      PC_LOG(kError, "kvs.bad_map")("error", map.status().ToString());
    }
  }
  map_version_.store(map_ ? map_->version() : 0, std::memory_order_relaxed);
  if (map_) {
    PC_LOG(kInfo, "kvs.map_applied")("version", map_->version())("group", options_.group);
  }
}

bool Replica::Serves(const std::string& row) const {
  std::string why;
  return Judge(row, /*write=*/false, &why) == Verdict::kServe;
}

Replica::Verdict Replica::Judge(const std::string& row, bool write, std::string* why) const {
  return machine::Judge(options_.group, map_ ? &*map_ : nullptr, store_->Migrations(),
                        shard::RingPosition(row), write, why);
}

void Replica::PollMap() {
  // The leader asks its own group (through the normal RPC, so the map enters the log like
  // any other) to apply what the config group holds, whenever that is newer.
  std::vector<std::string> config;
  for (absl::string_view a : absl::StrSplit(options_.config, ',', absl::SkipWhitespace())) {
    config.emplace_back(a);
  }
  std::vector<std::string> self;
  const auto& addresses =
      options_.client_addresses.empty() ? options_.peers : options_.client_addresses;
  for (const auto& [id, address] : addresses) self.push_back(address);
  ReplicaGroupOptions quick;
  quick.deadline = std::chrono::milliseconds(2000);
  quick.attempt_timeout = std::chrono::milliseconds(500);
  ReplicaGroupClient config_client(config, quick);
  ReplicaGroupClient group_client(self, quick);
  shard::ConfigStore store(config_client);
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (poll_cv_.wait_for(lock, std::chrono::milliseconds(options_.map_poll_ms),
                            [&] { return stop_; })) {
        return;
      }
    }
    if (!is_leader_.load(std::memory_order_relaxed)) continue;
    absl::StatusOr<shard::ClusterMap> map = store.Read();
    if (!map.ok()) {
      if (!absl::IsNotFound(map.status())) {
        PC_LOG(kDebug, "kvs.map_poll_failed")("error", map.status().ToString());
      }
      continue;
    }
    if (map->version() <= map_version_.load(std::memory_order_relaxed)) continue;
    absl::Status s = group_client.InstallMap(map->bytes());
    PC_LOG(kInfo, "kvs.map_polled")("version", map->version())("ok", s.ok())("error", s.ToString());
  }
}

// ---------------------------------------------------------------------------------------
// Node membership (docs/sharding.md section 7).

void Replica::LoadPeers() {
  std::map<uint64_t, pb::Member> book;
  for (const auto& [id, address] : options_.peers) {
    pb::Member& m = book[id];
    m.set_id(id);
    m.set_peer_address(address);
    auto client = options_.client_addresses.find(id);
    m.set_address(client != options_.client_addresses.end() ? client->second : address);
  }
  // What the log said (OP_SET_PEER) outranks the flags this process was started with.
  if (std::optional<std::string> bytes = store_->Meta(kPeersMeta)) {
    pb::PeerBook stored;
    if (stored.ParseFromString(*bytes)) {
      for (const pb::Member& m : stored.members()) book[m.id()] = m;
    } else {
      PC_LOG(kError, "kvs.bad_peer_book")("bytes", bytes->size());
    }
  }
  std::lock_guard<std::mutex> lock(book_mu_);
  book_ = std::move(book);
  if (transport_) {
    for (const auto& [id, m] : book_) transport_->AddPeer(id, m.peer_address());
  }
}

void Replica::ApplySetPeer(const pb::Member& member) {
  if (member.id() == 0 || member.peer_address().empty()) return;  // refused before proposing
  pb::PeerBook book;
  {
    std::lock_guard<std::mutex> lock(book_mu_);
    book_[member.id()] = member;
    for (const auto& [id, m] : book_) *book.add_members() = m;
  }
  if (absl::Status s = store_->PutMeta(kPeersMeta, book.SerializeAsString(), /*sync=*/false);
      !s.ok()) {
    Fatal("kvs.peer_book_failed", s);
  }
  if (member.id() != options_.id) transport_->AddPeer(member.id(), member.peer_address());
  PC_LOG(kInfo, "kvs.peer_set")
  ("id", member.id())("peer", member.peer_address())("client", member.address());
}

paxos::Membership Replica::LatestMembership() const {
  const paxos::ConfigState config = node_->Status().config;
  return config.next_from() != 0 ? config.next() : config.current();
}

std::string Replica::ClientAddress(uint64_t id) const {
  std::lock_guard<std::mutex> lock(book_mu_);
  auto it = book_.find(id);
  return it == book_.end() ? std::string() : it->second.address();
}

void Replica::StartChange(PendingChange change) {
  if (!node_->is_leader()) {
    FillHint(change.response->mutable_hint());
    change.reactor->Finish(grpc::Status::OK);
    return;
  }
  if (change_) {
    change.reactor->Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                        "kvs: another membership change is in progress; retry"));
    return;
  }
  const pb::Member& member = change.request.member();
  change_ = std::move(change);
  if (change_->request.change() != pb::MEMBERSHIP_ADD_LEARNER) {
    ProposeChange();
    return;
  }
  {
    const paxos::Membership current = LatestMembership();
    std::lock_guard<std::mutex> lock(book_mu_);
    for (const auto& [id, m] : book_) {
      if (id != member.id() && paxos::IsMember(current, id) &&
          (m.peer_address() == member.peer_address() || m.address() == member.address())) {
        FinishChange(Invalid(absl::StrCat("address already used by replica ", id)));
        return;
      }
    }
  }
  // Every replica must know how to reach the new one before a membership names it.
  pb::Command c;
  c.set_op(pb::OP_SET_PEER);
  c.set_seq(Nonce());
  *c.mutable_peer() = member;
  if (absl::Status s = node_->Propose(c.SerializeAsString()); !s.ok()) {
    FillHint(change_->response->mutable_hint(), paxos::LeaderHint(s));
    FinishChange(grpc::Status::OK);
    return;
  }
  change_->peer_nonce = c.seq();
}

void Replica::ProposeChange() {
  const pb::ChangeMembershipRequest& request = change_->request;
  const uint64_t id = request.member().id();
  change_->peer_nonce = 0;
  paxos::Membership target = LatestMembership();
  const bool voter = Contains(target.voters(), id);
  const bool learner = Contains(target.learners(), id);
  switch (request.change()) {
    case pb::MEMBERSHIP_ADD_LEARNER:
      if (voter || learner) {  // a retry of a change that was chosen: done
        change_->response->set_chosen(true);
        FinishChange(grpc::Status::OK);
        return;
      }
      target.add_learners(id);
      break;
    case pb::MEMBERSHIP_PROMOTE:
      if (voter) {
        change_->response->set_chosen(true);
        FinishChange(grpc::Status::OK);
        return;
      }
      if (!learner) {
        FinishChange(Invalid(absl::StrCat("replica ", id, " is not a learner of this group")));
        return;
      }
      Erase(target.mutable_learners(), id);
      target.add_voters(id);
      break;
    case pb::MEMBERSHIP_REMOVE:
      if (!voter && !learner) {
        change_->response->set_chosen(true);
        FinishChange(grpc::Status::OK);
        return;
      }
      if (voter && target.voters_size() == 1) {
        FinishChange(Invalid(absl::StrCat("replica ", id, " is the group's last voter")));
        return;
      }
      Erase(target.mutable_voters(), id);
      Erase(target.mutable_learners(), id);
      break;
    default:
      FinishChange(Invalid("unknown membership change"));
      return;
  }
  absl::Status s = node_->ProposeMembership(target);
  if (!s.ok()) {
    if (paxos::LeaderHint(s) || absl::IsUnavailable(s)) {
      FillHint(change_->response->mutable_hint(), paxos::LeaderHint(s));
      FinishChange(grpc::Status::OK);
    } else {
      FinishChange(grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                                absl::StrCat("kvs: ", s.message())));
    }
    return;
  }
  PC_LOG(kInfo, "kvs.membership_proposed")
  ("change", pb::MembershipChange_Name(request.change()))("id", id)("voters", target.voters_size())(
      "learners", target.learners_size());
  change_->target = std::move(target);
}

void Replica::FinishChange(const grpc::Status& status) {
  if (!change_) return;
  change_->reactor->Finish(status);
  change_.reset();
}

// ---------------------------------------------------------------------------------------
// Authorization of peers (docs/security.md, "Inside the cluster").

grpc::Status Replica::AuthorizePeer(const grpc::ServerContextBase& context, absl::string_view rpc,
                                    uint64_t from) const {
  std::optional<tls::Identity> caller;
  grpc::Status s = tls::Authorize(context, rpc, {Role::kReplica}, &caller);
  if (!s.ok() || !caller) return s;
  if (caller->group != options_.group) {
    return tls::Deny(context, rpc,
                     absl::StrCat("the sender is a replica of group ", caller->group,
                                  ", this is group ", options_.group));
  }
  if (caller->member != from || from == options_.id) {
    return tls::Deny(context, rpc,
                     absl::StrCat("the sender says it is replica ", from,
                                  " but its certificate names replica ", caller->member));
  }
  if (WasRemoved(from)) {
    return tls::Deny(context, rpc, absl::StrCat("replica ", from, " was removed from the group"));
  }
  return grpc::Status::OK;
}

bool Replica::WasRemoved(uint64_t id) const {
  {
    std::lock_guard<std::mutex> lock(status_mu_);
    const paxos::ConfigState& config = status_.config;
    auto member = [&](uint64_t who) {
      return paxos::IsMember(config.current(), who) ||
             (config.next_from() != 0 && paxos::IsMember(config.next(), who));
    };
    if (member(id)) return false;
    // A replica still joining has no membership of its own yet: it learns it from the
    // very peers that would otherwise be refused.
    if (!member(options_.id)) return false;
  }
  // A sender never named here may be a member added while this replica was away, and its
  // log is the only way back; ids are never reused, so a removed replica is always known.
  std::lock_guard<std::mutex> lock(book_mu_);
  return book_.contains(id);
}

grpc::Status Replica::AuthorizeInstallMap(const grpc::ServerContextBase& context) const {
  // Operators and the coordinator install maps; so does this group's own leader, handing
  // what the config group holds to its log (PollMap).
  std::optional<tls::Identity> caller;
  grpc::Status s = tls::Authorize(context, "InstallMap",
                                  {Role::kCoordinator, Role::kAdmin, Role::kReplica}, &caller);
  if (!s.ok() || !caller || caller->role != Role::kReplica || caller->group == options_.group) {
    return s;
  }
  return tls::Deny(context, "InstallMap", "only this group's own replicas may install its map");
}

// ---------------------------------------------------------------------------------------
// Status and hints.

void Replica::PublishStatus(bool now_please) {
  is_leader_.store(node_->is_leader(), std::memory_order_relaxed);
  leader_id_.store(node_->leader().value_or(0), std::memory_order_relaxed);
  static thread_local auto last = Clock::time_point();
  const auto now = Clock::now();
  if (!now_please && now - last < std::chrono::milliseconds(20)) return;
  last = now;
  paxos::NodeStatus status = node_->Status();
  std::lock_guard<std::mutex> lock(status_mu_);
  status_ = std::move(status);
}

void Replica::FillHint(pb::LeaderHint* hint) const {
  const uint64_t leader = leader_id_.load(std::memory_order_relaxed);
  FillHint(hint, leader == 0 ? std::nullopt : std::optional<uint64_t>(leader));
}

void Replica::FillHint(pb::LeaderHint* hint, std::optional<uint64_t> leader) const {
  hint->set_not_leader(true);
  if (!leader || *leader == options_.id) return;
  hint->set_leader(ClientAddress(*leader));
}

pb::StatusResponse Replica::StatusNow() const {
  pb::StatusResponse out;
  paxos::NodeStatus status;
  {
    std::lock_guard<std::mutex> lock(status_mu_);
    status = status_;
  }
  out.set_id(options_.id);
  out.set_role(RoleName(status.role));
  if (status.leader) {
    out.set_leader_id(*status.leader);
    out.set_leader(ClientAddress(*status.leader));
  }
  out.set_ballot(absl::StrCat(status.ballot.round(), ".", status.ballot.node()));
  out.set_commit_slot(status.commit);
  out.set_applied_slot(store_->AppliedSlot());
  out.set_first_log_slot(status.first_slot);
  out.set_last_log_slot(status.last_slot);
  out.set_snapshot_slot(status.first_slot > 0 ? status.first_slot - 1 : 0);
  out.set_log_bytes(store_->LogBytes());
  out.set_map_version(map_version_.load(std::memory_order_relaxed));
  out.set_group(options_.group);
  out.set_started_unix_ms(started_unix_ms_);
  out.set_client_requests_total(client_requests_.load(std::memory_order_relaxed));
  out.set_applied_commands_total(applied_commands_.load(std::memory_order_relaxed));
  out.set_session_records(store_->SessionRecords());
  const bool pending = status.config.next_from() != 0;
  out.set_membership_pending(pending);
  const paxos::Membership& m = pending ? status.config.next() : status.config.current();
  std::lock_guard<std::mutex> lock(book_mu_);
  auto add = [&](uint64_t id, bool learner) {
    pb::Member* member = out.add_members();
    if (auto it = book_.find(id); it != book_.end()) *member = it->second;
    member->set_id(id);
    member->set_learner(learner);
  };
  for (uint64_t id : m.voters()) add(id, false);
  for (uint64_t id : m.learners()) add(id, true);
  return out;
}

}  // namespace penncloud::kvs::server
