#include "kvs/server/peer_transport.h"

#include <chrono>

#include "common/grpc_tls.h"
#include "common/log.h"
#include "grpcpp/grpcpp.h"
#include "kvs/server/paxos_traffic.h"

namespace penncloud::kvs::server {
namespace {
constexpr size_t kMaxBatchBytes = 16 << 20;
constexpr size_t kMaxQueuedMessages = 100000;
}  // namespace

PeerTransport::PeerTransport(uint64_t self, const std::map<uint64_t, std::string>& peers,
                             grpc::CompletionQueue* cq)
    : self_(self), cq_(cq) {
  for (const auto& [id, address] : peers) AddPeer(id, address);
}

void PeerTransport::AddPeer(uint64_t id, const std::string& address) {
  if (id == self_ || address.empty()) return;
  std::lock_guard<std::mutex> lock(peers_mu_);
  if (peers_.contains(id)) return;
  auto peer = std::make_unique<Peer>(id);
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(64 << 20);
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // A restarted or reconnected peer must be reachable again within a fraction of the
  // election timeout.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 20);
  // gRPC also takes this as the least time a connection attempt (TCP and TLS handshake)
  // gets: a few ms never complete on a loaded machine (the multi-host test saw it).
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 5000);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 1000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 1000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  peer->stub =
      pb::KvsPeer::NewStub(grpc::CreateCustomChannel(address, tls::ChannelCredentials(), args));
  peers_.emplace(id, std::move(peer));
}

PeerTransport::~PeerTransport() {
  stop_ = true;
  // Every RPC has a deadline, so in-flight ones end soon; none starts after stop_.
  for (auto& [id, peer] : peers_) {
    std::unique_lock<std::mutex> lock(peer->mu);
    peer->idle_cv.wait(lock, [&] { return !peer->in_flight; });
  }
}

PeerTransport::Peer* PeerTransport::Find(uint64_t id) {
  std::lock_guard<std::mutex> lock(peers_mu_);
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : it->second.get();
}

pb::KvsPeer::Stub* PeerTransport::Stub(uint64_t peer) {
  Peer* p = Find(peer);
  return p == nullptr ? nullptr : p->stub.get();
}

struct PeerTransport::Call final : LoopTag {
  Call(PeerTransport* t, Peer* p) : transport(t), peer(p) {}
  void Proceed(bool) override {
    const grpc::Status result = status;  // Done deletes this call
    transport->Done(peer, this, result);
  }

  PeerTransport* transport;
  Peer* peer;
  grpc::ClientContext context;
  pb::PeerBatch batch;
  pb::PeerAck ack;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<pb::PeerAck>> rpc;
  std::chrono::steady_clock::time_point started;
};

void PeerTransport::Send(paxos::Message message) {
  if (stop_) return;
  Peer* found = Find(message.to());
  if (found == nullptr) return;
  Peer& peer = *found;
  std::vector<paxos::Message> batch;
  {
    std::lock_guard<std::mutex> lock(peer.mu);
    // A peer that is down must not make us hold unbounded memory: drop, the core resends.
    if (peer.queue.size() >= kMaxQueuedMessages) {
      peer.metrics.dropped.Inc();
      return;
    }
    CountPaxosMessage(Direction::kSent, message);
    peer.queue.push_back(std::move(message));
    if (peer.in_flight) {  // the running RPC's completion sends it
      peer.metrics.queued.Set(static_cast<double>(peer.queue.size()));
      return;
    }
    peer.in_flight = true;
    batch.swap(peer.queue);
    peer.metrics.queued.Set(0);
  }
  Start(&peer, std::move(batch));
}

void PeerTransport::Start(Peer* peer, std::vector<paxos::Message> messages) {
  auto* call = new Call(this, peer);
  call->batch.set_from(self_);
  size_t bytes = 0;
  size_t i = 0;
  for (; i < messages.size() && bytes < kMaxBatchBytes; ++i) {
    std::string* out = call->batch.add_messages();
    messages[i].SerializeToString(out);
    bytes += out->size();
  }
  if (i < messages.size()) {
    // Too much for one RPC: the rest goes first in the next one, in order.
    std::lock_guard<std::mutex> lock(peer->mu);
    peer->queue.insert(peer->queue.begin(), std::make_move_iterator(messages.begin() + i),
                       std::make_move_iterator(messages.end()));
    peer->metrics.queued.Set(static_cast<double>(peer->queue.size()));
  }
  peer->metrics.in_flight.Set(static_cast<double>(i));
  call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  call->started = std::chrono::steady_clock::now();
  call->rpc = peer->stub->PrepareAsyncSend(&call->context, call->batch, cq_);
  call->rpc->StartCall();
  call->rpc->Finish(&call->ack, &call->status, call);
}

void PeerTransport::Done(Peer* peer, Call* call, const grpc::Status& status) {
  const auto took = std::chrono::steady_clock::now() - call->started;
  if (took > std::chrono::milliseconds(100)) {
    PC_LOG(kWarn, "kvs.slow_peer_send")
    ("peer", peer->id)("ms", std::chrono::duration_cast<std::chrono::milliseconds>(took).count())(
        "messages", call->batch.messages_size())("ok", status.ok());
  }
  (status.ok() ? peer->metrics.batches_ok : peer->metrics.batches_failed).Inc();
  if (!status.ok()) {
    PC_LOG(kDebug, "kvs.peer_send_failed")("peer", peer->id)("error", status.error_message());
  }
  delete call;
  std::vector<paxos::Message> next;
  {
    std::lock_guard<std::mutex> lock(peer->mu);
    if (stop_ || peer->queue.empty()) {
      peer->in_flight = false;
      peer->metrics.in_flight.Set(0);
      peer->idle_cv.notify_all();
      return;
    }
    next.swap(peer->queue);
    peer->metrics.queued.Set(0);
  }
  Start(peer, std::move(next));
}

}  // namespace penncloud::kvs::server
