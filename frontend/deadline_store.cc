#include "frontend/deadline_store.h"

#include "common/write_deadline.h"

namespace penncloud::frontend {

namespace {

// DeadlineExceeded answers 503: the client may try again, and nothing of this write landed.
absl::Status TooLate() {
  return absl::DeadlineExceededError(
      "the request took too long and was stopped before this change; try again");
}

// The store refused the write for the same reason (its leader got it after the budget):
// answered like a refusal here, not as the conflict FailedPrecondition otherwise means.
absl::Status Checked(absl::Status status) {
  if (absl::IsFailedPrecondition(status) && status.message() == kvs::kWriteTooLate) {
    return TooLate();
  }
  return status;
}

template <typename T>
absl::StatusOr<T> Checked(absl::StatusOr<T> result) {
  if (!result.ok()) return Checked(result.status());
  return result;
}

}  // namespace

absl::StatusOr<std::string> DeadlineStore::Get(std::string_view row, std::string_view column) {
  return store_->Get(row, column);
}

absl::Status DeadlineStore::Put(std::string_view row, std::string_view column,
                                std::string_view value) {
  if (write_deadline::Passed()) return TooLate();
  return Checked(store_->Put(row, column, value));
}

absl::StatusOr<bool> DeadlineStore::CPut(std::string_view row, std::string_view column,
                                         std::optional<std::string_view> expected,
                                         std::string_view value) {
  if (write_deadline::Passed()) return TooLate();
  return Checked(store_->CPut(row, column, expected, value));
}

absl::Status DeadlineStore::Delete(std::string_view row, std::string_view column) {
  if (write_deadline::Passed()) return TooLate();
  return Checked(store_->Delete(row, column));
}

absl::StatusOr<bool> DeadlineStore::CDelete(std::string_view row, std::string_view column,
                                            std::string_view expected) {
  if (write_deadline::Passed()) return TooLate();
  return Checked(store_->CDelete(row, column, expected));
}

absl::StatusOr<kvs::ColumnPage> DeadlineStore::List(std::string_view row,
                                                    const kvs::ListOptions& options) {
  return store_->List(row, options);
}

absl::StatusOr<std::vector<kvs::WatchedCell>> DeadlineStore::Watch(
    std::string_view row, const std::vector<kvs::WatchedCell>& known,
    std::chrono::milliseconds timeout, kvs::WatchCancel* cancel) {
  return store_->Watch(row, known, timeout, cancel);
}

}  // namespace penncloud::frontend
