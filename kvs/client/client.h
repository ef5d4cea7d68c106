// The one interface through which every PennCloud tier reads and writes the key-value
// store. Cells are addressed by (row, column); a row lives wholly in one replica group, so
// everything under one row can be listed together.
//
// Implementations: ReplicaGroupClient (one group over gRPC), the sharded client (routes
// rows over the hash ring), and MemoryClient (in-process, for unit tests of services).
//
// Every operation is linearizable. Retries are the implementation's job; an error returned
// here means the store could not be reached within the client's deadline (kUnavailable,
// kDeadlineExceeded) or the request itself was bad (kInvalidArgument). A write that
// returned an error may or may not have taken effect, except kWriteTooLate below.
//
// Write deadlines (docs/kvs.md "Write deadlines"): a write made on a thread that serves a
// request with a write budget (common/write_deadline.h) is retried only until that budget
// ends, and no replica group proposes it later.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace penncloud::kvs {

// Largest value a single cell takes. Larger payloads are split into chunks by the caller.
inline constexpr size_t kMaxValueBytes = 4 << 20;
inline constexpr size_t kMaxKeyBytes = 4 << 10;

// How a write's kFailedPrecondition error starts when its deadline passed before any
// replica group proposed it: it was not applied, and never will be.
inline constexpr char kWriteTooLate[] = "kvs: write arrived after its deadline; not applied";

struct Cell {
  std::string column;
  std::string value;  // empty unless values were requested
};

struct ListOptions {
  std::string after;         // list columns strictly greater than this ("" = from the start)
  int limit = 100;           // at most this many cells
  bool with_values = false;  // also return each cell's value
};

struct ColumnPage {
  std::vector<Cell> cells;  // in byte order of column
  bool more = false;        // true if columns beyond the last one returned exist
};

// A cell as a watcher last saw it, or as it is now (value nullopt: the cell does not exist).
struct WatchedCell {
  std::string column;
  std::optional<std::string> value;
  bool operator==(const WatchedCell&) const = default;
};

// Bounds of one Watch (docs/kvs.md "Watches"): a replica parks every call, so each is small.
inline constexpr std::chrono::milliseconds kMaxWatchTimeout{60000};
inline constexpr size_t kMaxWatchCells = 256;
inline constexpr size_t kMaxWatchKnownBytes = 64 << 10;  // the known values together

// Lets another thread end a Watch early; the Watch then returns kCancelled. One per call.
class WatchCancel {
 public:
  void Cancel();
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  // For Client implementations: `hook` runs once at Cancel (at once if cancelled already)
  // unless ClearHook came first. ClearHook waits for a running hook to end.
  void SetHook(std::function<void()> hook);
  void ClearHook();

 private:
  std::mutex mu_;
  std::function<void()> hook_;  // GUARDED_BY(mu_)
  std::atomic<bool> cancelled_{false};
};

// What a read started by Client::StartGet ends with: the cell's value or the error Get would
// return, or std::nullopt when that one quick attempt did not settle the read.
using StartedGet = std::optional<absl::StatusOr<std::string>>;

class Client {
 public:
  virtual ~Client() = default;

  // The value of the cell; kNotFound if it does not exist.
  virtual absl::StatusOr<std::string> Get(std::string_view row, std::string_view column) = 0;

  // Reads the cell holding no thread while the store answers, for callers that must not
  // block (the frontend's I/O threads). `done` runs exactly once, on a thread of the
  // client's or on the caller's before StartGet returns, and must not block. It gets
  // std::nullopt when the read was not settled by its one attempt (the leader moved, the
  // connection failed, or this client has no such path: the default); the caller then calls
  // Get, which retries. A settled read is as linearizable as Get.
  virtual void StartGet(std::string_view /*row*/, std::string_view /*column*/,
                        std::function<void(StartedGet)> done) {
    done(std::nullopt);
  }

  virtual absl::Status Put(std::string_view row, std::string_view column,
                           std::string_view value) = 0;

  // Writes `value` only if the cell currently holds `expected` (std::nullopt: only if the
  // cell does not exist). Returns whether the write happened.
  virtual absl::StatusOr<bool> CPut(std::string_view row, std::string_view column,
                                    std::optional<std::string_view> expected,
                                    std::string_view value) = 0;

  // Deleting a cell that does not exist succeeds.
  virtual absl::Status Delete(std::string_view row, std::string_view column) = 0;

  // Deletes the cell only if it currently holds `expected`. Returns whether it did (false
  // also when the cell does not exist).
  virtual absl::StatusOr<bool> CDelete(std::string_view row, std::string_view column,
                                       std::string_view expected) = 0;

  virtual absl::StatusOr<ColumnPage> List(std::string_view row, const ListOptions& options) = 0;

  // Waits until some cell of `row` named in `known` no longer holds the value given there,
  // or `timeout` (clamped to kMaxWatchTimeout) passes, and returns the cells that differ,
  // as they are now (empty: timed out). A change made after the caller read a cell and
  // before it called Watch is not missed: `known` is compared first. `cancel` may be null.
  // Clients that cannot watch answer kUnimplemented (callers poll instead).
  virtual absl::StatusOr<std::vector<WatchedCell>> Watch(std::string_view row,
                                                         const std::vector<WatchedCell>& known,
                                                         std::chrono::milliseconds timeout,
                                                         WatchCancel* cancel);
};

// Refuses a watch outside the bounds above (kInvalidArgument).
absl::Status CheckWatch(std::string_view row, const std::vector<WatchedCell>& known);

}  // namespace penncloud::kvs
