// An in-process Client over a std::map, for unit tests of the service libraries. It is
// trivially linearizable (one mutex) and never fails unless told to.
#pragma once

#include <map>
#include <mutex>
#include <utility>

#include "kvs/client/client.h"

namespace penncloud::kvs {

class MemoryClient final : public Client {
 public:
  absl::StatusOr<std::string> Get(std::string_view row, std::string_view column) override;
  absl::Status Put(std::string_view row, std::string_view column, std::string_view value) override;
  absl::StatusOr<bool> CPut(std::string_view row, std::string_view column,
                            std::optional<std::string_view> expected,
                            std::string_view value) override;
  absl::Status Delete(std::string_view row, std::string_view column) override;
  absl::StatusOr<bool> CDelete(std::string_view row, std::string_view column,
                               std::string_view expected) override;
  absl::StatusOr<ColumnPage> List(std::string_view row, const ListOptions& options) override;

  // While set, every call fails with kUnavailable, as if the store were cut off.
  void SetUnavailable(bool unavailable);

  size_t CellCount() const;

 private:
  absl::Status CheckAvailable() const;

  mutable std::mutex mu_;
  bool unavailable_ = false;                                          // GUARDED_BY(mu_)
  std::map<std::pair<std::string, std::string>, std::string> cells_;  // GUARDED_BY(mu_)
};

}  // namespace penncloud::kvs
