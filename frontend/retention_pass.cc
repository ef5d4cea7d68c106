#include "frontend/retention_pass.h"

#include "absl/strings/numbers.h"
#include "accounts/directory.h"
#include "common/log.h"

namespace penncloud::frontend {
namespace {

// The start of the last pass, in ms since the epoch.
constexpr char kRow[] = "drive.retention";
constexpr char kColumn[] = "last_pass_ms";

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

RetentionPass::RetentionPass(kvs::Client* store, std::function<void(const std::string&)> visit,
                             RetentionPassOptions options)
    : store_(store), visit_(std::move(visit)), options_(std::move(options)) {
  if (!options_.now_ms) options_.now_ms = SystemNowMs;
  if (options_.check_every.count() > 0) thread_ = std::thread([this] { Loop(); });
}

RetentionPass::~RetentionPass() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<bool> RetentionPass::Claim(int64_t now) {
  std::optional<std::string> last;
  absl::StatusOr<std::string> cell = store_->Get(kRow, kColumn);
  if (cell.ok()) {
    int64_t last_ms = 0;
    // A garbled cell is overwritten rather than left to stop every pass.
    if (absl::SimpleAtoi(*cell, &last_ms) && now - last_ms < options_.interval.count()) {
      return false;
    }
    last = *std::move(cell);
  } else if (!absl::IsNotFound(cell.status())) {
    return cell.status();
  }
  return store_->CPut(kRow, kColumn, last, std::to_string(now));
}

absl::StatusOr<int> RetentionPass::VisitEveryAccount() {
  int visited = 0;
  std::string after;
  // Bounded by the list's end; the cap only guards against a list that never ends.
  for (int page_number = 0; page_number < (1 << 20); ++page_number) {
    absl::StatusOr<accounts::UserPage> page =
        accounts::ListUsers(store_, "", after, accounts::kMaxUsersPerPage);
    if (!page.ok()) return page.status();
    for (const accounts::UserSummary& user : page->users) {
      visit_(user.name);
      ++visited;
    }
    if (page->next.empty() || Stopping()) break;
    after = page->next;
  }
  return visited;
}

bool RetentionPass::Stopping() {
  std::lock_guard lock(mu_);
  return stopping_;
}

absl::StatusOr<int> RetentionPass::RunIfDue() {
  absl::StatusOr<bool> won = Claim(options_.now_ms());
  if (!won.ok()) return won.status();
  if (!*won) return 0;
  return VisitEveryAccount();
}

void RetentionPass::Loop() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, options_.check_every, [this] { return stopping_; })) {
    lock.unlock();
    absl::StatusOr<int> visited = RunIfDue();
    if (!visited.ok()) {
      PC_LOG(kWarn, "drive.retention_pass_failed")("error", visited.status());
    } else if (*visited > 0) {
      PC_LOG(kInfo, "drive.retention_pass")("accounts", *visited);
    }
    lock.lock();
  }
}

}  // namespace penncloud::frontend
