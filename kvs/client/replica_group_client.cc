#include "kvs/client/replica_group_client.h"

#include <algorithm>
#include <random>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/grpc_metrics.h"
#include "common/grpc_tls.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/write_deadline.h"

namespace penncloud::kvs {
namespace {

// Values reach kMaxValueBytes; leave room for the rest of the message.
constexpr int kMaxMessageBytes = 3 * static_cast<int>(kMaxValueBytes);

uint64_t RandomId() {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}() ^
                             std::chrono::steady_clock::now().time_since_epoch().count());
  std::lock_guard<std::mutex> lock(mu);
  uint64_t id = 0;
  while (id == 0) id = rng();
  return id;
}

absl::Status CheckKey(std::string_view row, std::string_view column) {
  if (row.empty()) return absl::InvalidArgumentError("kvs: empty row");
  if (row.size() > kMaxKeyBytes || column.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("kvs: row or column longer than ", kMaxKeyBytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status CheckValue(std::string_view value) {
  if (value.size() > kMaxValueBytes) {
    return absl::InvalidArgumentError(absl::StrCat("kvs: value of ", value.size(),
                                                   " bytes exceeds the limit of ", kMaxValueBytes));
  }
  return absl::OkStatus();
}

// Errors a retry cannot fix. FAILED_PRECONDITION is "wrong group" (kvs/shard/wrong_group.h):
// this group will not serve the row, so only the caller (the sharded client) can act on it.
// UNIMPLEMENTED is a method the replica lacks (an older binary: callers fall back, e.g. from
// Watch to polling). gRPC also answers it to a call whose request never arrived, but only
// after its caller gave up, so no caller receives that one (docs/kvs.md "Unread requests").
bool IsPermanent(grpc::StatusCode code) {
  return code == grpc::StatusCode::INVALID_ARGUMENT ||
         code == grpc::StatusCode::FAILED_PRECONDITION ||
         code == grpc::StatusCode::RESOURCE_EXHAUSTED || code == grpc::StatusCode::UNIMPLEMENTED ||
         code == grpc::StatusCode::OUT_OF_RANGE;
}

// Why an attempt is retried, as a metric label: a rising count says which way the store is
// failing (no leader, unreachable replica, slow replica) before users notice.
void CountRetry(const char* reason) {
  static metrics::CounterFamily& retries = metrics::Default().Counter(
      "kvs_client_retries_total", "KVS client attempts retried, by reason", {"reason"});
  retries.With({reason}).Inc();
}

const char* RetryReason(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return "unavailable";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "deadline";
    case grpc::StatusCode::CANCELLED:
      return "cancelled";
    default:
      return "other";
  }
}

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

// How a first attempt that went in a batch ends the call: OK, or an error no retry can fix;
// std::nullopt when the caller must retry it alone.
std::optional<absl::Status> SettledBy(bool answered, const grpc::Status& status,
                                      const pb::LeaderHint& hint) {
  if (!answered) return std::nullopt;
  if (status.ok() && !hint.not_leader()) return absl::OkStatus();
  if (!status.ok() && IsPermanent(status.error_code())) return FromGrpc(status);
  return std::nullopt;
}

absl::StatusOr<std::string> ValueOf(pb::GetResponse& response) {
  if (!response.found()) return absl::NotFoundError("kvs: no such cell");
  return std::move(*response.mutable_value());
}

}  // namespace

SessionPool::Session SessionPool::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      Session session = idle_.back();
      idle_.pop_back();
      return session;
    }
  }
  return Session{RandomId(), 1};
}

void SessionPool::Release(Session session) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(session);
}

ReplicaGroupClient::ReplicaGroupClient(std::vector<std::string> addresses,
                                       ReplicaGroupOptions options,
                                       std::shared_ptr<SessionPool> sessions)
    : addresses_(std::move(addresses)),
      options_(options),
      sessions_(sessions != nullptr ? std::move(sessions) : std::make_shared<SessionPool>()) {
  for (const std::string& address : addresses_) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kMaxMessageBytes);
    args.SetMaxSendMessageSize(kMaxMessageBytes);
    // A fresh channel per replica (not shared through gRPC's global subchannel pool) so
    // one replica's reconnect backoff never delays another's.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    // Reconnect quickly after a replica restarts: failover time depends on it.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
    // gRPC also takes this as the least time a connection attempt (TCP and TLS handshake)
    // gets: a few ms never complete on a loaded machine (the multi-host test saw it).
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 5000);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
    auto channel = grpc::CreateCustomChannel(address, tls::ChannelCredentials(), args);
    stubs_.push_back(pb::KvsService::NewStub(channel));
  }
  Batcher::Options batching;
  batching.timeout = options_.attempt_timeout;
  auto leader = [this] { return stubs_[leader_.load(std::memory_order_relaxed)].get(); };
  batcher_ = std::make_unique<Batcher>(leader, batching);
  async_reads_ = std::make_unique<AsyncReads>(
      leader, AsyncReads::Options{.timeout = options_.attempt_timeout});
}

int ReplicaGroupClient::IndexOf(const std::string& address) const {
  for (size_t i = 0; i < addresses_.size(); ++i) {
    if (addresses_[i] == address) return static_cast<int>(i);
  }
  return -1;
}

template <typename Attempt>
absl::Status ReplicaGroupClient::Retry(const char* what,
                                       std::chrono::steady_clock::time_point deadline,
                                       const WatchCancel* cancel, Attempt attempt) {
  const auto started = std::chrono::steady_clock::now();
  auto backoff = options_.initial_backoff;
  grpc::Status last = grpc::Status(grpc::StatusCode::UNAVAILABLE, "no attempt made");
  int attempts = 0;
  while (true) {
    const int index = leader_.load(std::memory_order_relaxed);
    // No attempt outlives the call's own deadline.
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto attempt_deadline =
        std::chrono::system_clock::now() +
        std::max(std::chrono::milliseconds(1), std::min(options_.attempt_timeout, remaining));
    pb::LeaderHint hint;
    ++attempts;
    grpc::Status status = attempt(*stubs_[index], attempt_deadline, &hint);
    if (cancel != nullptr && cancel->cancelled()) {
      return absl::CancelledError(absl::StrCat("kvs: ", what, " cancelled"));
    }
    if (status.ok() && !hint.not_leader()) return absl::OkStatus();
    if (!status.ok() && IsPermanent(status.error_code())) return FromGrpc(status);
    CountRetry(status.ok() ? "not_leader" : RetryReason(status));
    bool hinted = false;
    if (status.ok()) {
      last = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          absl::StrCat(addresses_[index], " is not the leader"));
      const int next = hint.leader().empty() ? -1 : IndexOf(hint.leader());
      if (next >= 0 && next != index) {
        int expected = index;
        leader_.compare_exchange_strong(expected, next);
        hinted = true;
      }
    } else {
      last = status;
    }
    if (!hinted) {
      int expected = index;
      leader_.compare_exchange_strong(expected, (index + 1) % static_cast<int>(stubs_.size()));
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    // A fresh hint is worth following at once; otherwise back off before the next try.
    if (!hinted) {
      std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(
          backoff, std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now)));
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
  }
  return absl::UnavailableError(absl::StrCat(
      "kvs: ", what, " failed: replica group [", absl::StrJoin(addresses_, ","),
      "] unreachable or without leader after ", attempts, " attempts in ",
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                            started)
          .count(),
      " ms; last error: ", last.error_message()));
}

template <typename Request, typename Response>
absl::Status ReplicaGroupClient::Call(
    const char* what,
    grpc::Status (pb::KvsService::Stub::*method)(grpc::ClientContext*, const Request&, Response*),
    const Request& request, Response* response, bool* retried_after_failure,
    std::optional<std::chrono::steady_clock::time_point> until) {
  return Retry(what, until.value_or(std::chrono::steady_clock::now() + options_.deadline), nullptr,
               [&](pb::KvsService::Stub& stub, auto deadline, pb::LeaderHint* hint) {
                 grpc::ClientContext context;
                 context.set_deadline(deadline);
                 // The request id of the web request this call serves, so the replica can log it.
                 if (const std::string& id = log::RequestId(); !id.empty()) {
                   context.AddMetadata(metrics::kRequestIdMetadata, id);
                 }
                 response->Clear();
                 grpc::Status s = (stub.*method)(&context, request, response);
                 *hint = response->hint();
                 // An attempt that failed this way may have reached a leader's log before it
                 // failed.
                 if (retried_after_failure != nullptr && !s.ok() && !IsPermanent(s.error_code())) {
                   *retried_after_failure = true;
                 }
                 return s;
               });
}

bool ReplicaGroupClient::Batched(BatchItem* item, absl::Status* status) {
  batcher_->Run(item);
  const pb::LeaderHint& hint =
      item->write != nullptr ? item->write_response->hint() : item->get_response->hint();
  std::optional<absl::Status> settled = SettledBy(item->answered, item->status, hint);
  if (!settled.has_value()) return false;
  *status = *std::move(settled);
  return true;
}

absl::StatusOr<pb::WriteResponse> ReplicaGroupClient::Write(pb::Command command) {
  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  auto until = started + options_.deadline;
  // Read on the caller's thread: the batch carrying the write may leave from another's.
  const std::optional<Clock::time_point> budget = write_deadline::Deadline();
  if (budget.has_value()) {
    if (*budget <= started) {
      return absl::FailedPreconditionError(
          absl::StrCat(kWriteTooLate, " (its budget ran out before it was sent)"));
    }
    until = std::min(until, *budget);
    command.set_apply_by_ms(
        std::chrono::duration_cast<std::chrono::milliseconds>(
            (std::chrono::system_clock::now() + (*budget - started)).time_since_epoch())
            .count());
  }
  pb::WriteRequest request;
  *request.mutable_command() = std::move(command);
  pb::WriteResponse response;
  for (int round = 0;; ++round) {
    Session session = sessions_->Acquire();
    request.mutable_command()->set_session(session.id);
    request.mutable_command()->set_seq(session.next_seq++);
    absl::Status status;
    BatchItem item;
    item.write = &request;
    item.write_response = &response;
    bool retried_after_failure = false;
    if (!Batched(&item, &status)) {
      // A batch that failed on the wire, or whose answer asks for a retry, may have put
      // the write in a leader's log, like a failed attempt of its own.
      retried_after_failure = item.in_doubt || (item.answered && !item.status.ok());
      status = Call("write", &pb::KvsService::Stub::Write, request, &response,
                    &retried_after_failure, until);
    }
    if (absl::IsFailedPrecondition(status) && absl::StartsWith(status.message(), kSessionExpired)) {
      // The group dropped the session (idle too long): it is not used again. If no earlier
      // attempt can have reached a leader's log, this request never ran and goes out once
      // more under a fresh session; otherwise one of those attempts may have been applied.
      if (!retried_after_failure && round == 0) continue;
      return absl::UnavailableError(
          absl::StrCat("kvs: write's outcome unknown: its session expired while it was retried (",
                       status.message(), ")"));
    }
    // Reusing the session after a failure is safe: a late copy of the failed request has a
    // lower sequence than the session's next one, so the replicas ignore it.
    sessions_->Release(session);
    if (status.ok()) return response;
    if (!budget.has_value()) return status;
    // A refusal settles the write only if no earlier attempt can be in a leader's log.
    if (absl::IsFailedPrecondition(status) && absl::StartsWith(status.message(), kWriteTooLate) &&
        retried_after_failure) {
      return absl::DeadlineExceededError(
          absl::StrCat("kvs: write's outcome unknown: an earlier attempt may have been applied (",
                       status.message(), ")"));
    }
    if ((absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) &&
        Clock::now() >= *budget) {
      return absl::DeadlineExceededError(
          absl::StrCat("kvs: write's outcome unknown: its deadline passed while it was retried (",
                       status.message(), ")"));
    }
    return status;
  }
}

absl::StatusOr<std::string> ReplicaGroupClient::Get(std::string_view row, std::string_view column) {
  if (absl::Status s = CheckKey(row, column); !s.ok()) return s;
  pb::GetRequest request;
  request.set_row(std::string(row));
  request.set_column(std::string(column));
  pb::GetResponse response;
  absl::Status status;
  BatchItem item;
  item.get = &request;
  item.get_response = &response;
  if (!Batched(&item, &status))
    status = Call("get", &pb::KvsService::Stub::Get, request, &response);
  if (!status.ok()) return status;
  return ValueOf(response);
}

void ReplicaGroupClient::StartGet(std::string_view row, std::string_view column,
                                  std::function<void(StartedGet)> done) {
  if (absl::Status s = CheckKey(row, column); !s.ok()) return done(s);
  pb::GetRequest request;
  request.set_row(std::string(row));
  request.set_column(std::string(column));
  async_reads_->Start(std::move(request), [done = std::move(done)](AsyncReads::Result read) {
    std::optional<absl::Status> settled =
        SettledBy(read.answered, read.status, read.response.hint());
    if (!settled.has_value()) return done(std::nullopt);
    if (!settled->ok()) return done(*std::move(settled));
    done(ValueOf(read.response));
  });
}

absl::Status ReplicaGroupClient::Put(std::string_view row, std::string_view column,
                                     std::string_view value) {
  if (absl::Status s = CheckKey(row, column); !s.ok()) return s;
  if (absl::Status s = CheckValue(value); !s.ok()) return s;
  pb::Command command;
  command.set_op(pb::OP_PUT);
  command.set_row(std::string(row));
  command.set_column(std::string(column));
  command.set_value(std::string(value));
  return Write(std::move(command)).status();
}

absl::StatusOr<bool> ReplicaGroupClient::CPut(std::string_view row, std::string_view column,
                                              std::optional<std::string_view> expected,
                                              std::string_view value) {
  if (absl::Status s = CheckKey(row, column); !s.ok()) return s;
  if (absl::Status s = CheckValue(value); !s.ok()) return s;
  if (expected.has_value()) {
    if (absl::Status s = CheckValue(*expected); !s.ok()) return s;
  }
  pb::Command command;
  command.set_op(pb::OP_CPUT);
  command.set_row(std::string(row));
  command.set_column(std::string(column));
  command.set_value(std::string(value));
  if (expected.has_value()) {
    command.set_expected(std::string(*expected));
  } else {
    command.set_expect_absent(true);
  }
  absl::StatusOr<pb::WriteResponse> response = Write(std::move(command));
  if (!response.ok()) return response.status();
  return response->cput_succeeded();
}

absl::Status ReplicaGroupClient::Delete(std::string_view row, std::string_view column) {
  if (absl::Status s = CheckKey(row, column); !s.ok()) return s;
  pb::Command command;
  command.set_op(pb::OP_DELETE);
  command.set_row(std::string(row));
  command.set_column(std::string(column));
  return Write(std::move(command)).status();
}

absl::StatusOr<bool> ReplicaGroupClient::CDelete(std::string_view row, std::string_view column,
                                                 std::string_view expected) {
  if (absl::Status s = CheckKey(row, column); !s.ok()) return s;
  if (absl::Status s = CheckValue(expected); !s.ok()) return s;
  pb::Command command;
  command.set_op(pb::OP_CDELETE);
  command.set_row(std::string(row));
  command.set_column(std::string(column));
  command.set_expected(std::string(expected));
  absl::StatusOr<pb::WriteResponse> response = Write(std::move(command));
  if (!response.ok()) return response.status();
  return response->cput_succeeded();
}

absl::StatusOr<ColumnPage> ReplicaGroupClient::List(std::string_view row,
                                                    const ListOptions& options) {
  if (absl::Status s = CheckKey(row, options.after); !s.ok()) return s;
  if (options.limit <= 0 || options.limit > 1000) {
    return absl::InvalidArgumentError("kvs: list limit must be in 1..1000");
  }
  pb::ListRequest request;
  request.set_row(std::string(row));
  request.set_after(options.after);
  request.set_limit(options.limit);
  request.set_with_values(options.with_values);
  pb::ListResponse response;
  absl::Status status = Call("list", &pb::KvsService::Stub::List, request, &response);
  if (!status.ok()) return status;
  ColumnPage page;
  page.more = response.more();
  page.cells.reserve(response.cells_size());
  for (pb::ListCell& cell : *response.mutable_cells()) {
    page.cells.push_back(Cell{std::move(*cell.mutable_column()), std::move(*cell.mutable_value())});
  }
  return page;
}

absl::StatusOr<std::vector<WatchedCell>> ReplicaGroupClient::Watch(
    std::string_view row, const std::vector<WatchedCell>& known, std::chrono::milliseconds timeout,
    WatchCancel* cancel) {
  if (absl::Status s = CheckWatch(row, known); !s.ok()) return s;
  using std::chrono::milliseconds;
  const auto until =
      std::chrono::steady_clock::now() + std::clamp(timeout, milliseconds(0), kMaxWatchTimeout);
  pb::WatchRequest request;
  request.set_row(std::string(row));
  for (const WatchedCell& cell : known) {
    pb::WatchedCell* out = request.add_known();
    out->set_column(cell.column);
    out->set_found(cell.value.has_value());
    if (cell.value) out->set_value(*cell.value);
  }
  pb::WatchResponse response;
  absl::Status status = Retry(
      "watch", until + options_.deadline, cancel,
      [&](pb::KvsService::Stub& stub, auto, pb::LeaderHint* hint) {
        // Each attempt waits for what is left of the caller's time (a last look once
        // none is), plus the usual attempt time for the answer to travel.
        const auto left = std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(
                                                        until - std::chrono::steady_clock::now()));
        request.set_timeout_ms(static_cast<int32_t>(left.count()));
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + left + options_.attempt_timeout);
        if (cancel != nullptr) cancel->SetHook([&context] { context.TryCancel(); });
        response.Clear();
        grpc::Status s = stub.Watch(&context, request, &response);
        if (cancel != nullptr) cancel->ClearHook();
        *hint = response.hint();
        return s;
      });
  if (!status.ok()) return status;
  std::vector<WatchedCell> changed;
  changed.reserve(response.changed_size());
  for (pb::WatchedCell& cell : *response.mutable_changed()) {
    changed.push_back(WatchedCell{std::move(*cell.mutable_column()),
                                  cell.found()
                                      ? std::optional<std::string>(std::move(*cell.mutable_value()))
                                      : std::nullopt});
  }
  return changed;
}

std::vector<std::pair<std::string, absl::StatusOr<pb::StatusResponse>>>
ReplicaGroupClient::StatusAll() {
  std::vector<std::pair<std::string, absl::StatusOr<pb::StatusResponse>>> out;
  for (size_t i = 0; i < stubs_.size(); ++i) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + options_.attempt_timeout);
    pb::StatusResponse response;
    grpc::Status s = stubs_[i]->Status(&context, pb::StatusRequest(), &response);
    if (s.ok()) {
      out.emplace_back(addresses_[i], response);
    } else {
      out.emplace_back(addresses_[i], FromGrpc(s));
    }
  }
  return out;
}

absl::Status ReplicaGroupClient::InstallMap(const std::string& map_bytes) {
  pb::InstallMapRequest request;
  request.set_map(map_bytes);
  pb::WriteResponse response;
  return Call("install map", &pb::KvsService::Stub::InstallMap, request, &response);
}

absl::Status ReplicaGroupClient::Migrate(const pb::MigrateStep& step) {
  pb::MigrateRequest request;
  *request.mutable_step() = step;
  pb::WriteResponse response;
  return Call("migrate", &pb::KvsService::Stub::Migrate, request, &response);
}

absl::StatusOr<pb::ListRowsResponse> ReplicaGroupClient::ListRows(
    const pb::ListRowsRequest& request) {
  if (request.limit() <= 0 || request.limit() > 1000) {
    return absl::InvalidArgumentError("kvs: list limit must be in 1..1000");
  }
  if (request.after().size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("kvs: row longer than ", kMaxKeyBytes, " bytes"));
  }
  pb::ListRowsResponse response;
  absl::Status status = Call("list rows", &pb::KvsService::Stub::ListRows, request, &response);
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<pb::ChangeMembershipResponse> ReplicaGroupClient::ChangeMembership(
    const pb::ChangeMembershipRequest& request) {
  pb::ChangeMembershipResponse response;
  absl::Status status =
      Call("change membership", &pb::KvsService::Stub::ChangeMembership, request, &response);
  if (!status.ok()) return status;
  return response;
}

}  // namespace penncloud::kvs
