// A Client for one replica group over gRPC: finds and follows the leader, retries with
// backoff, and tags writes with (session, sequence) so the replicas apply each at most once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "kvs/client/async_reads.h"
#include "kvs/client/batcher.h"
#include "kvs/client/client.h"
#include "proto/kvs.grpc.pb.h"

namespace penncloud::kvs {

// How a replica's FAILED_PRECONDITION answer to a write starts when the write's session is
// unknown to the group and the write may be a late retry of one applied before the session
// expired (docs/kvs.md "The at-most-once table"): not applied, outcome of earlier copies
// unknown.
inline constexpr char kSessionExpired[] = "kvs: session expired";

struct ReplicaGroupOptions {
  // How long one call keeps retrying before it reports kUnavailable.
  std::chrono::milliseconds deadline{10000};
  // Deadline of a single RPC attempt.
  std::chrono::milliseconds attempt_timeout{1000};
  std::chrono::milliseconds initial_backoff{5};
  std::chrono::milliseconds max_backoff{200};
};

// At-most-once sessions, shared by the clients of several groups (the sharded client) so
// that one session's sequence numbers rise across groups: when a range moves, its session
// records move with it and still order correctly against the session's later writes.
class SessionPool {
 public:
  struct Session {
    uint64_t id;
    uint64_t next_seq;
  };
  // A session no other thread is using (a new one when all are busy).
  Session Acquire();
  void Release(Session session);

 private:
  std::mutex mu_;
  std::vector<Session> idle_;  // GUARDED_BY(mu_)
};

class ReplicaGroupClient final : public Client {
 public:
  // `sessions` may be shared with other groups' clients; null = a pool of its own.
  ReplicaGroupClient(std::vector<std::string> addresses, ReplicaGroupOptions options = {},
                     std::shared_ptr<SessionPool> sessions = nullptr);

  absl::StatusOr<std::string> Get(std::string_view row, std::string_view column) override;
  // One attempt in a batch of its own kind (kvs/client/async_reads.h).
  void StartGet(std::string_view row, std::string_view column,
                std::function<void(StartedGet)> done) override;
  absl::Status Put(std::string_view row, std::string_view column, std::string_view value) override;
  absl::StatusOr<bool> CPut(std::string_view row, std::string_view column,
                            std::optional<std::string_view> expected,
                            std::string_view value) override;
  absl::Status Delete(std::string_view row, std::string_view column) override;
  absl::StatusOr<bool> CDelete(std::string_view row, std::string_view column,
                               std::string_view expected) override;
  absl::StatusOr<ColumnPage> List(std::string_view row, const ListOptions& options) override;
  // Follows the leader like every call; after a lost leader or a broken connection it
  // watches again at the new leader with the same `known`, for the time that is left, so
  // nothing written meanwhile is missed. Gives up kUnavailable when no leader answered
  // within the client's deadline past the timeout.
  absl::StatusOr<std::vector<WatchedCell>> Watch(std::string_view row,
                                                 const std::vector<WatchedCell>& known,
                                                 std::chrono::milliseconds timeout,
                                                 WatchCancel* cancel) override;

  // The status of every replica (for kvsctl); unreachable replicas are left out.
  std::vector<std::pair<std::string, absl::StatusOr<pb::StatusResponse>>> StatusAll();

  // Has the group apply a serialized cluster map (docs/sharding.md section 5); returns
  // once the group's leader has applied it. A map not newer than the group's is ignored.
  absl::Status InstallMap(const std::string& map_bytes);
  // Has the group apply one migration step (docs/sharding.md section 6); returns once the
  // group's leader has applied it.
  absl::Status Migrate(const pb::MigrateStep& step);
  // Admin reads (kvs/client/group_admin.h): a page of the rows the group stores, from its
  // leader's applied state.
  absl::StatusOr<pb::ListRowsResponse> ListRows(const pb::ListRowsRequest& request);
  // One node membership change through the group's leader (docs/sharding.md section 7).
  absl::StatusOr<pb::ChangeMembershipResponse> ChangeMembership(
      const pb::ChangeMembershipRequest& request);
  const std::vector<std::string>& addresses() const { return addresses_; }

 private:
  using Session = SessionPool::Session;

  absl::StatusOr<pb::WriteResponse> Write(pb::Command command);

  // Runs `attempt(stub, attempt_deadline, hint)` against the believed leader until it
  // succeeds, fails for good, `deadline` passes or `cancel` (may be null) is cancelled.
  // `attempt` returns the gRPC status and fills `hint`.
  template <typename Attempt>
  absl::Status Retry(const char* what, std::chrono::steady_clock::time_point deadline,
                     const WatchCancel* cancel, Attempt attempt);

  // One unary KvsService call through Retry: every response carries the leader hint. It
  // retries until `until` (default: the client's deadline from now).
  template <typename Request, typename Response>
  absl::Status Call(const char* what,
                    grpc::Status (pb::KvsService::Stub::*method)(grpc::ClientContext*,
                                                                 const Request&, Response*),
                    const Request& request, Response* response,
                    bool* retried_after_failure = nullptr,
                    std::optional<std::chrono::steady_clock::time_point> until = std::nullopt);

  int IndexOf(const std::string& address) const;

  // The first attempt of a write or a read goes in a batch (kvs/client/batcher.h). True if
  // the leader's answer settles the call (success or an error no retry can fix), in
  // *status; false if the caller must retry it alone.
  bool Batched(BatchItem* item, absl::Status* status);

  const std::vector<std::string> addresses_;
  const ReplicaGroupOptions options_;
  std::vector<std::unique_ptr<pb::KvsService::Stub>> stubs_;
  std::atomic<int> leader_{0};  // index into stubs_ of the believed leader
  const std::shared_ptr<SessionPool> sessions_;
  std::unique_ptr<Batcher> batcher_;
  // Last member: destroyed first, while the stubs its batches on the wire use still live.
  std::unique_ptr<AsyncReads> async_reads_;
};

}  // namespace penncloud::kvs
