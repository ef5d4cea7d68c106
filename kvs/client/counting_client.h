// A Client that counts what it passes on, so a test or a benchmark can hold code to a number
// of store round trips: reads (Get and List calls), listings, cells handed back, and writes,
// in all and to rows under prefixes named up front.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kvs/client/forwarding_client.h"

namespace penncloud::kvs {

class CountingClient final : public ForwardingClient {
 public:
  // Writes to rows starting with one of `write_prefixes` are also counted per prefix.
  explicit CountingClient(Client& inner, std::vector<std::string> write_prefixes = {})
      : ForwardingClient(inner),
        prefixes_(std::move(write_prefixes)),
        prefix_writes_(std::make_unique<std::atomic<int64_t>[]>(prefixes_.size())) {}

  int64_t reads() const { return reads_; }  // Get, StartGet and List calls
  int64_t lists() const { return lists_; }
  int64_t cells_read() const { return cells_read_; }  // one per Get or StartGet, each listed cell
  int64_t writes() const { return writes_; }          // Put, CPut, Delete, CDelete
  // Writes to rows under `prefix`, which must be one given to the constructor.
  int64_t writes(std::string_view prefix) const {
    for (size_t i = 0; i < prefixes_.size(); ++i) {
      if (prefixes_[i] == prefix) return prefix_writes_[i];
    }
    std::fprintf(stderr, "CountingClient: writes under '%.*s' are not counted\n",
                 static_cast<int>(prefix.size()), prefix.data());
    std::abort();
  }

  absl::StatusOr<std::string> Get(std::string_view row, std::string_view column) override {
    ++reads_;
    ++cells_read_;
    return ForwardingClient::Get(row, column);
  }
  void StartGet(std::string_view row, std::string_view column,
                std::function<void(StartedGet)> done) override {
    ++reads_;
    ++cells_read_;
    ForwardingClient::StartGet(row, column, std::move(done));
  }
  absl::StatusOr<ColumnPage> List(std::string_view row, const ListOptions& options) override {
    ++reads_;
    ++lists_;
    auto page = ForwardingClient::List(row, options);
    if (page.ok()) cells_read_ += static_cast<int64_t>(page->cells.size());
    return page;
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
    for (size_t i = 0; i < prefixes_.size(); ++i) {
      if (row.starts_with(prefixes_[i])) ++prefix_writes_[i];
    }
  }

  const std::vector<std::string> prefixes_;
  const std::unique_ptr<std::atomic<int64_t>[]> prefix_writes_;
  std::atomic<int64_t> reads_{0};
  std::atomic<int64_t> lists_{0};
  std::atomic<int64_t> cells_read_{0};
  std::atomic<int64_t> writes_{0};
};

}  // namespace penncloud::kvs
