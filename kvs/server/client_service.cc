// The replica's client API, KvsService (docs/kvs.md): gRPC's callback threads check the
// caller and the request (request_checks.h) and hand the call to the loop's inbox; a
// replica that is not the leader answers at once with a hint. The loop answers the rest.
#include <chrono>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kvs/client/client.h"
#include "kvs/server/nonce.h"
#include "kvs/server/replica.h"
#include "kvs/server/request_checks.h"

namespace penncloud::kvs::server {
namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

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
    return Propose(reactor, response, c);
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

  // A watch takes the read path (read index, then the applied state) and may be parked
  // there (watch_table.h); it answers through its own reactor, which hears a cancel.
  grpc::ServerUnaryReactor* Watch(grpc::CallbackServerContext* context,
                                  const pb::WatchRequest* request,
                                  pb::WatchResponse* response) override {
    r_->CountRequest();
    auto* call = new WatchCall(r_->watches_, response);
    PendingRead read;
    read.reactor = call;
    read.watch = request;
    read.watcher = call;
    read.watch_response = response;
    grpc::Status s = AuthorizeReads(*context, "Watch");
    if (s.ok()) s = CheckWatchRequest(*request);
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
    pb::Command c;
    c.set_op(pb::OP_SET_MAP);
    c.set_seq(Nonce());
    c.set_map(request->map());
    return Propose(reactor, response, c);
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
    pb::Command c;
    c.set_op(pb::OP_MIGRATE);
    c.set_seq(Nonce());
    *c.mutable_migrate() = step;
    return Propose(reactor, response, c);
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
    grpc::Status s = AuthorizeOperator(*context, "ChangeMembership");
    if (s.ok()) s = CheckMembershipChange(*request);
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
    const grpc::Status room = writes > 0 ? Room() : grpc::Status::OK;
    for (int i = 0; i < writes; ++i) {
      const pb::Command& c = request->writes(i).command();
      PendingWrite w{nullptr, response->mutable_writes(i), deadline, batch, i};
      if (grpc::Status s = room.ok() ? CheckCommand(c) : room; !s.ok()) {
        w.Finish(s);
        continue;
      }
      proposals.push_back(
          Proposal{c.SerializeAsString(), c.session(), c.seq(), c.apply_by_ms(), w});
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
  // Whether the leader's disk has room for more writes (disk_space.h).
  grpc::Status Room() {
    absl::Status room = r_->disk_space_.CheckWritable();
    if (room.ok()) return grpc::Status::OK;
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, std::string(room.message()));
  }

  // A write that passed validation goes to the loop, which proposes it and answers once it
  // is applied; a replica that is not the leader answers at once with a hint instead.
  grpc::ServerUnaryReactor* Propose(grpc::ServerUnaryReactor* reactor, pb::WriteResponse* response,
                                    const pb::Command& c) {
    if (!r_->is_leader_.load(std::memory_order_relaxed)) {
      r_->FillHint(response->mutable_hint());
      reactor->Finish(grpc::Status::OK);
      return reactor;
    }
    if (grpc::Status room = Room(); !room.ok()) {
      reactor->Finish(room);
      return reactor;
    }
    Proposal p{
        c.SerializeAsString(), c.session(), c.seq(), c.apply_by_ms(),
        PendingWrite{reactor, response,
                     Clock::now() + std::chrono::milliseconds(r_->options_.write_timeout_ms)}};
    r_->Enqueue([&](Inbox& in) { in.proposals.push_back(std::move(p)); });
    return reactor;
  }

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

std::unique_ptr<grpc::Service> Replica::NewClientService(Replica* replica) {
  return std::make_unique<ClientService>(replica);
}

}  // namespace penncloud::kvs::server
