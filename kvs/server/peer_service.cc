// The replica's peer API, KvsPeer: Paxos messages from the group's replicas (checked
// against their certificates and the membership), and the streams of snapshots and
// migrating ranges.
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

std::unique_ptr<grpc::Service> Replica::NewPeerService(Replica* replica) {
  return std::make_unique<PeerService>(replica);
}

}  // namespace penncloud::kvs::server
