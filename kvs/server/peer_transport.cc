#include "kvs/server/peer_transport.h"

#include <chrono>

#include "common/log.h"
#include "grpcpp/grpcpp.h"

namespace penncloud::kvs::server {
namespace {
constexpr size_t kMaxBatchBytes = 16 << 20;
constexpr size_t kMaxQueuedMessages = 100000;
}  // namespace

PeerTransport::PeerTransport(uint64_t self, const std::map<uint64_t, std::string>& peers)
    : self_(self) {
  for (const auto& [id, address] : peers) {
    if (id == self_) continue;
    auto peer = std::make_unique<Peer>();
    peer->id = id;
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(64 << 20);
    args.SetMaxReceiveMessageSize(64 << 20);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    // A restarted or reconnected peer must be reachable again within a fraction of the
    // election timeout.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 20);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 20);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 1000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 1000);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    peer->stub = pb::KvsPeer::NewStub(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
    Peer* raw = peer.get();
    peers_.emplace(id, std::move(peer));
    raw->thread = std::thread([this, raw] { Run(raw); });
  }
}

PeerTransport::~PeerTransport() {
  stop_ = true;
  for (auto& [id, peer] : peers_) {
    { std::lock_guard<std::mutex> lock(peer->mu); }
    peer->cv.notify_all();
    peer->thread.join();
  }
}

pb::KvsPeer::Stub* PeerTransport::Stub(uint64_t peer) {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : it->second->stub.get();
}

void PeerTransport::Send(paxos::Message message) {
  auto it = peers_.find(message.to());
  if (it == peers_.end()) return;
  Peer& peer = *it->second;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(peer.mu);
    // A peer that is down must not make us hold unbounded memory: drop, the core resends.
    if (peer.queue.size() >= kMaxQueuedMessages) return;
    peer.queue.push_back(std::move(message));
    wake = peer.sleeping;  // a sender busy with an RPC picks the message up after it
  }
  if (wake) peer.cv.notify_one();
}

void PeerTransport::Run(Peer* peer) {
  std::vector<paxos::Message> pending;
  while (!stop_) {
    {
      std::unique_lock<std::mutex> lock(peer->mu);
      peer->sleeping = true;
      peer->cv.wait(lock, [&] { return stop_ || !peer->queue.empty(); });
      peer->sleeping = false;
      if (stop_) return;
      pending.swap(peer->queue);
    }
    size_t i = 0;
    while (i < pending.size() && !stop_) {
      pb::PeerBatch batch;
      batch.set_from(self_);
      size_t bytes = 0;
      for (; i < pending.size() && bytes < kMaxBatchBytes; ++i) {
        std::string* out = batch.add_messages();
        pending[i].SerializeToString(out);
        bytes += out->size();
      }
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
      pb::PeerAck ack;
      const auto started = std::chrono::steady_clock::now();
      grpc::Status status = peer->stub->Send(&context, batch, &ack);
      const auto took = std::chrono::steady_clock::now() - started;
      if (took > std::chrono::milliseconds(100)) {
        PC_LOG(kWarn, "kvs.slow_peer_send")
        ("peer", peer->id)("ms",
                           std::chrono::duration_cast<std::chrono::milliseconds>(took).count())(
            "messages", batch.messages_size())("ok", status.ok());
      }
      if (!status.ok()) {
        PC_LOG(kDebug, "kvs.peer_send_failed")("peer", peer->id)("error", status.error_message());
      }
    }
    pending.clear();
  }
}

}  // namespace penncloud::kvs::server
