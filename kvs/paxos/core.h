// The Multi-Paxos state machine behind Node (node.h). Everything here is deterministic:
// the only inputs are the calls, the only randomness is Rng seeded from Config::seed.
#pragma once

#include <string>
#include <vector>

#include "kvs/paxos/ballot.h"
#include "kvs/paxos/ballot_box.h"
#include "kvs/paxos/election.h"
#include "kvs/paxos/log.h"
#include "kvs/paxos/membership.h"
#include "kvs/paxos/message_check.h"
#include "kvs/paxos/node.h"
#include "kvs/paxos/progress.h"
#include "kvs/paxos/read_index.h"
#include "kvs/paxos/rng.h"

namespace penncloud::paxos {

class Core {
 public:
  Core(const Config& config, PersistentState state);

  DropReason Step(Message m);
  const DropCounts& drops() const { return drops_; }
  void Tick();
  absl::Status Propose(std::string command);
  absl::Status ProposeMembership(const Membership& membership);
  absl::Status RequestRead(uint64_t id);
  absl::StatusOr<SnapshotMeta> Compact(Slot slot);
  void ReportSnapshot(NodeId peer, bool ok);

  bool HasReady() const;
  Ready TakeReady();
  void Advance();

  NodeStatus Status() const;
  NodeId id() const { return cfg_.id; }
  bool is_leader() const { return role_ == Role::kLeader; }
  std::optional<NodeId> leader() const { return leader_; }

 private:
  // --- roles
  void BecomeFollower();
  void StepDown();  // leader/candidate -> follower, failing what waits on leadership
  void Campaign();
  void MaybeWin();
  void BecomeLeader();
  void ResetElectionTimer();
  bool CanCampaign() const;

  // --- input checks (message_check.h has the ones that need no state)
  DropReason Dispatch(Message& m);
  // True if `id` is a voter or learner of a membership we know governs `from` or later.
  bool KnownMember(NodeId id, Slot from) const;
  MessageLimits Limits() const;

  // --- acceptor
  void OnPrepare(Message& m);
  void OnAccept(Message& m);
  void OnSnapshot(Message& m);
  void InstallSnapshot(const SnapshotMeta& meta);
  void OnReject(const Message& m);
  // A message from a leader or candidate with ballot >= promised: adopt the ballot.
  void Promise(const Ballot& b);
  void ExtendMatch();

  // --- leader
  DropReason OnPromise(Message& m);
  void OnAccepted(const Message& m);
  void SyncPeers();
  Progress* PeerProgress(NodeId id);
  int PeerBit(NodeId id) const;
  void CutBatches();
  void AppendOwn(EntryPtr e);  // a slot proposed in our ballot
  void Broadcast(Slot lo, Slot hi);
  void SendEntries(Progress& p, Slot lo, Slot hi);
  void SendHeartbeats();
  void CatchUp(Progress& p);
  void AdvanceLeaderCommit();
  void UpdateConfirmedRound();
  bool ConfigChangeInFlight() const;
  bool LeaseValid() const;
  bool WindowOpen() const;
  bool NeedsFill() const;
  Slot MaxPromiseLag() const;
  Slot MaxOpenSlots() const;

  // --- shared
  void SetCommit(Slot commit);  // hands newly chosen entries to the application
  void Send(Message m);
  Message NewMessage(MessageType type, NodeId to) const;
  void MarkHardState() { hs_dirty_ = true; }
  void Persist(const EntryPtr& e) { ready_.entries.push_back(e); }
  void ReleaseReads();
  std::vector<NodeId> AllMembers() const;

  Config cfg_;
  Rng rng_;
  int64_t now_ = 0;

  // Durable: promised ballot, commit, the log, the snapshot.
  Ballot promised_;
  Slot commit_ = 0;
  AcceptorLog log_;
  SnapshotMeta snapshot_;
  ConfigTracker configs_;

  Slot applied_ = 0;  // handed out and Advance()d
  Slot handed_ = 0;   // handed out in Ready::committed

  Role role_ = Role::kFollower;
  std::optional<NodeId> leader_;
  uint64_t max_round_ = 0;          // highest round seen anywhere
  int64_t ticks_since_leader_ = 0;  // lease: refuse promises while < election_ticks
  int64_t election_elapsed_ = 0;
  int64_t election_timeout_ = 0;

  // Acceptor: every slot in (commit_, match_] is accepted in promised_.
  Slot match_ = 0;

  // Candidate.
  Election election_;

  // Leader.
  Slot next_slot_ = 1;     // the next slot to propose
  Slot recovered_to_ = 0;  // reads wait until commit_ reaches the slots recovered in phase 1
  int64_t heartbeat_elapsed_ = 0;
  int64_t leader_since_ = 0;
  std::vector<Progress> peers_;  // index = bit in BallotBox masks; includes self
  int self_bit_ = 0;
  BallotBox box_;
  ReadTracker reads_;
  bool heartbeat_now_ = false;
  std::deque<std::string> batch_;
  size_t batch_bytes_ = 0;
  std::optional<Slot> config_in_flight_;     // slot of an unchosen membership change
  std::optional<Membership> queued_config_;  // waits for room in the window
  std::vector<NodeId> prepared_;             // candidate: sent a PREPARE to these

  DropCounts drops_;

  // Output.
  Ready ready_;
  bool hs_dirty_ = false;
  std::vector<EntryPtr> unacked_own_;  // our entries in the Ready taken last
  Slot taken_handed_ = 0;
  bool ready_taken_ = false;
};

}  // namespace penncloud::paxos
