#include "kvs/paxos/ready_driver.h"

#include <algorithm>
#include <utility>

namespace penncloud::paxos {

bool HandleReady(Node& node, NodeId self, ReadyHooks& hooks) {
  Ready rd = node.TakeReady();
  if (rd.snapshot && !hooks.InstallSnapshot(*rd.snapshot)) return false;

  std::vector<Message> after_persist;
  after_persist.reserve(rd.messages.size());
  for (Message& m : rd.messages) {
    if (m.type() == MSG_ACCEPT && m.from() == self) {
      if (!hooks.Send(std::move(m))) return false;
    } else {
      after_persist.push_back(std::move(m));
    }
  }

  // Only a leader has callers waiting for an apply (writes to answer, reads to serve). A
  // follower applies after its persist and sends: its ACCEPTEDs are what the callers wait
  // for, and the apply would only delay them. A committed slot among this Ready's new
  // entries waits for their persist.
  bool apply_early = node.is_leader();
  if (apply_early && !rd.committed.empty() && !rd.entries.empty()) {
    Slot first_new = UINT64_MAX;
    for (const EntryPtr& e : rd.entries) first_new = std::min(first_new, e->slot());
    apply_early = rd.committed.back()->slot() < first_new;
  }
  auto apply_and_read = [&] {
    for (const EntryPtr& e : rd.committed) {
      if (!hooks.Apply(*e)) return false;
    }
    for (const ReadState& read : rd.reads) {
      if (!hooks.ReleaseRead(read)) return false;
    }
    return true;
  };
  if (apply_early && !apply_and_read()) return false;

  if ((!rd.entries.empty() || rd.hard_state) && !hooks.Persist(rd.entries, rd.hard_state)) {
    return false;
  }
  for (Message& m : after_persist) {
    if (!hooks.Send(std::move(m))) return false;
  }
  if (!apply_early && !apply_and_read()) return false;
  for (uint64_t id : rd.failed_reads) hooks.FailRead(id);
  for (const std::string& command : rd.dropped) hooks.Dropped(command);
  node.Advance();
  return true;
}

}  // namespace penncloud::paxos
