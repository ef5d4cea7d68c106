// A Client that dies the way a process killed mid-request does, for crash tests: the write
// that uses up its budget is the crash (applied or not, as chosen, while its caller hears an
// error), and every call after it fails. Running an operation once per budget, 1, 2, ...,
// stops it at each of its writes in turn.
#pragma once

#include <atomic>

#include "kvs/client/forwarding_client.h"

namespace penncloud::kvs {

class DyingClient final : public ForwardingClient {
 public:
  DyingClient(Client& inner, int writes, bool last_takes_effect)
      : ForwardingClient(inner), writes_left_(writes), last_takes_effect_(last_takes_effect) {}

  // Whether the crash has happened.
  bool died() const { return writes_left_.load() <= 0; }

  absl::StatusOr<std::string> Get(std::string_view row, std::string_view column) override {
    if (died()) return Dead();
    return ForwardingClient::Get(row, column);
  }
  absl::StatusOr<ColumnPage> List(std::string_view row, const ListOptions& options) override {
    if (died()) return Dead();
    return ForwardingClient::List(row, options);
  }
  absl::Status Put(std::string_view row, std::string_view column, std::string_view value) override {
    return Write([&] { return ForwardingClient::Put(row, column, value); });
  }
  absl::StatusOr<bool> CPut(std::string_view row, std::string_view column,
                            std::optional<std::string_view> expected,
                            std::string_view value) override {
    return Write([&] { return ForwardingClient::CPut(row, column, expected, value); });
  }
  absl::Status Delete(std::string_view row, std::string_view column) override {
    return Write([&] { return ForwardingClient::Delete(row, column); });
  }
  absl::StatusOr<bool> CDelete(std::string_view row, std::string_view column,
                               std::string_view expected) override {
    return Write([&] { return ForwardingClient::CDelete(row, column, expected); });
  }

 private:
  static absl::Status Dead() { return absl::UnavailableError("crashed"); }

  template <typename F>
  auto Write(F write) -> decltype(write()) {
    const int left = writes_left_.fetch_sub(1);
    if (left > 1) return write();
    if (left == 1 && last_takes_effect_) (void)write();
    return Dead();
  }

  std::atomic<int> writes_left_;
  const bool last_takes_effect_;
};

}  // namespace penncloud::kvs
