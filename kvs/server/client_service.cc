// The replica's client API, KvsService (docs/kvs.md), served on the loop's completion queue
// (loop_queue.h): as a call arrives, the loop thread checks the caller and the request
// (request_checks.h) and puts it in the inbox of the loop's next turn; a replica that is
// not the leader answers at once with a hint. The loop answers the rest.
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

class Replica::ClientService final : public LoopService {
 public:
  ClientService(Replica* replica, LoopQueue* queue) : r_(replica) {
    using S = pb::KvsService::AsyncService;
    Bind(write_, &S::RequestWrite, &ClientService::Write, queue);
    Bind(get_, &S::RequestGet, &ClientService::Get, queue);
    Bind(list_, &S::RequestList, &ClientService::List, queue);
    Bind(watch_, &S::RequestWatch, &ClientService::Watch, queue);
    watch_.notify_cancel = true;
    Bind(install_map_, &S::RequestInstallMap, &ClientService::InstallMap, queue);
    Bind(migrate_, &S::RequestMigrate, &ClientService::Migrate, queue);
    Bind(list_rows_, &S::RequestListRows, &ClientService::ListRows, queue);
    Bind(change_membership_, &S::RequestChangeMembership, &ClientService::ChangeMembership, queue);
    Bind(batch_, &S::RequestBatch, &ClientService::Batch, queue);
    Bind(status_, &S::RequestStatus, &ClientService::Status, queue);
  }

  grpc::Service* service() override { return &service_; }
  void Listen() override {
    UnaryCall<pb::WriteRequest, pb::WriteResponse>::Listen(&write_);
    UnaryCall<pb::GetRequest, pb::GetResponse>::Listen(&get_);
    UnaryCall<pb::ListRequest, pb::ListResponse>::Listen(&list_);
    UnaryCall<pb::WatchRequest, pb::WatchResponse>::Listen(&watch_);
    UnaryCall<pb::InstallMapRequest, pb::WriteResponse>::Listen(&install_map_);
    UnaryCall<pb::MigrateRequest, pb::WriteResponse>::Listen(&migrate_);
    UnaryCall<pb::ListRowsRequest, pb::ListRowsResponse>::Listen(&list_rows_);
    UnaryCall<pb::ChangeMembershipRequest, pb::ChangeMembershipResponse>::Listen(
        &change_membership_);
    UnaryCall<pb::BatchRequest, pb::BatchResponse>::Listen(&batch_);
    UnaryCall<pb::StatusRequest, pb::StatusResponse>::Listen(&status_);
  }

 private:
  // Fills `method` so that its calls are asked for through `request` and served by
  // `serve` of this object.
  template <typename Req, typename Resp, typename RequestFn>
  void Bind(UnaryMethod<Req, Resp>& method, RequestFn request,
            void (ClientService::*serve)(grpc::ServerContext&, const Req&, Resp&, CallHandle*),
            LoopQueue* queue) {
    method.request = [this, request](grpc::ServerContext* context, Req* req,
                                     grpc::ServerAsyncResponseWriter<Resp>* writer,
                                     grpc::ServerCompletionQueue* cq, void* tag) {
      (service_.*request)(context, req, writer, cq, cq, tag);
    };
    method.serve = [this, serve](grpc::ServerContext& context, const Req& req, Resp& resp,
                                 CallHandle* call) { (this->*serve)(context, req, resp, call); };
    method.queue = queue;
  }

  void Write(grpc::ServerContext& context, const pb::WriteRequest& request,
             pb::WriteResponse& response, CallHandle* call) {
    r_->CountRequest();
    const pb::Command& c = request.command();
    if (grpc::Status s = AuthorizeWrites(context, "Write", {&c}); !s.ok()) {
      call->Finish(s);
      return;
    }
    if (grpc::Status s = CheckCommand(c); !s.ok()) {
      call->Finish(s);
      return;
    }
    Propose(call, response, c);
  }

  void Get(grpc::ServerContext& context, const pb::GetRequest& request, pb::GetResponse& response,
           CallHandle* call) {
    r_->CountRequest();
    PendingRead read;
    read.call = call;
    read.get = &request;
    read.get_response = &response;
    grpc::Status s = AuthorizeReads(context, "Get");
    if (s.ok()) s = CheckCell(request.row(), request.column());
    StartRead(read, s, response.mutable_hint());
  }

  void List(grpc::ServerContext& context, const pb::ListRequest& request,
            pb::ListResponse& response, CallHandle* call) {
    r_->CountRequest();
    grpc::Status s = AuthorizeReads(context, "List");
    if (s.ok()) s = CheckCell(request.row(), request.after());
    if (s.ok()) s = CheckListLimit(request.limit());
    PendingRead read;
    read.call = call;
    read.list = &request;
    read.list_response = &response;
    StartRead(read, s, response.mutable_hint());
  }

  // A watch takes the read path (read index, then the applied state) and may be parked
  // there (watch_table.h); its call tells it if the caller goes away.
  void Watch(grpc::ServerContext& context, const pb::WatchRequest& request,
             pb::WatchResponse& response, CallHandle* call) {
    r_->CountRequest();
    PendingRead read;
    read.call = call;
    read.watch = &request;
    read.watcher = new WatchCall(r_->watches_, call, &response);
    read.watch_response = &response;
    grpc::Status s = AuthorizeReads(context, "Watch");
    if (s.ok()) s = CheckWatchRequest(request);
    StartRead(read, s, response.mutable_hint());
  }

  void InstallMap(grpc::ServerContext& context, const pb::InstallMapRequest& request,
                  pb::WriteResponse& response, CallHandle* call) {
    r_->CountRequest();
    if (grpc::Status s = r_->AuthorizeInstallMap(context); !s.ok()) {
      call->Finish(s);
      return;
    }
    // Only valid maps enter the log: every replica must be able to route by it.
    if (absl::StatusOr<shard::ClusterMap> map = shard::ClusterMap::Parse(request.map());
        !map.ok()) {
      call->Finish(Invalid(absl::StrCat("bad cluster map: ", map.status().message())));
      return;
    }
    pb::Command c;
    c.set_op(pb::OP_SET_MAP);
    c.set_seq(Nonce());
    c.set_map(request.map());
    Propose(call, response, c);
  }

  void Migrate(grpc::ServerContext& context, const pb::MigrateRequest& request,
               pb::WriteResponse& response, CallHandle* call) {
    r_->CountRequest();
    if (grpc::Status s = AuthorizeOperator(context, "Migrate"); !s.ok()) {
      call->Finish(s);
      return;
    }
    const pb::MigrateStep& step = request.step();
    if (step.kind() == pb::MIGRATE_UNSPECIFIED || step.migration().id() == 0) {
      call->Finish(Invalid("migrate step without kind or migration id"));
      return;
    }
    pb::Command c;
    c.set_op(pb::OP_MIGRATE);
    c.set_seq(Nonce());
    *c.mutable_migrate() = step;
    Propose(call, response, c);
  }

  void ListRows(grpc::ServerContext& context, const pb::ListRowsRequest& request,
                pb::ListRowsResponse& response, CallHandle* call) {
    r_->CountRequest();
    grpc::Status s = AuthorizeOperator(context, "ListRows");
    if (s.ok() && request.after().size() > kMaxKeyBytes) {
      s = Invalid(absl::StrCat("row of ", request.after().size(), " bytes exceeds ", kMaxKeyBytes));
    }
    if (s.ok()) s = CheckListLimit(request.limit());
    PendingRead read;
    read.call = call;
    read.rows = &request;
    read.rows_response = &response;
    StartRead(read, s, response.mutable_hint());
  }

  void ChangeMembership(grpc::ServerContext& context, const pb::ChangeMembershipRequest& request,
                        pb::ChangeMembershipResponse& response, CallHandle* call) {
    r_->CountRequest();
    grpc::Status s = AuthorizeOperator(context, "ChangeMembership");
    if (s.ok()) s = CheckMembershipChange(request);
    if (!s.ok()) {
      call->Finish(s);
      return;
    }
    if (!r_->is_leader_.load(std::memory_order_relaxed)) {
      r_->FillHint(response.mutable_hint());
      call->Finish(grpc::Status::OK);
      return;
    }
    PendingChange change;
    change.call = call;
    change.response = &response;
    change.request = request;
    change.deadline = Clock::now() + std::chrono::milliseconds(r_->options_.write_timeout_ms);
    r_->Accept([&](Inbox& in) { in.changes.push_back(std::move(change)); });
  }

  // The items go to the loop's next turn together, where each takes the path of its own
  // call: the same checks, proposals and read index, the same answers.
  void Batch(grpc::ServerContext& context, const pb::BatchRequest& request,
             pb::BatchResponse& response, CallHandle* call) {
    r_->CountRequest();
    const int writes = request.writes_size();
    const int gets = request.gets_size();
    std::vector<const pb::Command*> commands;
    commands.reserve(writes);
    for (const pb::WriteRequest& w : request.writes()) commands.push_back(&w.command());
    grpc::Status allowed =
        writes > 0 ? AuthorizeWrites(context, "Batch", commands) : AuthorizeReads(context, "Batch");
    if (!allowed.ok()) {
      call->Finish(allowed);
      return;
    }
    if (!r_->is_leader_.load(std::memory_order_relaxed) || writes + gets == 0) {
      if (writes + gets > 0) r_->FillHint(response.mutable_hint());
      call->Finish(grpc::Status::OK);
      return;
    }
    for (int i = 0; i < writes; ++i) {
      response.add_writes();
      response.add_write_status();
    }
    for (int i = 0; i < gets; ++i) {
      response.add_gets();
      response.add_get_status();
    }
    auto* batch = new BatchCall{call, &response, writes + gets + 1};
    const auto deadline = Clock::now() + std::chrono::milliseconds(r_->options_.write_timeout_ms);
    const grpc::Status room = writes > 0 ? Room() : grpc::Status::OK;
    r_->Accept([&](Inbox& in) {
      for (int i = 0; i < writes; ++i) {
        const pb::Command& c = request.writes(i).command();
        PendingWrite w{nullptr, response.mutable_writes(i), deadline, batch, i};
        if (grpc::Status s = room.ok() ? CheckCommand(c) : room; !s.ok()) {
          w.Finish(s);
          continue;
        }
        in.proposals.push_back(
            Proposal{c.SerializeAsString(), c.session(), c.seq(), c.apply_by_ms(), w});
      }
      for (int i = 0; i < gets; ++i) {
        PendingRead read;
        read.batch = batch;
        read.index = i;
        read.get = &request.gets(i);
        read.get_response = response.mutable_gets(i);
        if (grpc::Status s = CheckCell(read.get->row(), read.get->column()); !s.ok()) {
          read.Finish(s);
          continue;
        }
        in.reads.push_back(read);
      }
    });
    batch->Release();  // the handler's own count: answers now if every item was refused
  }

  void Status(grpc::ServerContext& context, const pb::StatusRequest&, pb::StatusResponse& response,
              CallHandle* call) {
    r_->CountRequest();
    if (grpc::Status s = AuthorizeReads(context, "Status"); !s.ok()) {
      call->Finish(s);
      return;
    }
    response = r_->StatusNow();
    call->Finish(grpc::Status::OK);
  }

  // Whether the leader's disk has room for more writes (disk_space.h).
  grpc::Status Room() {
    absl::Status room = r_->disk_space_.CheckWritable();
    if (room.ok()) return grpc::Status::OK;
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, std::string(room.message()));
  }

  // A write that passed validation goes to the loop, which proposes it and answers once it
  // is applied; a replica that is not the leader answers at once with a hint instead.
  void Propose(CallHandle* call, pb::WriteResponse& response, const pb::Command& c) {
    if (!r_->is_leader_.load(std::memory_order_relaxed)) {
      r_->FillHint(response.mutable_hint());
      call->Finish(grpc::Status::OK);
      return;
    }
    if (grpc::Status room = Room(); !room.ok()) {
      call->Finish(room);
      return;
    }
    Proposal p{
        c.SerializeAsString(), c.session(), c.seq(), c.apply_by_ms(),
        PendingWrite{call, &response,
                     Clock::now() + std::chrono::milliseconds(r_->options_.write_timeout_ms)}};
    r_->Accept([&](Inbox& in) { in.proposals.push_back(std::move(p)); });
  }

  // A read that passed validation goes to the loop, which serves it once the core says it is
  // safe; a replica that is not the leader answers at once with a hint instead.
  void StartRead(PendingRead read, const grpc::Status& valid, pb::LeaderHint* hint) {
    if (!valid.ok()) {
      read.Finish(valid);
      return;
    }
    if (!r_->is_leader_.load(std::memory_order_relaxed)) {
      r_->FillHint(hint);
      read.Finish(grpc::Status::OK);
      return;
    }
    r_->Accept([&](Inbox& in) { in.reads.push_back(read); });
  }

  Replica* r_;
  pb::KvsService::AsyncService service_;
  UnaryMethod<pb::WriteRequest, pb::WriteResponse> write_;
  UnaryMethod<pb::GetRequest, pb::GetResponse> get_;
  UnaryMethod<pb::ListRequest, pb::ListResponse> list_;
  UnaryMethod<pb::WatchRequest, pb::WatchResponse> watch_;
  UnaryMethod<pb::InstallMapRequest, pb::WriteResponse> install_map_;
  UnaryMethod<pb::MigrateRequest, pb::WriteResponse> migrate_;
  UnaryMethod<pb::ListRowsRequest, pb::ListRowsResponse> list_rows_;
  UnaryMethod<pb::ChangeMembershipRequest, pb::ChangeMembershipResponse> change_membership_;
  UnaryMethod<pb::BatchRequest, pb::BatchResponse> batch_;
  UnaryMethod<pb::StatusRequest, pb::StatusResponse> status_;
};

std::unique_ptr<Replica::LoopService> Replica::NewClientService(Replica* replica,
                                                                LoopQueue* queue) {
  return std::make_unique<ClientService>(replica, queue);
}

}  // namespace penncloud::kvs::server
