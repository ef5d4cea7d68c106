// A store that counts the calls passing through it, so the benchmark can report what one
// delivery costs the KVS in writes (every write is applied by each replica of its group)
// and what one query costs it in reads (each a round trip to a group's leader).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kvs/client/forwarding_client.h"

namespace penncloud::mail {

class StoreCounter final : public kvs::ForwardingClient {
 public:
  explicit StoreCounter(kvs::Client& inner) : ForwardingClient(inner) {}
  int64_t writes() const { return writes_; }
  int64_t index_writes() const { return index_writes_; }  // to rows "mailsearch/..."
  int64_t reads() const { return reads_; }                // Get and List

  absl::StatusOr<std::string> Get(std::string_view row, std::string_view column) override {
    ++reads_;
    return ForwardingClient::Get(row, column);
  }
  absl::StatusOr<kvs::ColumnPage> List(std::string_view row,
                                       const kvs::ListOptions& options) override {
    ++reads_;
    return ForwardingClient::List(row, options);
  }
  absl::Status Put(std::string_view row, std::string_view column, std::string_view value) override {
    CountWrite(row);
    return ForwardingClient::Put(row, column, value);
  }
  absl::StatusOr<bool> CPut(std::string_view row, std::string_view column,
                            std::optional<std::string_view> expected,
                            std::string_view value) override {
    CountWrite(row);
    return ForwardingClient::CPut(row, column, expected, value);
  }
  absl::Status Delete(std::string_view row, std::string_view column) override {
    CountWrite(row);
    return ForwardingClient::Delete(row, column);
  }
  absl::StatusOr<bool> CDelete(std::string_view row, std::string_view column,
                               std::string_view expected) override {
    CountWrite(row);
    return ForwardingClient::CDelete(row, column, expected);
  }

 private:
  void CountWrite(std::string_view row) {
    ++writes_;
    if (row.starts_with("mailsearch/")) ++index_writes_;
  }

  std::atomic<int64_t> writes_{0};
  std::atomic<int64_t> index_writes_{0};
  std::atomic<int64_t> reads_{0};
};

}  // namespace penncloud::mail
