#include "kvs/paxos/core.h"

#include <algorithm>
#include <functional>

namespace penncloud::paxos {

Core::Core(const Config& config, PersistentState st)
    : cfg_(config), rng_(config.seed), snapshot_(std::move(st.snapshot)) {
  const Slot snap = snapshot_.slot();
  log_ = AcceptorLog(snap + 1);
  configs_.Reset(snapshot_.config(), snap);
  promised_ = st.hard_state.promised();
  max_round_ = promised_.round();
  for (Entry& e : st.entries) {
    if (e.slot() <= snap) continue;
    max_round_ = std::max(max_round_, e.ballot().round());
    log_.Put(std::make_shared<Entry>(std::move(e)));
  }
  // The chosen prefix: what the hard state (or the state machine) says, as far as the
  // entries are there.
  const Slot target = std::max(st.hard_state.commit(), st.applied);
  Slot c = snap;
  while (c < target && log_.Get(c + 1)) ++c;
  commit_ = snap;
  applied_ = handed_ = std::max(snap, std::min(st.applied, c));
  SetCommit(c);
  hs_dirty_ = false;
  match_ = commit_;
  ResetElectionTimer();
}

// ----------------------------------------------------------------------------------------
// Inputs.

DropReason Core::Step(Message m) {
  DropReason why = DropReason::kNone;
  if (m.to() != cfg_.id) {
    why = DropReason::kWrongRecipient;
  } else if (m.from() == cfg_.id) {
    why = DropReason::kFromSelf;
  } else if (JudgesMembership(m, commit_, snapshot_.slot()) &&
             !KnownMember(m.from(), FirstSlotConcerned(m, commit_))) {
    // A message is judged by the memberships of the slots it is about. We know those of
    // the slots after our snapshot up to our commit index + 1, so a sender none of them
    // names is no member there (a removed replica, or no replica at all). About compacted
    // slots (a candidate far behind: we send it our snapshot) or slots past our commit
    // index (a sender that knows more, perhaps a member added there) we cannot judge, and
    // leave it to the server's check of the peer's certificate.
    why = DropReason::kNotMember;
  } else {
    why = CheckMessage(m, Limits());
  }
  // Only a message that passed every check may touch the state (even max_round_: a huge
  // round seen here would be the base of our next ballot).
  if (why == DropReason::kNone) why = Dispatch(m);
  if (why != DropReason::kNone) ++drops_.by_reason[size_t(why)];
  return why;
}

DropReason Core::Dispatch(Message& m) {
  max_round_ = std::max(max_round_, m.ballot().round());
  switch (m.type()) {
    case MSG_PREPARE:
      OnPrepare(m);
      return DropReason::kNone;
    case MSG_PROMISE:
      return OnPromise(m);
    case MSG_ACCEPT:
      OnAccept(m);
      return DropReason::kNone;
    case MSG_ACCEPTED:
      OnAccepted(m);
      return DropReason::kNone;
    case MSG_SNAPSHOT:
      OnSnapshot(m);
      return DropReason::kNone;
    case MSG_REJECT:
      OnReject(m);
      return DropReason::kNone;
    default:
      return DropReason::kUnknownType;
  }
}

MessageLimits Core::Limits() const {
  MessageLimits l;
  l.self = cfg_.id;
  l.max_entries_per_message = cfg_.max_entries_per_message;
  l.max_batch_commands = cfg_.max_batch_commands;
  l.max_promise_lag = MaxPromiseLag();
  l.max_open_slots = MaxOpenSlots();
  return l;
}

bool Core::KnownMember(NodeId id, Slot from) const {
  bool knows_voters = false;
  for (const Span* sp : configs_.SpansFrom(from)) {
    if (IsMember(sp->membership, id)) return true;
    knows_voters = knows_voters || sp->membership.voters_size() > 0;
  }
  // A replica that joined with an empty disk knows no membership until the leader's log or
  // snapshot reaches it: it cannot tell members apart yet (the server's authentication
  // is all it has).
  if (!knows_voters) return true;
  // A candidate also asks the voters of memberships it found among the promises.
  if (role_ == Role::kCandidate &&
      std::find(prepared_.begin(), prepared_.end(), id) != prepared_.end()) {
    return true;
  }
  // Membership changes accepted but not known chosen yet (a new member may already lead).
  // Only a sender no chosen membership names gets here, so honest traffic never pays it.
  for (Slot s = std::max(commit_ + 1, log_.first_slot()); s <= log_.last_slot(); ++s) {
    const EntryPtr& e = log_.Get(s);
    if (e && e->type() == ENTRY_CONFIG && IsMember(e->membership(), id)) return true;
  }
  return false;
}

void Core::Tick() {
  ++now_;
  if (role_ == Role::kLeader) {
    if (++heartbeat_elapsed_ >= cfg_.heartbeat_ticks) heartbeat_now_ = true;
    // Check-quorum: no quorum answered a round sent within the election timeout.
    if (now_ - reads_.confirmed_sent_tick() > cfg_.election_ticks) {
      StepDown();
      return;
    }
    for (Progress& p : peers_) {
      if (p.snapshotting && now_ - p.snapshot_sent_tick >= cfg_.snapshot_retry_ticks) {
        p.snapshotting = false;
        CatchUp(p);
      }
    }
    return;
  }
  ++ticks_since_leader_;
  if (++election_elapsed_ >= election_timeout_ && CanCampaign()) Campaign();
}

absl::Status Core::Propose(std::string command) {
  if (role_ != Role::kLeader) return NotLeaderError(leader_);
  batch_bytes_ += command.size();
  batch_.push_back(std::move(command));
  return absl::OkStatus();
}

absl::Status Core::ProposeMembership(const Membership& membership) {
  if (role_ != Role::kLeader) return NotLeaderError(leader_);
  if (ConfigChangeInFlight()) {
    return absl::FailedPreconditionError("another membership change is in flight");
  }
  const Membership& cur = configs_.spans().back().membership;
  auto sorted = [](const auto& field) {
    std::vector<NodeId> v(field.begin(), field.end());
    std::sort(v.begin(), v.end());
    return v;
  };
  const std::vector<NodeId> old_v = sorted(cur.voters());
  const std::vector<NodeId> new_v = sorted(membership.voters());
  const std::vector<NodeId> new_l = sorted(membership.learners());
  if (new_v.empty()) return absl::InvalidArgumentError("no voters");
  if (std::adjacent_find(new_v.begin(), new_v.end()) != new_v.end() ||
      std::adjacent_find(new_l.begin(), new_l.end()) != new_l.end()) {
    return absl::InvalidArgumentError("duplicate member");
  }
  std::vector<NodeId> both;
  std::set_intersection(new_v.begin(), new_v.end(), new_l.begin(), new_l.end(),
                        std::back_inserter(both));
  if (!both.empty()) return absl::InvalidArgumentError("a node is both voter and learner");
  std::vector<NodeId> added, removed;
  std::set_difference(new_v.begin(), new_v.end(), old_v.begin(), old_v.end(),
                      std::back_inserter(added));
  std::set_difference(old_v.begin(), old_v.end(), new_v.begin(), new_v.end(),
                      std::back_inserter(removed));
  if (added.size() + removed.size() > 1) {
    return absl::InvalidArgumentError("a change may add or remove at most one voter");
  }
  for (NodeId v : added) {
    const Progress* p = PeerProgress(v);
    if (!p || p->match + cfg_.learner_catchup_slots < commit_) {
      return absl::FailedPreconditionError("the new voter is not a caught-up learner");
    }
  }
  Membership m = membership;
  m.set_window(cur.window());
  queued_config_ = std::move(m);
  return absl::OkStatus();
}

absl::Status Core::RequestRead(uint64_t id) {
  if (role_ != Role::kLeader) return NotLeaderError(leader_);
  const Slot index = std::max(commit_, recovered_to_);
  if (LeaseValid() && commit_ >= recovered_to_) {
    reads_.Add(id, index, 0);
  } else {
    reads_.Add(id, index, reads_.round() + 1);
    heartbeat_now_ = true;
  }
  ReleaseReads();
  return absl::OkStatus();
}

absl::StatusOr<SnapshotMeta> Core::Compact(Slot slot) {
  if (slot > applied_) return absl::InvalidArgumentError("snapshot beyond the applied slot");
  if (slot <= snapshot_.slot()) return snapshot_;
  SnapshotMeta meta;
  meta.set_slot(slot);
  *meta.mutable_config() = configs_.StateAt(slot);
  snapshot_ = meta;
  log_.DropThrough(slot);
  configs_.Prune(slot + 1);
  return meta;
}

void Core::ReportSnapshot(NodeId peer, bool ok) {
  if (role_ != Role::kLeader || ok) return;
  if (Progress* p = PeerProgress(peer)) p->snapshotting = false;
}

// ----------------------------------------------------------------------------------------
// Output.

bool Core::WindowOpen() const { return next_slot_ <= commit_ + configs_.window(); }

bool Core::HasReady() const {
  if (ready_taken_) return false;
  if (!ready_.empty() || hs_dirty_) return true;
  if (role_ != Role::kLeader) return false;
  return heartbeat_now_ || ((!batch_.empty() || queued_config_) && WindowOpen()) || NeedsFill();
}

Ready Core::TakeReady() {
  if (role_ == Role::kLeader) {
    CutBatches();
    if (heartbeat_now_) SendHeartbeats();
  }
  ReleaseReads();
  if (hs_dirty_) {
    HardState hs;
    *hs.mutable_promised() = promised_;
    hs.set_commit(commit_);
    ready_.hard_state = std::move(hs);
    hs_dirty_ = false;
  }
  Ready out = std::move(ready_);
  ready_ = Ready{};
  taken_handed_ = handed_;
  unacked_own_.clear();
  if (role_ == Role::kLeader) {
    for (const EntryPtr& e : out.entries) {
      if (e->ballot() == promised_) unacked_own_.push_back(e);
    }
  }
  ready_taken_ = true;
  return out;
}

void Core::Advance() {
  ready_taken_ = false;
  applied_ = std::max(applied_, taken_handed_);
  if (role_ == Role::kLeader) {
    // Our own accepts are durable now: they count for the quorum.
    for (const EntryPtr& e : unacked_own_) {
      if (e->ballot() == promised_ && e->slot() < next_slot_) {
        box_.Ack(e->slot(), e->slot(), self_bit_);
      }
    }
    AdvanceLeaderCommit();
  }
  unacked_own_.clear();
}

NodeStatus Core::Status() const {
  NodeStatus s;
  s.id = cfg_.id;
  s.role = role_;
  s.ballot = promised_;
  s.leader = leader_;
  s.commit = commit_;
  s.applied = applied_;
  s.first_slot = log_.first_slot();
  s.last_slot = std::max(log_.last_slot(), commit_);
  s.config = configs_.StateAt(commit_);
  if (role_ == Role::kLeader) {
    const Membership& m = configs_.ForSlot(commit_ + 1);
    for (const Progress& p : peers_) {
      if (!p.member) continue;
      s.peers.push_back(PeerStatus{p.id, IsVoter(m, p.id), p.id == cfg_.id ? commit_ : p.match,
                                   p.last_ack_tick < 0 ? -1 : int(now_ - p.last_ack_tick),
                                   p.snapshotting});
    }
  }
  return s;
}

// ----------------------------------------------------------------------------------------
// Roles.

void Core::ResetElectionTimer() {
  election_elapsed_ = 0;
  election_timeout_ = cfg_.election_ticks + int64_t(rng_.Below(std::max(1, cfg_.election_ticks)));
}

bool Core::CanCampaign() const { return IsVoter(configs_.ForSlot(commit_ + 1), cfg_.id); }

void Core::StepDown() {
  if (role_ == Role::kLeader) {
    for (std::string& c : batch_) ready_.dropped.push_back(std::move(c));
    batch_.clear();
    batch_bytes_ = 0;
    queued_config_.reset();
    config_in_flight_.reset();
    reads_.FailAll(&ready_.failed_reads);
    peers_.clear();
    // Keep refusing promises for a full election timeout: our lease may still be in use.
    ticks_since_leader_ = 0;
    heartbeat_now_ = false;
  }
  role_ = Role::kFollower;
  leader_.reset();
  ResetElectionTimer();
}

void Core::Promise(const Ballot& b) {
  if (b <= promised_) return;
  promised_ = b;
  MarkHardState();
  match_ = commit_;
  if (role_ != Role::kFollower) StepDown();
  leader_.reset();
}

void Core::Campaign() {
  role_ = Role::kCandidate;
  leader_.reset();
  promised_ = MakeBallot(std::max(max_round_, promised_.round()) + 1, cfg_.id);
  max_round_ = promised_.round();
  MarkHardState();
  match_ = commit_;
  ResetElectionTimer();
  election_.Start(promised_, commit_ + 1);
  std::vector<EntryPtr> own;
  for (Slot s = commit_ + 1; s <= log_.last_slot(); ++s) {
    if (const EntryPtr& e = log_.Get(s)) own.push_back(e);
  }
  election_.AddPromise(cfg_.id, commit_, std::move(own));
  prepared_.clear();
  MaybeWin();
}

void Core::MaybeWin() {
  std::vector<const Membership*> chain;
  for (const Span* sp : configs_.SpansFrom(commit_ + 1)) chain.push_back(&sp->membership);
  for (const auto& [slot, m] : election_.recovered_configs()) chain.push_back(m);
  bool won = true;
  for (const Membership* m : chain) {
    size_t votes = 0;
    for (NodeId v : m->voters()) {
      if (election_.HasPromised(v)) {
        ++votes;
      } else if (std::find(prepared_.begin(), prepared_.end(), v) == prepared_.end()) {
        prepared_.push_back(v);
        Message p = NewMessage(MSG_PREPARE, v);
        p.set_from_slot(election_.from_slot());
        p.set_commit(commit_);
        Send(std::move(p));
      }
    }
    if (m->voters_size() == 0 || votes < QuorumSize(*m)) won = false;
  }
  if (won) BecomeLeader();
}

void Core::BecomeLeader() {
  role_ = Role::kLeader;
  leader_ = cfg_.id;
  leader_since_ = now_;
  const Slot from = election_.from_slot();
  const Slot last = election_.max_slot();
  // Phase 2 for every open slot: the highest-ballot value found there, or a no-op.
  for (Slot s = from; s <= last; ++s) {
    auto e = std::make_shared<Entry>();
    if (const EntryPtr& best = election_.Best(s)) *e = *best;
    e->set_slot(s);
    *e->mutable_ballot() = promised_;
    log_.Put(e);
    Persist(e);
  }
  for (const auto& [slot, m] : election_.recovered_configs()) config_in_flight_ = slot;
  next_slot_ = last + 1;
  recovered_to_ = last;
  box_.Reset(commit_ + 1);
  reads_.Reset(now_);
  heartbeat_elapsed_ = 0;
  peers_.clear();
  SyncPeers();
  // Slots some promiser knew to be chosen hold, in our log, the chosen value.
  const Slot known = std::min(election_.max_commit(), last);
  if (known > commit_) SetCommit(known);
  box_.SkipTo(commit_ + 1);
  for (Progress& p : peers_) {
    if (p.id == cfg_.id || !p.member) continue;
    p.sent = from - 1;
    if (from <= last) SendEntries(p, from, last);
  }
  SendHeartbeats();
}

// ----------------------------------------------------------------------------------------
// Acceptor.

Slot Core::MaxPromiseLag() const {
  return 4 * cfg_.max_entries_per_message + 4 * Slot{configs_.window()};
}

// An acceptor stores entries up to 2 * MaxPromiseLag() past its match, and its match is at
// most a window past its commit index; a leader's log also holds the slots it recovered,
// which a promiser up to MaxPromiseLag() ahead of it reported. Sixteen times both covers
// a chain of more than ten leaders each deposed before its recovered slots were chosen.
Slot Core::MaxOpenSlots() const { return 16 * (MaxPromiseLag() + Slot{configs_.window()}); }

void Core::OnPrepare(Message& m) {
  const Ballot& b = m.ballot();
  if (b < promised_) {
    Message r = NewMessage(MSG_REJECT, m.from());
    Send(std::move(r));
    return;
  }
  const bool behind =
      m.from_slot() <= snapshot_.slot() || commit_ >= m.from_slot() + MaxPromiseLag();
  const bool lease =
      b > promised_ && (role_ == Role::kLeader || ticks_since_leader_ < cfg_.election_ticks);
  if (behind || lease) {
    Message r = NewMessage(MSG_PROMISE, m.from());
    *r.mutable_ballot() = b;
    r.set_refused(true);
    r.set_commit(commit_);
    Send(std::move(r));
    if (m.from_slot() <= snapshot_.slot()) {
      // The candidate lacks slots we compacted, and no one may be able to send them to it
      // as leader: the replicas that know them chosen may all be outside the memberships it
      // knows (a removed voter that compacted past the change; seed 850133 of issue 18).
      // A snapshot holds chosen slots only, so it may come from anyone: the zero ballot
      // says it claims no leadership.
      Message snap = NewMessage(MSG_SNAPSHOT, m.from());
      snap.clear_ballot();
      *snap.mutable_snapshot() = snapshot_;
      Send(std::move(snap));
    }
    return;
  }
  // A promise does not restart the election timer: only hearing a leader does. A candidate
  // that cannot hear the answers (cut off one way) would otherwise hold back every election
  // by promising a new ballot each time its own timer fires.
  if (b > promised_) Promise(b);
  Message r = NewMessage(MSG_PROMISE, m.from());
  r.set_commit(commit_);
  r.set_from_slot(m.from_slot());
  for (Slot s = std::max(m.from_slot(), log_.first_slot()); s <= log_.last_slot(); ++s) {
    if (const EntryPtr& e = log_.Get(s)) *r.add_entries() = *e;
  }
  Send(std::move(r));
}

void Core::ExtendMatch() {
  if (match_ < commit_) match_ = commit_;
  for (;;) {
    const EntryPtr& e = log_.Get(match_ + 1);
    if (!e || e->ballot() != promised_) break;
    ++match_;
  }
}

void Core::OnAccept(Message& m) {
  if (m.ballot() < promised_) {
    Send(NewMessage(MSG_REJECT, m.from()));
    return;
  }
  Promise(m.ballot());
  leader_ = m.from();
  ticks_since_leader_ = 0;
  election_elapsed_ = 0;
  // Holes ahead of what we hold in order are bounded, so the log cannot balloon.
  const Slot cap = match_ + 2 * MaxPromiseLag();
  Slot lo = 0, hi = 0;
  for (Entry& e : *m.mutable_entries()) {
    const Slot s = e.slot();
    if (s <= commit_ || s < log_.first_slot()) continue;
    if (s > cap) break;
    *e.mutable_ballot() = promised_;
    auto p = std::make_shared<Entry>(std::move(e));
    log_.Put(p);
    Persist(p);
    if (lo == 0) lo = s;
    hi = s;
  }
  ExtendMatch();
  SetCommit(std::max(commit_, std::min(match_, m.commit())));
  Message r = NewMessage(MSG_ACCEPTED, m.from());
  r.set_match(match_);
  r.set_commit(commit_);
  r.set_acked_lo(lo);
  r.set_acked_hi(hi);
  r.set_round_id(m.round_id());
  Send(std::move(r));
}

void Core::OnSnapshot(Message& m) {
  if (m.ballot().round() == 0) {
    // Catch-up from a replica that refused our prepare: install it if it is ahead, promise
    // nothing. A leader recovers its open slots itself; a candidate's election asked for
    // slots now behind it, so it starts over as a follower.
    if (role_ == Role::kLeader || m.snapshot().slot() <= commit_) return;
    if (role_ == Role::kCandidate) StepDown();
    InstallSnapshot(m.snapshot());
    return;
  }
  if (m.ballot() < promised_) {
    Send(NewMessage(MSG_REJECT, m.from()));
    return;
  }
  Promise(m.ballot());
  leader_ = m.from();
  ticks_since_leader_ = 0;
  election_elapsed_ = 0;
  if (m.snapshot().slot() > commit_) InstallSnapshot(m.snapshot());
  Message r = NewMessage(MSG_ACCEPTED, m.from());
  r.set_match(match_);
  r.set_commit(commit_);
  Send(std::move(r));
}

void Core::InstallSnapshot(const SnapshotMeta& meta) {
  const Slot slot = meta.slot();
  snapshot_ = meta;
  log_.DropThrough(slot);
  configs_.Reset(meta.config(), slot);
  commit_ = slot;
  applied_ = handed_ = slot;
  MarkHardState();
  std::erase_if(ready_.committed, [slot](const EntryPtr& e) { return e->slot() <= slot; });
  std::erase_if(ready_.entries, [slot](const EntryPtr& e) { return e->slot() <= slot; });
  ready_.snapshot = meta;
  // A catch-up snapshot queued before this one names data the server no longer keeps: the
  // server attaches its latest snapshot, which is this one (and serves the candidate better).
  for (Message& m : ready_.messages) {
    if (m.type() == MSG_SNAPSHOT) *m.mutable_snapshot() = meta;
  }
  match_ = commit_;
  ExtendMatch();
}

void Core::OnReject(const Message& m) {
  if (role_ != Role::kFollower && m.ballot() > promised_) StepDown();
}

// ----------------------------------------------------------------------------------------
// Candidate and leader.

DropReason Core::OnPromise(Message& m) {
  // A late answer to an earlier election is normal: ignored, not counted.
  if (role_ != Role::kCandidate || m.ballot() != promised_ || m.refused()) {
    return DropReason::kNone;
  }
  // Our ballot is unique to this election, so an honest promise names its from_slot.
  if (m.from_slot() != election_.from_slot()) return DropReason::kInconsistent;
  std::vector<EntryPtr> entries;
  entries.reserve(m.entries_size());
  for (Entry& e : *m.mutable_entries()) entries.push_back(std::make_shared<Entry>(std::move(e)));
  if (election_.AddPromise(m.from(), m.commit(), std::move(entries))) MaybeWin();
  return DropReason::kNone;
}

std::vector<NodeId> Core::AllMembers() const {
  std::vector<NodeId> ids;
  for (const Span* sp : configs_.SpansFrom(commit_ + 1)) {
    ids.insert(ids.end(), sp->membership.voters().begin(), sp->membership.voters().end());
    ids.insert(ids.end(), sp->membership.learners().begin(), sp->membership.learners().end());
  }
  ids.push_back(cfg_.id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

int Core::PeerBit(NodeId id) const {
  for (size_t i = 0; i < peers_.size(); ++i) {
    if (peers_[i].id == id) return int(i);
  }
  return -1;
}

Progress* Core::PeerProgress(NodeId id) {
  const int bit = PeerBit(id);
  return bit < 0 ? nullptr : &peers_[bit];
}

void Core::SyncPeers() {
  const std::vector<NodeId> ids = AllMembers();
  for (Progress& p : peers_) p.member = std::binary_search(ids.begin(), ids.end(), p.id);
  for (NodeId id : ids) {
    if (PeerBit(id) >= 0 || peers_.size() >= 64) continue;
    Progress p;
    p.id = id;
    p.last_ack_tick = -1;
    peers_.push_back(p);
  }
  self_bit_ = PeerBit(cfg_.id);
  for (Span& sp : configs_.spans()) {
    sp.voter_mask = 0;
    for (NodeId v : sp.membership.voters()) {
      const int bit = PeerBit(v);
      if (bit >= 0) sp.voter_mask |= uint64_t{1} << bit;
    }
  }
}

bool Core::ConfigChangeInFlight() const {
  return queued_config_ || config_in_flight_ || configs_.ChangePendingAt(commit_ + 1);
}

void Core::CutBatches() {
  const Slot first_new = next_slot_;
  if (queued_config_ && WindowOpen()) {
    auto e = std::make_shared<Entry>();
    e->set_slot(next_slot_++);
    *e->mutable_ballot() = promised_;
    e->set_type(ENTRY_CONFIG);
    *e->mutable_membership() = std::move(*queued_config_);
    queued_config_.reset();
    config_in_flight_ = e->slot();
    AppendOwn(std::move(e));
  }
  while (!batch_.empty() && WindowOpen()) {
    auto e = std::make_shared<Entry>();
    e->set_slot(next_slot_++);
    *e->mutable_ballot() = promised_;
    e->set_type(ENTRY_COMMANDS);
    size_t bytes = 0;
    while (!batch_.empty() && size_t(e->commands_size()) < cfg_.max_batch_commands &&
           (bytes == 0 || bytes + batch_.front().size() <= cfg_.max_batch_bytes)) {
      bytes += batch_.front().size();
      e->add_commands(std::move(batch_.front()));
      batch_.pop_front();
    }
    batch_bytes_ -= bytes;
    AppendOwn(std::move(e));
  }
  // A chosen membership change governs from slot s + window on: fill the slots before
  // that with no-ops so it takes effect even when no commands arrive.
  while (NeedsFill()) {
    auto e = std::make_shared<Entry>();
    e->set_slot(next_slot_++);
    *e->mutable_ballot() = promised_;
    e->set_type(ENTRY_NOOP);
    AppendOwn(std::move(e));
  }
  if (next_slot_ > first_new) Broadcast(first_new, next_slot_ - 1);
}

bool Core::NeedsFill() const { return configs_.spans().back().from > next_slot_ && WindowOpen(); }

void Core::AppendOwn(EntryPtr e) {
  log_.Put(e);
  Persist(e);
}

void Core::Broadcast(Slot lo, Slot hi) {
  for (Progress& p : peers_) {
    if (p.id == cfg_.id || !p.member || p.snapshotting) continue;
    SendEntries(p, lo, hi);
  }
}

void Core::SendEntries(Progress& p, Slot lo, Slot hi) {
  if (lo < log_.first_slot()) {
    Message m = NewMessage(MSG_SNAPSHOT, p.id);
    *m.mutable_snapshot() = snapshot_;
    Send(std::move(m));
    p.snapshotting = true;
    p.snapshot_sent_tick = now_;
    return;
  }
  Message m = NewMessage(MSG_ACCEPT, p.id);
  m.set_commit(commit_);
  m.set_round_id(reads_.round());
  size_t bytes = 0;
  Slot s = lo;
  while (s <= hi && size_t(m.entries_size()) < cfg_.max_entries_per_message &&
         bytes < cfg_.max_bytes_per_message) {
    const EntryPtr& e = log_.Get(s);
    if (!e) break;
    for (const std::string& c : e->commands()) bytes += c.size();
    *m.add_entries() = *e;
    ++s;
  }
  if (lo <= p.sent + 1 && s - 1 > p.sent) p.sent = s - 1;
  Send(std::move(m));
}

void Core::SendHeartbeats() {
  heartbeat_now_ = false;
  heartbeat_elapsed_ = 0;
  const uint64_t round = reads_.NewRound(now_);
  for (Progress& p : peers_) {
    if (p.id == cfg_.id || !p.member) continue;
    Message m = NewMessage(MSG_ACCEPT, p.id);
    m.set_commit(commit_);
    m.set_round_id(round);
    Send(std::move(m));
  }
  UpdateConfirmedRound();
}

void Core::CatchUp(Progress& p) {
  if (p.snapshotting || p.id == cfg_.id) return;
  const Slot lo = p.match + 1;
  if (lo >= next_slot_) return;
  p.sent = p.match;
  SendEntries(p, lo, next_slot_ - 1);
}

void Core::OnAccepted(const Message& m) {
  if (role_ != Role::kLeader || m.ballot() != promised_) return;
  Progress* p = PeerProgress(m.from());
  if (!p) return;
  const int bit = PeerBit(m.from());
  p->last_ack_tick = now_;
  p->commit = m.commit();
  const Slot top = next_slot_ - 1;
  if (m.acked_lo() > 0 && m.acked_lo() <= m.acked_hi()) {
    box_.Ack(m.acked_lo(), std::min(m.acked_hi(), top), bit);
  }
  if (m.match() > p->match) {
    box_.Ack(p->match + 1, std::min(m.match(), top), bit);
    p->match = m.match();
  }
  if (p->snapshotting && p->match + 1 >= log_.first_slot()) p->snapshotting = false;
  if (m.round_id() > p->acked_round) {
    p->acked_round = m.round_id();
    UpdateConfirmedRound();
  }
  AdvanceLeaderCommit();
  if (role_ != Role::kLeader || p->snapshotting || p->match >= top) return;
  if (m.acked_lo() == 0) {
    // A heartbeat reply: resend what it lacks if it made no progress since the last one.
    if (p->match == p->probe_match) CatchUp(*p);
    p->probe_match = p->match;
  } else if (p->match >= p->sent) {
    CatchUp(*p);  // streaming catch-up: the previous piece arrived
  }
}

void Core::AdvanceLeaderCommit() {
  const Slot c = box_.Advance([this](Slot s, uint64_t mask) {
    if (s >= next_slot_) return false;
    const Span& sp = configs_.SpanFor(s);
    return size_t(BallotBox::Count(mask & sp.voter_mask)) >= QuorumSize(sp.membership);
  });
  if (c > commit_) SetCommit(c);
}

void Core::UpdateConfirmedRound() {
  uint64_t confirmed = UINT64_MAX;
  std::vector<uint64_t> rounds;
  for (const Span* sp : configs_.SpansFrom(commit_ + 1)) {
    rounds.clear();
    for (NodeId v : sp->membership.voters()) {
      if (v == cfg_.id) {
        rounds.push_back(reads_.round());
      } else {
        const int bit = PeerBit(v);
        rounds.push_back(bit < 0 ? 0 : peers_[bit].acked_round);
      }
    }
    const size_t q = QuorumSize(sp->membership);
    if (rounds.size() < q) return;
    std::nth_element(rounds.begin(), rounds.begin() + (q - 1), rounds.end(),
                     std::greater<uint64_t>());
    confirmed = std::min(confirmed, rounds[q - 1]);
  }
  if (confirmed != UINT64_MAX) reads_.Confirm(confirmed);
  ReleaseReads();
}

bool Core::LeaseValid() const {
  // A follower refuses promises for election_ticks of its own ticks after the round reached
  // it, but the first of them may come at once: its refusal may last only election_ticks - 1
  // whole ticks. The lease ends one tick earlier for that, so lease_margin_ticks is left
  // whole for the clocks' drift (lease_clock_test).
  return cfg_.lease_reads && reads_.lease_usable() &&
         now_ + 1 < reads_.confirmed_sent_tick() + cfg_.election_ticks - cfg_.lease_margin_ticks;
}

// ----------------------------------------------------------------------------------------
// Shared.

void Core::SetCommit(Slot c) {
  if (c <= commit_) return;
  bool config_changed = false;
  for (Slot s = commit_ + 1; s <= c; ++s) {
    const EntryPtr& e = log_.Get(s);
    if (e && e->type() == ENTRY_CONFIG) {
      configs_.OnChosen(s, e->membership());
      config_changed = true;
    }
  }
  const std::vector<Span>& spans = configs_.spans();
  const bool crossed =
      spans.size() > 1 && spans.back().from > commit_ + 1 && spans.back().from <= c + 1;
  commit_ = c;
  MarkHardState();
  for (Slot s = handed_ + 1; s <= c; ++s) ready_.committed.push_back(log_.Get(s));
  handed_ = std::max(handed_, c);
  if (role_ == Role::kLeader) {
    if (config_in_flight_ && *config_in_flight_ <= c) config_in_flight_.reset();
    box_.SkipTo(c + 1);
    if (config_changed) {
      reads_.Invalidate();
      heartbeat_now_ = true;
    }
    if (config_changed || crossed) SyncPeers();
    if (!IsVoter(configs_.ForSlot(commit_ + 1), cfg_.id) &&
        !configs_.ChangePendingAt(commit_ + 1)) {
      StepDown();  // removed: the new membership governs from here on
      return;
    }
    ReleaseReads();
  }
}

void Core::ReleaseReads() {
  if (role_ == Role::kLeader) reads_.Release(handed_, &ready_.reads);
}

Message Core::NewMessage(MessageType type, NodeId to) const {
  Message m;
  m.set_type(type);
  m.set_from(cfg_.id);
  m.set_to(to);
  *m.mutable_ballot() = promised_;
  return m;
}

void Core::Send(Message m) { ready_.messages.push_back(std::move(m)); }

}  // namespace penncloud::paxos
