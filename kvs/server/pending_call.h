// A call the loop answers later: a write waiting for its slot to be applied, a read (or a
// watch) waiting for the core's read index, or an item of a KvsService.Batch call. The
// loop thread makes them (as calls arrive on its queue) and finishes them, each exactly
// once.
#pragma once

#include <atomic>
#include <chrono>

#include "grpcpp/grpcpp.h"
#include "kvs/server/async_call.h"
#include "kvs/server/watch_table.h"
#include "proto/kvs.pb.h"

namespace penncloud::kvs::server {

// One KvsService.Batch call: every item (and the handler itself, until it has queued them
// all) holds one count; the last to let go answers the call. Items write only their own
// pre-sized elements of the response.
struct BatchCall {
  CallHandle* call;
  pb::BatchResponse* response;
  int remaining;

  void Answer(pb::ItemStatus* item, const grpc::Status& status);
  void Release();
};

struct PendingWrite {
  CallHandle* call;  // unused for a batch item
  pb::WriteResponse* response;
  std::chrono::steady_clock::time_point deadline;
  BatchCall* batch = nullptr;  // set: item `index` of this batch
  int index = 0;
  // Answers the write: its own call, or its item of the batch.
  void Finish(const grpc::Status& status);
};

// One KvsService.Watch call: checked on the leader's applied state after a read index,
// then parked in the WatchTable until a write, its timeout, or the caller going away. It
// lives until answered.
class WatchCall final : public Watcher {
 public:
  WatchCall(WatchTable& table, CallHandle* call, pb::WatchResponse* response);
  void Answer(const absl::Status& status, std::vector<WatchedCell> changed) override;

 private:
  void Cancelled();

  WatchTable& table_;
  CallHandle* call_;
  pb::WatchResponse* response_;
};

struct PendingRead {
  CallHandle* call = nullptr;  // unused for a batch item
  BatchCall* batch = nullptr;  // set: get item `index` of this batch
  int index = 0;
  void Finish(const grpc::Status& status);
  const pb::GetRequest* get = nullptr;  // one of get/list/rows/watch is set
  pb::GetResponse* get_response = nullptr;
  const pb::ListRequest* list = nullptr;
  pb::ListResponse* list_response = nullptr;
  const pb::ListRowsRequest* rows = nullptr;
  pb::ListRowsResponse* rows_response = nullptr;
  const pb::WatchRequest* watch = nullptr;  // with watcher, which answers `call`
  WatchCall* watcher = nullptr;
  pb::WatchResponse* watch_response = nullptr;
  pb::LeaderHint* hint() const {
    return get_response != nullptr    ? get_response->mutable_hint()
           : list_response != nullptr ? list_response->mutable_hint()
           : rows_response != nullptr ? rows_response->mutable_hint()
                                      : watch_response->mutable_hint();
  }
};

}  // namespace penncloud::kvs::server
