// A Multi-Paxos group for the fuzzer: three honest replicas of the core (kvs/paxos/node.h)
// driven exactly by the Ready contract, over a network the fuzzer controls completely
// (which message is delivered next, dropped or duplicated, who ticks, proposes, compacts
// or crashes and restarts from what it made durable). Beside them stands a fourth core, the
// "target", that receives peer messages forged from fuzzer bytes: any type, sender, ballot,
// slots, entries, commit and snapshot values.
//
// Checked after every Ready of every core:
// - no promise without persistence: a PROMISE, PREPARE or ACCEPT leaves only once a ballot
//   at least as high is durable, and an ACCEPTED acknowledges only slots that are durable;
// - a core hands out chosen slots in order, each once (per incarnation), each durable;
// - (honest replicas) no two values are chosen for one slot, and an installed snapshot
//   holds exactly the values chosen up to its slot.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kvs/paxos/node.h"

namespace penncloud::paxos::fuzz {

struct FuzzReplica {
  NodeId id = 0;
  int restarts = 0;
  std::unique_ptr<Node> node;
  // The disk: only what a Ready made durable.
  HardState hard_state;
  std::map<Slot, Entry> entries;
  SnapshotMeta snapshot;
  std::vector<std::string> snapshot_values;  // the state machine at snapshot.slot()
  // The state machine: the value applied in each slot, from slot 1.
  std::vector<std::string> applied;
  std::map<Slot, std::vector<std::string>> incoming;  // snapshots received, by slot
};

class FuzzCluster {
 public:
  static constexpr int kHonest = 3;

  FuzzCluster();

  // --- the honest group (index 0..2)
  size_t in_flight() const { return network_.size(); }
  void Deliver(size_t index, bool duplicate);
  void Drop(size_t index);
  void Tick(int i);
  void Propose(int i, std::string command);
  void Compact(int i);
  void CrashAndRestart(int i);

  // --- the target core, alone
  void StepTarget(Message m);
  void TickTarget();

  // "" while every check holds; else what broke (the run aborts on it).
  const std::string& failure() const { return failure_; }

 private:
  struct InFlight {
    Message msg;
    std::vector<std::string> snapshot_values;  // MSG_SNAPSHOT: the data the server attaches
  };

  void Start(FuzzReplica& r);
  void ProcessReadies(FuzzReplica& r, bool honest);
  void ProcessReady(FuzzReplica& r, bool honest);
  void CheckOutgoing(const FuzzReplica& r, const Message& m);
  void Fail(const FuzzReplica& r, const std::string& why);

  std::vector<FuzzReplica> honest_;
  FuzzReplica target_;
  std::deque<InFlight> network_;
  std::vector<std::string> chosen_;  // slot - 1 -> the value the honest group chose
  std::string failure_;
};

// The value of an entry as a string: equal for equal values (the ballot and slot aside).
std::string ValueOf(const Entry& e);

}  // namespace penncloud::paxos::fuzz
