// A Client for one replica group over gRPC: finds and follows the leader, retries with
// backoff, and tags writes with (session, sequence) so the replicas apply each at most once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "kvs/client/client.h"
#include "proto/kvs.grpc.pb.h"

namespace penncloud::kvs {

struct ReplicaGroupOptions {
  // How long one call keeps retrying before it reports kUnavailable.
  std::chrono::milliseconds deadline{10000};
  // Deadline of a single RPC attempt.
  std::chrono::milliseconds attempt_timeout{1000};
  std::chrono::milliseconds initial_backoff{5};
  std::chrono::milliseconds max_backoff{200};
};

class ReplicaGroupClient final : public Client {
 public:
  ReplicaGroupClient(std::vector<std::string> addresses, ReplicaGroupOptions options = {});

  absl::StatusOr<std::string> Get(std::string_view row, std::string_view column) override;
  absl::Status Put(std::string_view row, std::string_view column, std::string_view value) override;
  absl::StatusOr<bool> CPut(std::string_view row, std::string_view column,
                            std::optional<std::string_view> expected,
                            std::string_view value) override;
  absl::Status Delete(std::string_view row, std::string_view column) override;
  absl::StatusOr<ColumnPage> List(std::string_view row, const ListOptions& options) override;

  // The status of every replica (for kvsctl); unreachable replicas are left out.
  std::vector<std::pair<std::string, absl::StatusOr<pb::StatusResponse>>> StatusAll();

 private:
  // One at-most-once session: at most one write is in flight in it at a time.
  struct Session {
    uint64_t id;
    uint64_t next_seq;
  };

  absl::StatusOr<pb::WriteResponse> Write(pb::Command command);
  Session AcquireSession();
  void ReleaseSession(Session session);

  // Runs `attempt(stub, hint)` against the believed leader until it succeeds, fails for
  // good, or the deadline passes. `attempt` returns the gRPC status and fills `hint`.
  template <typename Attempt>
  absl::Status Retry(const char* what, Attempt attempt);

  int IndexOf(const std::string& address) const;

  const std::vector<std::string> addresses_;
  const ReplicaGroupOptions options_;
  std::vector<std::unique_ptr<pb::KvsService::Stub>> stubs_;
  std::atomic<int> leader_{0};  // index into stubs_ of the believed leader

  std::mutex mu_;
  std::vector<Session> idle_sessions_;  // GUARDED_BY(mu_)
};

}  // namespace penncloud::kvs
