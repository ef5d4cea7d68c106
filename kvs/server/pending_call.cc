#include "kvs/server/pending_call.h"

namespace penncloud::kvs::server {

void BatchCall::Answer(pb::ItemStatus* item, const grpc::Status& status) {
  item->set_code(status.error_code());
  item->set_message(status.error_message());
  Release();
}

void BatchCall::Release() {
  if (--remaining != 0) return;
  call->Finish(grpc::Status::OK);
  delete this;
}

void PendingWrite::Finish(const grpc::Status& status) {
  if (batch == nullptr) {
    call->Finish(status);
  } else {
    batch->Answer(batch->response->mutable_write_status(index), status);
  }
}

void PendingRead::Finish(const grpc::Status& status) {
  if (watcher != nullptr) {  // the watch answers its call, and goes
    watcher->Answer(
        absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message()),
        {});
  } else if (batch == nullptr) {
    call->Finish(status);
  } else {
    batch->Answer(batch->response->mutable_get_status(index), status);
  }
}

void WatchCall::Answer(const absl::Status& status, std::vector<WatchedCell> changed) {
  for (WatchedCell& cell : changed) {
    pb::WatchedCell* out = response_->add_changed();
    out->set_column(std::move(cell.column));
    out->set_found(cell.value.has_value());
    if (cell.value) out->set_value(std::move(*cell.value));
  }
  call_->Finish(
      grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message())));
  delete this;
}

WatchCall::WatchCall(WatchTable& table, CallHandle* call, pb::WatchResponse* response)
    : table_(table), call_(call), response_(response) {
  call_->OnCancel([this] { Cancelled(); });
}

void WatchCall::Cancelled() {
  MarkCancelled();
  // Parked: the table lets go of it and it is answered now. Otherwise the loop will (Park
  // refuses a cancelled watcher).
  if (table_.Cancel(this)) Answer(absl::CancelledError("kvs: watch cancelled"), {});
}

}  // namespace penncloud::kvs::server
