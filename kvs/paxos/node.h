// The Multi-Paxos core of one replica: a deterministic state machine with no threads,
// sockets, clocks, disk or global randomness inside (shaped like etcd's raft package).
// docs/paxos.md describes the protocol; proto/paxos.proto the messages.
//
// THE CONTRACT THE SERVER FOLLOWS
//   Inputs, from one thread: Step(msg) for every message from a peer, Tick() every tick
//   (ticks measure real elapsed time; clocks of different replicas may drift by at most
//   Config::lease_margin_ticks per election timeout), Propose/ProposeMembership/RequestRead
//   for clients, Compact(slot) after taking a snapshot, ReportSnapshot(peer, ok) after a
//   snapshot transfer.
//   Output: while HasReady(), take `Ready rd = TakeReady()` and handle it IN THIS ORDER:
//     1. rd.snapshot: install the snapshot data that came with the MSG_SNAPSHOT the core
//        accepted (held by the server since it stepped it) and persist rd.snapshot; entries
//        at or below rd.snapshot->slot may be deleted from disk.
//     2. Persist rd.entries (replace any stored entry of the same slot) and then
//        rd.hard_state (or both in one atomic write), and make them durable (fsync).
//     3. Only then send rd.messages (each to msg.to). For a MSG_SNAPSHOT, attach the data of
//        the snapshot named by msg.snapshot (the latest one handed to Compact() or installed
//        from rd.snapshot). A MSG_SNAPSHOT with the zero ballot goes from any replica to a
//        candidate that lacks compacted slots (docs/paxos.md, "Snapshots and catch-up").
//     4. Apply rd.committed in order: every command of every ENTRY_COMMANDS entry, in order;
//        ENTRY_CONFIG tells the server the new membership (it governs slots from
//        entry.slot + window on); ENTRY_NOOP does nothing.
//     5. Serve rd.reads: each read may now be answered from the state machine, which has
//        applied everything up to its index. Answer rd.failed_reads and rd.dropped (commands
//        that never got a slot) with "not leader"; other pending writes learn their outcome
//        when they appear in rd.committed (or time out: a command may still be chosen later,
//        which is why commands carry a client id and sequence for at-most-once apply).
//     6. Call Advance().
//   A crash may happen anywhere: what the server made durable in steps 1-2 is what it passes
//   back to the constructor (PersistentState) on restart, with `applied` = the slot up to
//   which its state machine survived (the snapshot's slot if it rebuilds from the snapshot).
//   Snapshots: when the state machine has applied slot s (Status().applied >= s), the server
//   may save a snapshot of it and call Compact(s); the core drops its log up to s and returns
//   the SnapshotMeta to store beside the data. Persist it before deleting log entries.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/paxos.pb.h"

namespace penncloud::paxos {

using NodeId = uint64_t;
using Slot = uint64_t;
using EntryPtr = std::shared_ptr<const Entry>;

class Core;  // the implementation (kvs/paxos/core.h)

struct Config {
  NodeId id = 0;
  // A follower that heard nothing from a leader for a random number of ticks in
  // [election_ticks, 2*election_ticks) starts an election.
  int election_ticks = 10;
  int heartbeat_ticks = 2;
  // Lease reads: a leader serves reads without a round trip while
  //   now + 1 < (tick its quorum-acknowledged heartbeat was sent) + election_ticks
  //             - lease_margin_ticks.
  // The one tick is for the followers' whole ticks (the first after a heartbeat may come at
  // once); the margin covers a follower's clock running fast against the leader's, by up to
  // lease_margin_ticks per election timeout.
  bool lease_reads = true;
  int lease_margin_ticks = 2;
  // Seeds the core's own PRNG (election timeouts). No other randomness is used.
  uint64_t seed = 1;
  // Batching: commands waiting for a slot are cut into one entry of at most these sizes.
  size_t max_batch_commands = 4096;
  size_t max_batch_bytes = 4 << 20;
  // At most this many entries / bytes in one MSG_ACCEPT (catch-up is sent in such pieces).
  size_t max_entries_per_message = 256;
  size_t max_bytes_per_message = 8 << 20;
  // A MSG_SNAPSHOT unanswered for this many ticks is sent again.
  int snapshot_retry_ticks = 50;
  // A learner counts as caught up (and may be promoted) within this many slots of commit.
  Slot learner_catchup_slots = 64;
};

// What a replica kept durable: the constructor resumes from it exactly.
struct PersistentState {
  HardState hard_state;
  // The accepted entries with slot > snapshot.slot, in any order.
  std::vector<Entry> entries;
  // The latest snapshot. A new group starts with slot 0 and config.current = its initial
  // membership (Membership.window >= 1); a replica joining later starts with an empty one.
  SnapshotMeta snapshot;
  // The slot up to which the state machine has applied (>= snapshot.slot).
  Slot applied = 0;
};

struct ReadState {
  uint64_t id = 0;  // as passed to RequestRead
  Slot index = 0;   // the state machine has applied at least up to here
};

struct Ready {
  std::optional<SnapshotMeta> snapshot;  // install + persist first
  std::vector<EntryPtr> entries;         // persist (overwrite by slot)
  std::optional<HardState> hard_state;   // persist
  std::vector<Message> messages;         // send after the above are durable
  std::vector<EntryPtr> committed;       // apply in order
  std::vector<ReadState> reads;          // serve after applying `committed`
  std::vector<uint64_t> failed_reads;    // leadership lost before the read was confirmed
  std::vector<std::string> dropped;      // proposals that never got a slot

  bool empty() const {
    return !snapshot && entries.empty() && !hard_state && messages.empty() && committed.empty() &&
           reads.empty() && failed_reads.empty() && dropped.empty();
  }
};

enum class Role { kFollower, kCandidate, kLeader };

// What Step did with a message: kNone = stepped; anything else = dropped before it could
// change any state (docs/paxos.md, "Messages a replica drops", gives the rules). No honest
// peer's message is dropped, except kNotMember for a replica removed from the group (and
// the lagging-replica case that section describes).
enum class DropReason : uint8_t {
  kNone = 0,
  kWrongRecipient,  // `to` is not this replica
  kFromSelf,        // `from` is this replica
  kUnknownType,     // not a message type this core knows
  kNotMember,       // the sender is not a voter or learner of any membership known here
  kBadBallot,       // a ballot no honest sender uses here (zero, not its own, beyond kMaxRound)
  kBadSlot,         // a slot of 0, past kMaxSlot, or beyond what an honest peer can hold
  kTooLarge,        // more entries, commands or members than the group's limits allow
  kBadEntry,        // an entry of unknown type, or a membership without voters
  kInconsistent,    // fields that contradict each other or the type, or a stale answer
};
inline constexpr size_t kDropReasons = size_t(DropReason::kInconsistent) + 1;
// A short stable name (metric labels): "none", "wrong_recipient", "from_self", ...
const char* DropReasonName(DropReason reason);

// Messages dropped since the Node was made, by reason (index = DropReason).
struct DropCounts {
  uint64_t by_reason[kDropReasons] = {};
  uint64_t total() const {
    uint64_t n = 0;
    for (size_t i = 1; i < kDropReasons; ++i) n += by_reason[i];
    return n;
  }
};

struct PeerStatus {
  NodeId id = 0;
  bool voter = false;
  Slot match = 0;           // highest slot known accepted (in order) in the leader's ballot
  int ticks_since_ack = 0;  // since the last reply
  bool snapshotting = false;
};

struct NodeStatus {
  NodeId id = 0;
  Role role = Role::kFollower;
  Ballot ballot;                 // the promised ballot
  std::optional<NodeId> leader;  // the believed leader
  Slot commit = 0;
  Slot applied = 0;
  Slot first_slot = 0;  // the first slot still in the log (snapshot slot + 1)
  Slot last_slot = 0;
  ConfigState config;             // memberships governing the slots after commit
  std::vector<PeerStatus> peers;  // leader only
};

// A "not leader" error carries the believed leader, if any, in its payload.
absl::Status NotLeaderError(std::optional<NodeId> leader);
std::optional<NodeId> LeaderHint(const absl::Status& status);

class Node {
 public:
  Node(const Config& config, PersistentState state);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // A message from a peer. A malformed or out-of-range message, or one from a sender that
  // is not a member, is dropped without any effect; the result says why (kNone: stepped).
  DropReason Step(Message message);
  // Every drop so far, by reason (the server exports them in /metrics).
  const DropCounts& drops() const;
  // One tick of real time.
  void Tick();

  // Leader only (kUnavailable NotLeaderError otherwise). The command is batched into a
  // slot; its outcome is known when it appears in Ready::committed.
  absl::Status Propose(std::string command);
  // Leader only: a membership change. Refused (kFailedPrecondition) while another change is
  // in flight, or when it changes more than one voter, or promotes a learner not caught up.
  absl::Status ProposeMembership(const Membership& membership);
  // Leader only: a linearizable read. Ready::reads names `id` once it is safe to serve
  // (lease, or a confirmed heartbeat round), or Ready::failed_reads if leadership is lost.
  absl::Status RequestRead(uint64_t id);

  // The state machine saved a snapshot covering every slot up to `slot` (<= applied).
  absl::StatusOr<SnapshotMeta> Compact(Slot slot);
  // Outcome of sending a MSG_SNAPSHOT to `peer` (failure: resend it sooner).
  void ReportSnapshot(NodeId peer, bool ok);

  bool HasReady() const;
  Ready TakeReady();
  // The Ready taken last was handled (persisted, sent, applied).
  void Advance();

  NodeStatus Status() const;
  NodeId id() const;
  bool is_leader() const;
  std::optional<NodeId> leader() const;

 private:
  std::unique_ptr<Core> core_;
};

}  // namespace penncloud::paxos
