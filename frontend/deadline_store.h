// The frontend's view of the store: the KVS, refusing the writes of a request whose
// budget has run out (common/write_deadline.h). Writes made outside a request (background
// sweeps, the relay) are not limited.
#pragma once

#include "kvs/client/forwarding_client.h"

namespace penncloud::frontend {

class DeadlineStore final : public kvs::ForwardingClient {
 public:
  explicit DeadlineStore(kvs::Client* store) : ForwardingClient(*store) {}

  absl::Status Put(std::string_view row, std::string_view column, std::string_view value) override;
  absl::StatusOr<bool> CPut(std::string_view row, std::string_view column,
                            std::optional<std::string_view> expected,
                            std::string_view value) override;
  absl::Status Delete(std::string_view row, std::string_view column) override;
  absl::StatusOr<bool> CDelete(std::string_view row, std::string_view column,
                               std::string_view expected) override;
};

}  // namespace penncloud::frontend
