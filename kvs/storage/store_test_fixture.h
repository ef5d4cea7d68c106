// The store's unit tests share one fixture: a ReplicaStore in a fresh temporary directory,
// removed with everything in it after the test.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "kvs/storage/replica_store.h"
#include "tests/support/process.h"

namespace penncloud::kvs::storage {

// Ring positions for tests: the row's first byte, so ranges are easy to read.
inline uint64_t FirstBytePosition(std::string_view row) {
  return row.empty() ? 0 : uint8_t(row[0]);
}

// A put by a session of its own (the row names it), its first write.
inline pb::Command PutCommand(const std::string& row, const std::string& value) {
  pb::Command c;
  c.set_op(pb::OP_PUT);
  c.set_session(std::hash<std::string>()(row) | 1);
  c.set_seq(1);
  c.set_row(row);
  c.set_column("c");
  c.set_value(value);
  return c;
}

// Flushes the state machine as a replica's compaction does, and waits until the flush has
// made every apply so far durable; false if it failed or took over ten seconds.
inline bool WaitStateFlushed(ReplicaStore& store) {
  if (!store.StartStateFlush().ok()) return false;
  for (int i = 0; i < 2000 && store.DurableAppliedSlot() < store.AppliedSlot(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return store.DurableAppliedSlot() == store.AppliedSlot();
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = penncloud::testing::TempDir("kvs-store"); }
  void TearDown() override { penncloud::testing::RemoveTree(dir_); }

  // Opens (or reopens) the store kept in `name` under this test's directory; a second name
  // is a second replica's store.
  std::unique_ptr<ReplicaStore> Open(const std::string& name = "db") {
    auto store = ReplicaStore::Open(dir_ + "/" + name, FirstBytePosition);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // The store's whole snapshot, in chunks of at most `chunk_bytes`.
  static std::vector<pb::SnapshotChunk> DumpAll(ReplicaStore& store, size_t chunk_bytes = 1 << 20) {
    std::vector<pb::SnapshotChunk> chunks;
    absl::Status dumped = store.DumpSnapshot(chunk_bytes, [&](const pb::SnapshotChunk& c) {
      chunks.push_back(c);
      return true;
    });
    EXPECT_TRUE(dumped.ok()) << dumped;
    return chunks;
  }

  std::string dir_;
};

}  // namespace penncloud::kvs::storage
