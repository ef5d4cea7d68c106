// The replica's peer API, KvsPeer, served on the loop's completion queue (loop_queue.h):
// Paxos messages from the group's replicas (checked against their certificates and the
// membership) go straight into the loop's next turn; the streams of snapshots and
// migrating ranges are read from the store by a thread of their own.
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/grpc_authz.h"
#include "common/log.h"
#include "kvs/server/paxos_traffic.h"
#include "kvs/server/replica.h"
#include "kvs/server/request_checks.h"

namespace penncloud::kvs::server {
namespace {
constexpr size_t kSnapshotChunkBytes = 1 << 20;
}  // namespace

class Replica::PeerService final : public LoopService {
 public:
  PeerService(Replica* replica, LoopQueue* queue) : r_(replica) {
    send_.request = [this](grpc::ServerContext* context, pb::PeerBatch* batch,
                           grpc::ServerAsyncResponseWriter<pb::PeerAck>* writer,
                           grpc::ServerCompletionQueue* cq, void* tag) {
      service_.RequestSend(context, batch, writer, cq, cq, tag);
    };
    send_.serve = [this](grpc::ServerContext& context, const pb::PeerBatch& batch, pb::PeerAck&,
                         CallHandle* call) { Send(context, batch, call); };
    send_.queue = queue;
    snapshot_.request = [this](grpc::ServerContext* context, pb::SnapshotRequest* request,
                               grpc::ServerAsyncWriter<pb::SnapshotChunk>* writer,
                               grpc::ServerCompletionQueue* cq, void* tag) {
      service_.RequestFetchSnapshot(context, request, writer, cq, cq, tag);
    };
    snapshot_.produce = [this](grpc::ServerContext& context, const pb::SnapshotRequest& request,
                               const std::function<bool(const pb::SnapshotChunk&)>& write) {
      return FetchSnapshot(context, request, write);
    };
    snapshot_.queue = queue;
    snapshot_.running = &replica->streams_running_;
    range_.request = [this](grpc::ServerContext* context, pb::FetchRangeRequest* request,
                            grpc::ServerAsyncWriter<pb::RangeChunk>* writer,
                            grpc::ServerCompletionQueue* cq, void* tag) {
      service_.RequestFetchRange(context, request, writer, cq, cq, tag);
    };
    range_.produce = [this](grpc::ServerContext& context, const pb::FetchRangeRequest& request,
                            const std::function<bool(const pb::RangeChunk&)>& write) {
      return FetchRange(context, request, write);
    };
    range_.queue = queue;
    range_.running = &replica->streams_running_;
  }

  grpc::Service* service() override { return &service_; }
  void Listen() override {
    UnaryCall<pb::PeerBatch, pb::PeerAck>::Listen(&send_);
    StreamCall<pb::SnapshotRequest, pb::SnapshotChunk>::Listen(&snapshot_);
    StreamCall<pb::FetchRangeRequest, pb::RangeChunk>::Listen(&range_);
  }

 private:
  grpc::Status FetchRange(grpc::ServerContext& context, const pb::FetchRangeRequest& request,
                          const std::function<bool(const pb::RangeChunk&)>& write) {
    if (grpc::Status s = AuthorizeOperator(context, "FetchRange"); !s.ok()) return s;
    // Only once FREEZE is applied (and on disk) here is the range final: no write to it
    // comes after FREEZE in the log.
    const pb::MigrationStep step = r_->store_->StepOf(request.migration().id());
    if (step != pb::STEP_FROZEN && step != pb::STEP_RELEASED) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          absl::StrCat("kvs: migration ", request.migration().id(),
                                       " is not frozen at replica ", r_->options_.id));
    }
    absl::Status s = r_->store_->DumpRange(request.migration(), kSnapshotChunkBytes, write);
    if (!s.ok()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, s.ToString());
    return grpc::Status::OK;
  }

  void Send(grpc::ServerContext& context, const pb::PeerBatch& batch, CallHandle* call) {
    if (grpc::Status s = r_->AuthorizePeer(context, "Send", batch.from()); !s.ok()) {
      call->Finish(s);
      return;
    }
    std::vector<paxos::Message> messages;
    messages.reserve(batch.messages_size());
    for (const std::string& bytes : batch.messages()) {
      paxos::Message m;
      if (!m.ParseFromString(bytes)) {
        call->Finish(Invalid("malformed Paxos message"));
        return;
      }
      // The certificate vouched for the batch's sender; each message must be its own.
      if (m.from() != batch.from()) {
        call->Finish(tls::Deny(context, "Send", "a message names another sender"));
        return;
      }
      if (m.to() != r_->options_.id) continue;  // misrouted (e.g. a stale proxy mapping)
      CountPaxosMessage(Direction::kReceived, m);
      if (m.type() == paxos::MSG_SNAPSHOT) {
        // A snapshot no newer than what is applied here brings nothing: peers that refuse
        // a candidate's prepare offer theirs on every try (docs/paxos.md), and each
        // download would copy the whole store.
        if (m.snapshot().slot() <= r_->store_->AppliedSlot()) continue;
        if (r_->loop_stopped_) continue;  // shutting down: no new download
        // The data comes in a separate stream; the message is stepped once it is here.
        r_->FetchSnapshot(std::move(m));
        continue;
      }
      messages.push_back(std::move(m));
    }
    if (!messages.empty()) {
      r_->Accept([&](Inbox& in) {
        for (auto& m : messages) in.messages.push_back(std::move(m));
      });
    }
    call->Finish(grpc::Status::OK);
  }

  grpc::Status FetchSnapshot(grpc::ServerContext& context, const pb::SnapshotRequest& request,
                             const std::function<bool(const pb::SnapshotChunk&)>& write) {
    if (grpc::Status s = r_->AuthorizePeer(context, "FetchSnapshot", request.from()); !s.ok()) {
      return s;
    }
    absl::Status s = r_->store_->DumpSnapshot(kSnapshotChunkBytes, write);
    const uint64_t peer = request.from();
    r_->Enqueue([&](Inbox& in) { in.snapshot_reports.emplace_back(peer, s.ok()); });
    PC_LOG(kInfo, "kvs.snapshot_sent")("peer", peer)("ok", s.ok());
    if (!s.ok()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, s.ToString());
    return grpc::Status::OK;
  }

  Replica* r_;
  pb::KvsPeer::AsyncService service_;
  UnaryMethod<pb::PeerBatch, pb::PeerAck> send_;
  StreamMethod<pb::SnapshotRequest, pb::SnapshotChunk> snapshot_;
  StreamMethod<pb::FetchRangeRequest, pb::RangeChunk> range_;
};

std::unique_ptr<Replica::LoopService> Replica::NewPeerService(Replica* replica, LoopQueue* queue) {
  return std::make_unique<PeerService>(replica, queue);
}

}  // namespace penncloud::kvs::server
