// A Client that hands every call to another Client. A wrapper that changes a few calls (the
// frontend's write budget, a test's counter or injected crash) derives from it and overrides
// only those, calling ForwardingClient's version to pass a call on; a method added to Client
// is then forwarded once, here.
#pragma once

#include "kvs/client/client.h"

namespace penncloud::kvs {

class ForwardingClient : public Client {
 public:
  // `inner` must outlive this client.
  explicit ForwardingClient(Client& inner) : inner_(inner) {}

  absl::StatusOr<std::string> Get(std::string_view row, std::string_view column) override {
    return inner_.Get(row, column);
  }
  void StartGet(std::string_view row, std::string_view column,
                std::function<void(StartedGet)> done) override {
    inner_.StartGet(row, column, std::move(done));
  }
  absl::Status Put(std::string_view row, std::string_view column, std::string_view value) override {
    return inner_.Put(row, column, value);
  }
  absl::StatusOr<bool> CPut(std::string_view row, std::string_view column,
                            std::optional<std::string_view> expected,
                            std::string_view value) override {
    return inner_.CPut(row, column, expected, value);
  }
  absl::Status Delete(std::string_view row, std::string_view column) override {
    return inner_.Delete(row, column);
  }
  absl::StatusOr<bool> CDelete(std::string_view row, std::string_view column,
                               std::string_view expected) override {
    return inner_.CDelete(row, column, expected);
  }
  absl::StatusOr<ColumnPage> List(std::string_view row, const ListOptions& options) override {
    return inner_.List(row, options);
  }
  absl::StatusOr<std::vector<WatchedCell>> Watch(std::string_view row,
                                                 const std::vector<WatchedCell>& known,
                                                 std::chrono::milliseconds timeout,
                                                 WatchCancel* cancel) override {
    return inner_.Watch(row, known, timeout, cancel);
  }

 private:
  Client& inner_;
};

}  // namespace penncloud::kvs
