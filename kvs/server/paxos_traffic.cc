#include "kvs/server/paxos_traffic.h"

#include <array>
#include <string>

#include "common/metrics.h"

namespace penncloud::kvs::server {
namespace {

constexpr int kHeartbeat = paxos::MessageType_MAX + 1;

class PaxosTraffic {
 public:
  PaxosTraffic() {
    metrics::CounterFamily& family = metrics::Default().Counter(
        "kvs_paxos_messages_total",
        "Paxos messages by direction and type (HEARTBEAT: an ACCEPT without entries)",
        {"direction", "type"});
    for (int d = 0; d < 2; ++d) {
      for (int t = 0; t <= kHeartbeat; ++t) {
        const std::string type = t == kHeartbeat || !paxos::MessageType_IsValid(t)
                                     ? "HEARTBEAT"
                                     : paxos::MessageType_Name(t);
        cells_[d][t] = &family.With({d == 0 ? "sent" : "received", type});
      }
    }
  }

  void Count(Direction direction, const paxos::Message& m) {
    int type = m.type();
    if (type < 0 || type > paxos::MessageType_MAX) return;
    if (m.type() == paxos::MSG_ACCEPT && m.entries_size() == 0) type = kHeartbeat;
    cells_[static_cast<int>(direction)][type]->Inc();
  }

 private:
  std::array<std::array<metrics::CounterCell*, kHeartbeat + 1>, 2> cells_{};
};

class DroppedMessages {
 public:
  DroppedMessages() {
    metrics::CounterFamily& family = metrics::Default().Counter(
        "kvs_paxos_dropped_messages_total",
        "peer messages the consensus core refused before they touched any state, by reason",
        {"reason"});
    for (size_t r = 1; r < paxos::kDropReasons; ++r) {
      cells_[r] = &family.With({paxos::DropReasonName(paxos::DropReason(r))});
    }
  }
  void Count(paxos::DropReason reason) {
    const size_t r = static_cast<size_t>(reason);
    if (r > 0 && r < paxos::kDropReasons) cells_[r]->Inc();
  }

 private:
  std::array<metrics::CounterCell*, paxos::kDropReasons> cells_{};
};

}  // namespace

void CountDroppedMessage(paxos::DropReason reason) {
  static DroppedMessages dropped;
  dropped.Count(reason);
}

void CountPaxosMessage(Direction direction, const paxos::Message& message) {
  static PaxosTraffic traffic;
  traffic.Count(direction, message);
}

}  // namespace penncloud::kvs::server
