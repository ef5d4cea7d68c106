// The replica's side of the Ready driver (kvs/paxos/ready_driver.h): what persist, send,
// apply and the read answers mean for a kvs_server. The order is the driver's.
#include <chrono>
#include <optional>
#include <vector>

#include "common/log.h"
#include "kvs/paxos/ready_driver.h"
#include "kvs/server/fatal.h"
#include "kvs/server/replica.h"

namespace penncloud::kvs::server {
namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

class Replica::ReadyHandler final : public paxos::ReadyHooks {
 public:
  explicit ReadyHandler(Replica& r) : r_(r) {}

  bool InstallSnapshot(const paxos::SnapshotMeta& meta) override {
    r_.InstallSnapshot(meta);
    return true;
  }
  bool Persist(const std::vector<paxos::EntryPtr>& entries,
               const std::optional<paxos::HardState>& hard_state) override {
    storage::LogWrite write;
    write.entries.reserve(entries.size());
    for (const paxos::EntryPtr& e : entries) {
      write.entries.emplace_back(e->slot(), e->SerializeAsString());
    }
    bool sync = !write.entries.empty();
    if (hard_state) {
      // A new promise must be on disk before anyone hears of it. A higher commit alone
      // need not be written at all: every entry it covers was synced before, the restart
      // takes the applied slot as committed, and a commit index lost in a crash is learnt
      // again from the peers. So a hard state that moves only the commit waits for the
      // next synced write (every Ready with entries), and a leader does not spend a store
      // write on each slot it commits.
      const paxos::Ballot& promised = hard_state->promised();
      if (promised.round() != r_.durable_promise_.round() ||
          promised.node() != r_.durable_promise_.node()) {
        sync = true;
        r_.durable_promise_ = promised;
      }
      r_.unwritten_hard_state_ = hard_state->SerializeAsString();
    }
    if (!sync) return true;
    if (!r_.unwritten_hard_state_.empty()) {
      write.hard_state = std::move(r_.unwritten_hard_state_);
      r_.unwritten_hard_state_.clear();
    }
    // The one fsync that covers everything gathered since the last one. It runs beside
    // the loop, which meanwhile takes in what arrives.
    const auto started = Clock::now();
    absl::Status s;
    r_.persist_->Run([&] { s = r_.store_->Persist(write, true); });
    if (!s.ok()) Fatal("kvs.persist_failed", s);
    const auto took = Clock::now() - started;
    if (took > std::chrono::milliseconds(100)) {
      PC_LOG(kWarn, "kvs.slow_persist")
      ("ms", std::chrono::duration_cast<std::chrono::milliseconds>(took).count())(
          "entries", write.entries.size());
    }
    return true;
  }
  bool Send(paxos::Message message) override {
    r_.transport_->Send(std::move(message));
    return true;
  }
  bool Apply(const paxos::Entry& entry) override {
    r_.ApplyEntry(entry);
    return true;
  }
  bool ReleaseRead(const paxos::ReadState& read) override {
    auto it = r_.pending_reads_.find(read.id);
    if (it == r_.pending_reads_.end()) return true;
    r_.ServeRead(it->second);
    r_.pending_reads_.erase(it);
    return true;
  }
  void FailRead(uint64_t id) override {
    auto it = r_.pending_reads_.find(id);
    if (it == r_.pending_reads_.end()) return;
    PendingRead& read = it->second;
    FillHint(read.hint());
    read.Finish(grpc::Status::OK);
    r_.pending_reads_.erase(it);
  }
  void Dropped(const std::string& bytes) override {
    pb::Command c;
    if (!c.ParseFromString(bytes)) return;
    r_.apply_queue_.Dropped(c.session(), c.seq(), [this](pb::LeaderHint* hint) { FillHint(hint); });
  }

 private:
  void FillHint(pb::LeaderHint* hint) { r_.FillHint(hint); }

  Replica& r_;
};

void Replica::HandleReady() {
  ReadyHandler hooks(*this);
  paxos::HandleReady(*node_, options_.id, hooks);
}

}  // namespace penncloud::kvs::server
