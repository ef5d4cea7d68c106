// Applying committed entries to the state machine (kvs/machine through the store) and
// answering what waited for them: the writes of the apply queue, membership changes, and
// reads released by the core.
#include <chrono>
#include <vector>

#include "common/log.h"
#include "kvs/machine/session_expiry.h"
#include "kvs/server/fatal.h"
#include "kvs/server/membership_change.h"
#include "kvs/server/nonce.h"
#include "kvs/server/replica.h"
#include "kvs/server/request_checks.h"
#include "kvs/shard/wrong_group.h"

namespace penncloud::kvs::server {
namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

void Replica::ApplyEntry(const paxos::Entry& entry) {
  // The state machine may be ahead of the core (a snapshot's data is taken at the
  // sender's applied slot, which can be past the snapshot's slot): skip what it has.
  if (entry.slot() <= store_->AppliedSlot()) return;
  compaction_.Applied(entry.slot(), entry.ByteSizeLong());
  std::vector<pb::Command> commands;
  if (entry.type() == paxos::ENTRY_COMMANDS) {
    commands.resize(entry.commands_size());
    for (int i = 0; i < entry.commands_size(); ++i) {
      // A command that does not parse stays OP_UNSPECIFIED and does nothing, on every
      // replica alike.
      commands[i].ParseFromString(entry.commands(i));
    }
  } else if (entry.type() == paxos::ENTRY_CONFIG) {
    PC_LOG(kInfo, "kvs.membership")
    ("slot", entry.slot())("voters", entry.membership().voters_size())(
        "learners", entry.membership().learners_size());
    // Peers are authorized by the published membership (AuthorizePeer): a new member's
    // first replies must not meet the old one.
    PublishStatus(/*now_please=*/true);
  }
  // The address book is written before the slot (RocksDB keeps write order, so it is on
  // disk whenever the slot is); applying it again after a crash changes nothing.
  for (const pb::Command& c : commands) {
    if (c.op() == pb::OP_SET_PEER) ApplySetPeer(c.peer());
  }
  // The waiting writes are answered as soon as the machine has decided their outcomes,
  // before the slot's store write: the slot is chosen, so on disk on a majority whatever
  // becomes of this write (a replica that fails it stops, and applies the slot again from
  // its log), and every read this replica serves runs on this thread, after the write.
  auto answer = [&](const std::vector<storage::ApplyOutcome>& outcomes) {
    if (apply_queue_.empty()) return;
    for (size_t i = 0; i < commands.size(); ++i) {
      apply_queue_.Applied(commands[i], outcomes[i], options_.group);
    }
  };
  absl::StatusOr<std::vector<storage::ApplyOutcome>> outcomes =
      store_->ApplySlot(entry.slot(), commands, &hooks_, answer);
  if (!outcomes.ok()) Fatal("kvs.apply_failed", outcomes.status());
  applied_commands_.fetch_add(commands.size(), std::memory_order_relaxed);
  if (watches_.size() > 0) WakeWatches(commands);
  if (change_) {
    for (const pb::Command& c : commands) {
      if (c.op() == pb::OP_SET_PEER && change_ && c.seq() == change_->peer_nonce) ProposeChange();
    }
    if (change_ && change_->target && entry.type() == paxos::ENTRY_CONFIG &&
        SameMembers(entry.membership(), *change_->target)) {
      change_->response->set_chosen(true);
      FinishChange(grpc::Status::OK);
    }
  }
}

void Replica::ServeRead(PendingRead& r) {
  // Checked on the applied state, after the read index: refused by exactly the replicas
  // whose state says the group does not serve the row.
  if (r.rows != nullptr) {
    // Admin listing of what this group stores: no row of its own to judge.
    std::vector<std::string> rows;
    bool more = false;
    absl::Status s = store_->ListRows(r.rows->after(), r.rows->limit(), &rows, &more);
    if (!s.ok()) {
      r.Finish(grpc::Status(grpc::StatusCode::INTERNAL, s.ToString()));
      return;
    }
    for (std::string& row : rows) r.rows_response->add_rows(std::move(row));
    r.rows_response->set_more(more);
    r.Finish(grpc::Status::OK);
    return;
  }
  std::string why;
  const std::string& row = r.get != nullptr    ? r.get->row()
                           : r.list != nullptr ? r.list->row()
                                               : r.watch->row();
  switch (Judge(row, /*write=*/false, &why)) {
    case Verdict::kServe:
      break;
    case Verdict::kWrongGroup:
      r.Finish(ToGrpc(shard::WrongGroupError(store_->MapVersion(), why)));
      return;
    case Verdict::kUnavailable:
      r.Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "kvs: " + why + "; retry"));
      return;
  }
  if (r.watch != nullptr) {
    ServeWatch(r);
    return;
  }
  if (r.get != nullptr) {
    auto value = store_->Get(r.get->row(), r.get->column());
    if (!value.ok()) {
      r.Finish(grpc::Status(grpc::StatusCode::INTERNAL, value.status().ToString()));
      return;
    }
    if (value->has_value()) {
      r.get_response->set_found(true);
      r.get_response->set_value(std::move(**value));
    }
    r.Finish(grpc::Status::OK);
    return;
  }
  std::vector<storage::ListedCell> cells;
  bool more = false;
  absl::Status s = store_->List(r.list->row(), r.list->after(), r.list->limit(),
                                r.list->with_values(), &cells, &more);
  if (!s.ok()) {
    r.Finish(grpc::Status(grpc::StatusCode::INTERNAL, s.ToString()));
    return;
  }
  for (storage::ListedCell& cell : cells) {
    pb::ListCell* out = r.list_response->add_cells();
    out->set_column(std::move(cell.column));
    out->set_value(std::move(cell.value));
  }
  r.list_response->set_more(more);
  r.Finish(grpc::Status::OK);
}

void Replica::ServeWatch(PendingRead& r) {
  const pb::WatchRequest& w = *r.watch;
  std::vector<WatchedCell> known, changed;
  known.reserve(w.known_size());
  for (const pb::WatchedCell& k : w.known()) {
    absl::StatusOr<std::optional<std::string>> now = store_->Get(w.row(), k.column());
    if (!now.ok()) {
      r.Finish(grpc::Status(grpc::StatusCode::INTERNAL, now.status().ToString()));
      return;
    }
    known.push_back(
        WatchedCell{k.column(), k.found() ? std::optional<std::string>(k.value()) : std::nullopt});
    if (*now != known.back().value) changed.push_back(WatchedCell{k.column(), *std::move(now)});
  }
  if (changed.empty() && w.timeout_ms() > 0) {
    // On the loop thread, between two applies: no write can slip between the look above
    // and the registration.
    absl::Status parked =
        watches_.Park(w.row(), std::move(known),
                      Clock::now() + std::chrono::milliseconds(w.timeout_ms()), r.watcher);
    if (parked.ok()) return;
    r.Finish(ToGrpc(parked));
    return;
  }
  r.watcher->Answer(absl::OkStatus(), std::move(changed));
}

void Replica::WakeWatches(const std::vector<pb::Command>& commands) {
  for (const pb::Command& c : commands) {
    switch (c.op()) {
      case pb::OP_PUT:
      case pb::OP_CPUT:
      case pb::OP_DELETE:
      case pb::OP_CDELETE: {
        if (!watches_.Watches(c.row())) break;
        absl::StatusOr<std::optional<std::string>> now = store_->Get(c.row(), c.column());
        if (!now.ok()) {
          watches_.FailAll(absl::InternalError(now.status().ToString()));
          return;
        }
        watches_.Changed(c.row(), c.column(), *now);
        break;
      }
      case pb::OP_SET_MAP:
      case pb::OP_MIGRATE:
        // Rows may have moved to another group: every watcher asks again, and one whose
        // row is no longer served here hears "wrong group" and follows it.
        watches_.FailAll(absl::UnavailableError("kvs: the group's ranges changed; watch again"));
        break;
      default:
        break;
    }
  }
}

std::string Replica::StampNow() {
  // A serialized Command holding only stamp_ms: appended to a serialized command it sets
  // that field (protobuf merges concatenated messages), without re-encoding the value.
  pb::Command stamp;
  stamp.set_stamp_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
  return stamp.SerializeAsString();
}

void Replica::MaybeExpireSessions() {
  const int64_t idle = options_.session_idle_ms;
  if (idle <= 0 || !node_->is_leader() || Clock::now() < next_expiry_) return;
  // Measured on the log's clock, so every replica drops the same sessions; at most one
  // sweep a second is proposed (a lost one is proposed again).
  std::optional<pb::SessionExpiry> due = machine::ExpiryDue(store_->SessionClockNow(), idle);
  if (!due) return;
  next_expiry_ = Clock::now() + std::chrono::seconds(1);
  pb::Command c;
  c.set_op(pb::OP_EXPIRE_SESSIONS);
  c.set_seq(Nonce());
  *c.mutable_expire() = *due;
  if (absl::Status s = node_->Propose(c.SerializeAsString()); !s.ok()) return;
  PC_LOG(kDebug, "kvs.sessions_expiring")("horizon_ms", c.expire().horizon_ms());
}

}  // namespace penncloud::kvs::server
