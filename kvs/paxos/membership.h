// Which membership governs which slot. A membership-change entry chosen at slot s governs
// the slots from s + window on (window = Membership.window, the pipelining bound alpha):
// since a leader proposes slot t only once every slot up to t - window is chosen, the
// membership of every slot a leader may propose is already decided when it proposes it.
#pragma once

#include <cstdint>
#include <vector>

#include "kvs/paxos/node.h"

namespace penncloud::paxos {

bool IsVoter(const Membership& m, NodeId id);
bool IsMember(const Membership& m, NodeId id);  // voter or learner
size_t QuorumSize(const Membership& m);         // a majority of the voters

// A membership and the slots it governs: [from, next span's from).
struct Span {
  Slot from = 0;
  Slot source = 0;  // the slot of the entry that introduced it (0: the group's start)
  Membership membership;
  uint64_t voter_mask = 0;  // set by the leader: bits of its peer table
};

class ConfigTracker {
 public:
  // Starts from a snapshot's memberships (introduced at or before `snapshot_slot`).
  void Reset(const ConfigState& state, Slot snapshot_slot);

  // The membership-change entry at `slot` is chosen.
  void OnChosen(Slot slot, const Membership& membership);

  const Span& SpanFor(Slot slot) const;
  const Membership& ForSlot(Slot slot) const { return SpanFor(slot).membership; }
  // The spans governing any slot >= `slot`, in order.
  std::vector<const Span*> SpansFrom(Slot slot) const;
  std::vector<Span>& spans() { return spans_; }
  const std::vector<Span>& spans() const { return spans_; }

  // Drops the spans that only govern slots < `slot`.
  void Prune(Slot slot);

  // The memberships governing the slots after `slot`, as known from entries at <= `slot`.
  ConfigState StateAt(Slot slot) const;

  uint32_t window() const;
  // True when a chosen change does not govern slot `slot` yet.
  bool ChangePendingAt(Slot slot) const { return spans_.back().from > slot; }

 private:
  std::vector<Span> spans_{Span{}};  // ordered by from; spans_[0].from == 0
};

}  // namespace penncloud::paxos
