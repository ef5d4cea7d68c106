#include "kvs/paxos/membership.h"

#include <algorithm>

namespace penncloud::paxos {

bool IsVoter(const Membership& m, NodeId id) {
  return std::find(m.voters().begin(), m.voters().end(), id) != m.voters().end();
}

bool IsMember(const Membership& m, NodeId id) {
  return IsVoter(m, id) ||
         std::find(m.learners().begin(), m.learners().end(), id) != m.learners().end();
}

size_t QuorumSize(const Membership& m) { return m.voters_size() / 2 + 1; }

void ConfigTracker::Reset(const ConfigState& state, Slot snapshot_slot) {
  spans_.clear();
  spans_.push_back(Span{0, snapshot_slot, state.current(), 0});
  if (state.next_from() != 0) {
    spans_.push_back(Span{state.next_from(), snapshot_slot, state.next(), 0});
  }
}

void ConfigTracker::OnChosen(Slot slot, const Membership& membership) {
  const Slot from = slot + std::max<uint32_t>(1, ForSlot(slot).window());
  // Spans are introduced in slot order; a later change replaces anything from `from` on.
  while (spans_.size() > 1 && spans_.back().from >= from) spans_.pop_back();
  Membership m = membership;
  if (m.window() == 0) m.set_window(ForSlot(slot).window());
  spans_.push_back(Span{from, slot, std::move(m), 0});
}

const Span& ConfigTracker::SpanFor(Slot slot) const {
  for (size_t i = spans_.size(); i-- > 1;) {
    if (spans_[i].from <= slot) return spans_[i];
  }
  return spans_[0];
}

std::vector<const Span*> ConfigTracker::SpansFrom(Slot slot) const {
  std::vector<const Span*> out;
  for (size_t i = 0; i < spans_.size(); ++i) {
    const bool ends_before = i + 1 < spans_.size() && spans_[i + 1].from <= slot;
    if (!ends_before) out.push_back(&spans_[i]);
  }
  return out;
}

void ConfigTracker::Prune(Slot slot) {
  size_t drop = 0;
  while (drop + 1 < spans_.size() && spans_[drop + 1].from <= slot) ++drop;
  if (drop == 0) return;
  spans_.erase(spans_.begin(), spans_.begin() + drop);
  spans_[0].from = 0;
}

ConfigState ConfigTracker::StateAt(Slot slot) const {
  ConfigState state;
  std::vector<const Span*> known;
  for (const Span& s : spans_) {
    if (s.source <= slot || &s == &spans_[0]) known.push_back(&s);
  }
  // The span governing slot + 1, then (at most) the one after it.
  size_t cur = 0;
  for (size_t i = 0; i < known.size(); ++i) {
    if (known[i]->from <= slot + 1) cur = i;
  }
  *state.mutable_current() = known[cur]->membership;
  if (cur + 1 < known.size()) {
    *state.mutable_next() = known[cur + 1]->membership;
    state.set_next_from(known[cur + 1]->from);
  }
  return state;
}

uint32_t ConfigTracker::window() const {
  return std::max<uint32_t>(1, spans_.back().membership.window());
}

}  // namespace penncloud::paxos
