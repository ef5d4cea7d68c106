#include "coordinator/admin_users_backfill.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "accounts/directory.h"
#include "common/log.h"

namespace penncloud::coordinator {
namespace {

class PollerRows final : public RowSource {
 public:
  explicit PollerRows(ClusterPoller* poller) : poller_(poller) {}

  absl::StatusOr<Groups> DataGroups() override {
    ClusterView view = poller_->View();
    Groups out;
    if (view.map) {
      out.map_version = view.map->version();
      out.moving = view.map->proto().migrations_size() > 0;
    }
    for (const GroupView& g : view.groups) {
      if (g.id != "config") out.ids.push_back(g.id);
    }
    if (out.ids.empty()) return absl::UnavailableError("no data group polled yet");
    return out;
  }

  absl::StatusOr<kvs::RowPage> Rows(const std::string& group, const std::string& after,
                                    int limit) override {
    std::vector<std::string> addresses = poller_->GroupAddresses(group);
    if (addresses.empty()) return absl::UnavailableError(absl::StrCat("group ", group, " left"));
    auto& [known, admin] = admins_[group];
    if (!admin || known != addresses) {
      kvs::ReplicaGroupOptions options;
      options.deadline = std::chrono::milliseconds(5000);
      admin = std::make_unique<kvs::GroupAdmin>(addresses, options);
      known = addresses;
    }
    return admin->ListRows(after, limit);
  }

 private:
  ClusterPoller* const poller_;
  // By group, with the addresses each was made for; used by the backfill's thread only.
  std::map<std::string, std::pair<std::vector<std::string>, std::unique_ptr<kvs::GroupAdmin>>>
      admins_;
};

// One pass over every group; kAborted if rows may have moved meanwhile.
absl::StatusOr<BackfillResult> ScanOnce(kvs::Client* store, RowSource* rows,
                                        const BackfillOptions& options,
                                        const std::atomic<bool>& stop) {
  absl::StatusOr<RowSource::Groups> before = rows->DataGroups();
  if (!before.ok()) return before.status();
  if (before->moving) return absl::AbortedError("a rebalance is moving rows");
  BackfillResult result;
  for (const std::string& group : before->ids) {
    std::string after;
    for (int64_t page = 0;; ++page) {
      if (stop) return absl::CancelledError("stopping");
      if (page == options.max_pages_per_group) {
        return absl::ResourceExhaustedError(absl::StrCat("group ", group, " has too many rows"));
      }
      absl::StatusOr<kvs::RowPage> got = rows->Rows(group, after, options.rows_per_page);
      if (!got.ok()) return got.status();
      for (const std::string& row : got->rows) {
        absl::StatusOr<bool> listed = accounts::ListAccountRow(store, row);
        if (!listed.ok()) return listed.status();
        result.accounts_listed += *listed;
      }
      result.rows_seen += static_cast<int64_t>(got->rows.size());
      if (!got->more || got->rows.empty()) break;
      after = got->rows.back();
    }
  }
  absl::StatusOr<RowSource::Groups> after = rows->DataGroups();
  if (!after.ok()) return after.status();
  if (after->moving || after->map_version != before->map_version) {
    return absl::AbortedError("the map changed during the scan");
  }
  return result;
}

// Sleeps `pause`, waking early when `stop` is set.
void Pause(std::chrono::milliseconds pause, const std::atomic<bool>& stop) {
  constexpr std::chrono::milliseconds kTick{50};
  for (auto slept = std::chrono::milliseconds(0); slept < pause && !stop; slept += kTick) {
    std::this_thread::sleep_for(std::min(kTick, pause - slept));
  }
}

}  // namespace

std::unique_ptr<RowSource> PollerRowSource(ClusterPoller* poller) {
  return std::make_unique<PollerRows>(poller);
}

absl::StatusOr<BackfillResult> BackfillUserList(kvs::Client* store, RowSource* rows,
                                                const BackfillOptions& options,
                                                const std::atomic<bool>& stop) {
  absl::Status last = absl::UnavailableError("no attempt made");
  for (int attempt = 0; attempt < options.attempts && !stop; ++attempt) {
    if (attempt > 0) Pause(options.retry_pause, stop);
    absl::StatusOr<bool> done = accounts::BackfillDone(store);
    if (done.ok() && *done) return BackfillResult{.skipped = true};
    absl::StatusOr<BackfillResult> scanned =
        done.ok() ? ScanOnce(store, rows, options, stop) : done.status();
    if (scanned.ok()) {
      int64_t now = options.now_unix_s ? options.now_unix_s() : absl::ToUnixSeconds(absl::Now());
      if (absl::Status s = accounts::MarkBackfillDone(store, now); !s.ok()) return s;
      return scanned;
    }
    last = scanned.status();
    if (absl::IsResourceExhausted(last) || absl::IsCancelled(last)) break;
  }
  if (stop) return absl::CancelledError("stopping");
  return last;
}

UserListBackfill::UserListBackfill(kvs::Client* store, std::unique_ptr<RowSource> rows,
                                   BackfillOptions options)
    : rows_(std::move(rows)) {
  thread_ = std::thread([this, store, options = std::move(options)] {
    absl::StatusOr<BackfillResult> result = BackfillUserList(store, rows_.get(), options, stop_);
    if (!result.ok()) {
      PC_LOG(kWarn, "coordinator.user_backfill_failed")("error", result.status().ToString());
    } else if (!result->skipped) {
      PC_LOG(kInfo, "coordinator.user_backfill_done")
      ("rows", result->rows_seen)("accounts", result->accounts_listed);
    }
  });
}

UserListBackfill::~UserListBackfill() {
  stop_ = true;
  thread_.join();
}

}  // namespace penncloud::coordinator
