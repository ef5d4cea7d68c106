// A store for crash tests (share_move_test, share_api_test): a kvs::Client over memory
// that a test cuts off at a chosen write, as a crash would, and restarts.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "kvs/client/memory_client.h"

namespace penncloud::drive {

// The store as a crash would cut it off: `cut` decides, before and after each write, whether
// the store goes away from then on.
class CuttableStore final : public kvs::Client {
 public:
  enum class When { kBefore, kAfter };
  std::function<bool(When, std::string_view op, std::string_view row)> cut;

  void Restart() { memory_.SetUnavailable(false); }

  absl::StatusOr<std::string> Get(std::string_view row, std::string_view column) override {
    return memory_.Get(row, column);
  }
  absl::Status Put(std::string_view row, std::string_view column, std::string_view value) override {
    return Write("put", row, [&] { return memory_.Put(row, column, value); });
  }
  absl::StatusOr<bool> CPut(std::string_view row, std::string_view column,
                            std::optional<std::string_view> expected,
                            std::string_view value) override {
    return Write("cput", row, [&] { return memory_.CPut(row, column, expected, value); });
  }
  absl::Status Delete(std::string_view row, std::string_view column) override {
    return Write("delete", row, [&] { return memory_.Delete(row, column); });
  }
  absl::StatusOr<bool> CDelete(std::string_view row, std::string_view column,
                               std::string_view expected) override {
    return Write("cdelete", row, [&] { return memory_.CDelete(row, column, expected); });
  }
  absl::StatusOr<kvs::ColumnPage> List(std::string_view row,
                                       const kvs::ListOptions& options) override {
    return memory_.List(row, options);
  }

 private:
  template <typename Op>
  auto Write(std::string_view op, std::string_view row, Op write) -> decltype(write()) {
    if (cut && cut(When::kBefore, op, row)) memory_.SetUnavailable(true);
    auto result = write();
    if (cut && cut(When::kAfter, op, row)) memory_.SetUnavailable(true);
    return result;
  }

  kvs::MemoryClient memory_;
};

}  // namespace penncloud::drive
