// A store that counts the writes passing through it, by row, so the benchmark can report
// what one delivery costs the KVS (every write is applied by each replica of its group).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kvs/client/forwarding_client.h"

namespace penncloud::mail {

class WriteCounter final : public kvs::ForwardingClient {
 public:
  explicit WriteCounter(kvs::Client& inner) : ForwardingClient(inner) {}
  int64_t writes() const { return writes_; }
  int64_t index_writes() const { return index_writes_; }  // to rows "mailsearch/..."

  absl::Status Put(std::string_view row, std::string_view column, std::string_view value) override {
    Count(row);
    return ForwardingClient::Put(row, column, value);
  }
  absl::StatusOr<bool> CPut(std::string_view row, std::string_view column,
                            std::optional<std::string_view> expected,
                            std::string_view value) override {
    Count(row);
    return ForwardingClient::CPut(row, column, expected, value);
  }
  absl::Status Delete(std::string_view row, std::string_view column) override {
    Count(row);
    return ForwardingClient::Delete(row, column);
  }
  absl::StatusOr<bool> CDelete(std::string_view row, std::string_view column,
                               std::string_view expected) override {
    Count(row);
    return ForwardingClient::CDelete(row, column, expected);
  }

 private:
  void Count(std::string_view row) {
    ++writes_;
    if (row.starts_with("mailsearch/")) ++index_writes_;
  }

  std::atomic<int64_t> writes_{0};
  std::atomic<int64_t> index_writes_{0};
};

}  // namespace penncloud::mail
