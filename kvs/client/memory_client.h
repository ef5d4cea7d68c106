// An in-process Client over a std::map, for unit tests of the service libraries. It is
// trivially linearizable (one mutex) and never fails unless told to. Watches wait on a
// condition variable that every write signals.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <utility>

#include "kvs/client/client.h"

namespace penncloud::kvs {

class MemoryClient final : public Client {
 public:
  absl::StatusOr<std::string> Get(std::string_view row, std::string_view column) override;
  // Answers before returning: nothing here waits on a network.
  void StartGet(std::string_view row, std::string_view column,
                std::function<void(StartedGet)> done) override {
    done(Get(row, column));
  }
  absl::Status Put(std::string_view row, std::string_view column, std::string_view value) override;
  absl::StatusOr<bool> CPut(std::string_view row, std::string_view column,
                            std::optional<std::string_view> expected,
                            std::string_view value) override;
  absl::Status Delete(std::string_view row, std::string_view column) override;
  absl::StatusOr<bool> CDelete(std::string_view row, std::string_view column,
                               std::string_view expected) override;
  absl::StatusOr<ColumnPage> List(std::string_view row, const ListOptions& options) override;
  absl::StatusOr<std::vector<WatchedCell>> Watch(std::string_view row,
                                                 const std::vector<WatchedCell>& known,
                                                 std::chrono::milliseconds timeout,
                                                 WatchCancel* cancel) override;

  // While set, every call fails with kUnavailable, as if the store were cut off.
  void SetUnavailable(bool unavailable);

  size_t CellCount() const;

 private:
  absl::Status CheckAvailable() const;
  // REQUIRES: mu_ held. The cells of `row` that no longer hold their `known` value.
  std::vector<WatchedCell> Differing(const std::string& row,
                                     const std::vector<WatchedCell>& known) const;

  mutable std::mutex mu_;
  std::condition_variable written_;  // every write (and a watch's cancel) notifies it
  bool unavailable_ = false;         // GUARDED_BY(mu_)
  std::map<std::pair<std::string, std::string>, std::string> cells_;  // GUARDED_BY(mu_)
};

}  // namespace penncloud::kvs
