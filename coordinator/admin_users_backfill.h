// The one-time backfill of the console's user list (accounts/directory.h): accounts made
// before the list existed have a row (acct/<name>) in some group and no entry in the
// list. Rows are placed by hash, so no single List finds them; the coordinator scans
// every data group's rows, a page at a time, once, at its start, and adds each account row
// it finds. Then it records the backfill as done, so later starts skip the scan.
//
// Rows move between groups during a rebalance: a row could leave a group not yet scanned
// for one already scanned. So a scan that began or ended during a rebalance, or saw the
// map change, does not count; the next attempt scans again. Every loop is bounded: pages
// per group, attempts, and the wait for the store.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/cluster_poller.h"
#include "kvs/client/client.h"
#include "kvs/client/group_admin.h"

namespace penncloud::coordinator {

// Where the rows are: the data groups of one map, and a page of one group's rows.
class RowSource {
 public:
  struct Groups {
    std::vector<std::string> ids;
    uint64_t map_version = 0;
    bool moving = false;  // a rebalance has migrations in the map
  };
  virtual ~RowSource() = default;
  // kUnavailable while the groups are not known yet.
  virtual absl::StatusOr<Groups> DataGroups() = 0;
  virtual absl::StatusOr<kvs::RowPage> Rows(const std::string& group, const std::string& after,
                                            int limit) = 0;
};

// The groups the poller sees, read from their leaders.
std::unique_ptr<RowSource> PollerRowSource(ClusterPoller* poller);

struct BackfillOptions {
  int rows_per_page = 500;
  int64_t max_pages_per_group = 200'000;  // 100 million rows
  int attempts = 20;
  std::chrono::milliseconds retry_pause{2000};
  std::function<int64_t()> now_unix_s;  // default: the system clock
};

struct BackfillResult {
  int64_t rows_seen = 0;
  int64_t accounts_listed = 0;
  bool skipped = false;  // it had been done before
};

// One backfill to its end: the scan, retried (with a pause) while the store or the map is
// not ready, up to options.attempts times. `stop` ends it early (kCancelled).
absl::StatusOr<BackfillResult> BackfillUserList(kvs::Client* store, RowSource* rows,
                                                const BackfillOptions& options,
                                                const std::atomic<bool>& stop);

// Runs BackfillUserList on a thread of its own, logging the outcome; the destructor stops
// and joins it.
class UserListBackfill {
 public:
  UserListBackfill(kvs::Client* store, std::unique_ptr<RowSource> rows,
                   BackfillOptions options = {});
  ~UserListBackfill();

 private:
  std::unique_ptr<RowSource> rows_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace penncloud::coordinator
