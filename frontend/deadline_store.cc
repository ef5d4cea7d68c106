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

absl::Status DeadlineStore::Put(std::string_view row, std::string_view column,
                                std::string_view value) {
  if (write_deadline::Passed()) return TooLate();
  return Checked(ForwardingClient::Put(row, column, value));
}

absl::StatusOr<bool> DeadlineStore::CPut(std::string_view row, std::string_view column,
                                         std::optional<std::string_view> expected,
                                         std::string_view value) {
  if (write_deadline::Passed()) return TooLate();
  return Checked(ForwardingClient::CPut(row, column, expected, value));
}

absl::Status DeadlineStore::Delete(std::string_view row, std::string_view column) {
  if (write_deadline::Passed()) return TooLate();
  return Checked(ForwardingClient::Delete(row, column));
}

absl::StatusOr<bool> DeadlineStore::CDelete(std::string_view row, std::string_view column,
                                            std::string_view expected) {
  if (write_deadline::Passed()) return TooLate();
  return Checked(ForwardingClient::CDelete(row, column, expected));
}

}  // namespace penncloud::frontend
