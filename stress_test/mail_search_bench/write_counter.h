// A store that counts the writes passing through it, by row, so the benchmark can report
// what one delivery costs the KVS (every write is applied by each replica of its group).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kvs/client/client.h"

namespace penncloud::mail {

class WriteCounter final : public kvs::Client {
 public:
  explicit WriteCounter(kvs::Client& inner) : inner_(inner) {}
  int64_t writes() const { return writes_; }
  int64_t index_writes() const { return index_writes_; }  // to rows "mailsearch/..."

  absl::StatusOr<std::string> Get(std::string_view row, std::string_view column) override {
    return inner_.Get(row, column);
  }
  absl::Status Put(std::string_view row, std::string_view column, std::string_view value) override {
    Count(row);
    return inner_.Put(row, column, value);
  }
  absl::StatusOr<bool> CPut(std::string_view row, std::string_view column,
                            std::optional<std::string_view> expected,
                            std::string_view value) override {
    Count(row);
    return inner_.CPut(row, column, expected, value);
  }
  absl::Status Delete(std::string_view row, std::string_view column) override {
    Count(row);
    return inner_.Delete(row, column);
  }
  absl::StatusOr<bool> CDelete(std::string_view row, std::string_view column,
                               std::string_view expected) override {
    Count(row);
    return inner_.CDelete(row, column, expected);
  }
  absl::StatusOr<kvs::ColumnPage> List(std::string_view row,
                                       const kvs::ListOptions& options) override {
    return inner_.List(row, options);
  }

 private:
  void Count(std::string_view row) {
    ++writes_;
    if (row.starts_with("mailsearch/")) ++index_writes_;
  }

  kvs::Client& inner_;
  std::atomic<int64_t> writes_{0};
  std::atomic<int64_t> index_writes_{0};
};

}  // namespace penncloud::mail
