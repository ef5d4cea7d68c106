#include "kvs/server/apply_queue.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "kvs/client/replica_group_client.h"
#include "kvs/server/request_checks.h"
#include "kvs/shard/wrong_group.h"

namespace penncloud::kvs::server {

grpc::Status WriteAnswer(const machine::ApplyOutcome& outcome, uint64_t group) {
  if (outcome.stale) {
    return grpc::Status(grpc::StatusCode::ABORTED,
                        "kvs: request superseded by a later one of its session");
  }
  if (outcome.expired) {
    return grpc::Status(
        grpc::StatusCode::FAILED_PRECONDITION,
        absl::StrCat(kSessionExpired,
                     ": the write may be a late retry of one applied before; not applied"));
  }
  if (!outcome.unavailable.empty()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "kvs: " + outcome.unavailable + "; retry");
  }
  if (outcome.result.wrong_group()) {
    return ToGrpc(shard::WrongGroupError(
        outcome.result.map_version(), absl::StrCat("group ", group, " does not serve this row")));
  }
  return grpc::Status::OK;
}

void ApplyQueue::Add(uint64_t session, uint64_t seq, PendingWrite write) {
  writes_[{session, seq}].push_back(write);
}

void ApplyQueue::Applied(const pb::Command& command, const machine::ApplyOutcome& outcome,
                         uint64_t group) {
  auto it = writes_.find({command.session(), command.seq()});
  if (it == writes_.end()) return;
  const grpc::Status answer = WriteAnswer(outcome, group);
  for (PendingWrite& w : it->second) {
    if (answer.ok()) w.response->set_cput_succeeded(outcome.result.cput_succeeded());
    w.Finish(answer);
  }
  writes_.erase(it);
}

void ApplyQueue::Dropped(uint64_t session, uint64_t seq,
                         const std::function<void(pb::LeaderHint*)>& fill_hint) {
  auto it = writes_.find({session, seq});
  if (it == writes_.end()) return;
  for (PendingWrite& w : it->second) {
    fill_hint(w.response->mutable_hint());
    w.Finish(grpc::Status::OK);
  }
  writes_.erase(it);
}

void ApplyQueue::Expire(std::chrono::steady_clock::time_point now) {
  for (auto it = writes_.begin(); it != writes_.end();) {
    auto& writes = it->second;
    auto expired = std::remove_if(writes.begin(), writes.end(), [&](PendingWrite& w) {
      if (w.deadline > now) return false;
      w.Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "kvs: write not chosen in time (no quorum?); retry"));
      return true;
    });
    writes.erase(expired, writes.end());
    if (writes.empty()) {
      writes_.erase(it++);
    } else {
      ++it;
    }
  }
}

void ApplyQueue::FailAll(const grpc::Status& status) {
  for (auto& [key, writes] : writes_) {
    for (PendingWrite& w : writes) w.Finish(status);
  }
  writes_.clear();
}

}  // namespace penncloud::kvs::server
