// The frontend's view of the store: the KVS, refusing the writes of a request whose
// budget has run out (common/write_deadline.h). Writes made outside a request (background
// sweeps, the relay) are not limited.
#pragma once

#include "kvs/client/client.h"

namespace penncloud::frontend {

class DeadlineStore final : public kvs::Client {
 public:
  explicit DeadlineStore(kvs::Client* store) : store_(store) {}

  absl::StatusOr<std::string> Get(std::string_view row, std::string_view column) override;
  absl::Status Put(std::string_view row, std::string_view column, std::string_view value) override;
  absl::StatusOr<bool> CPut(std::string_view row, std::string_view column,
                            std::optional<std::string_view> expected,
                            std::string_view value) override;
  absl::Status Delete(std::string_view row, std::string_view column) override;
  absl::StatusOr<bool> CDelete(std::string_view row, std::string_view column,
                               std::string_view expected) override;
  absl::StatusOr<kvs::ColumnPage> List(std::string_view row,
                                       const kvs::ListOptions& options) override;
  absl::StatusOr<std::vector<kvs::WatchedCell>> Watch(std::string_view row,
                                                      const std::vector<kvs::WatchedCell>& known,
                                                      std::chrono::milliseconds timeout,
                                                      kvs::WatchCancel* cancel) override;

 private:
  kvs::Client* store_;
};

}  // namespace penncloud::frontend
