#include "kvs/server/pending_call.h"

namespace penncloud::kvs::server {

void BatchCall::Answer(pb::ItemStatus* item, const grpc::Status& status) {
  item->set_code(status.error_code());
  item->set_message(status.error_message());
  Release();
}

void BatchCall::Release() {
  if (remaining.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  reactor->Finish(grpc::Status::OK);
  delete this;
}

void PendingWrite::Finish(const grpc::Status& status) {
  if (batch == nullptr) {
    reactor->Finish(status);
  } else {
    batch->Answer(batch->response->mutable_write_status(index), status);
  }
}

void PendingRead::Finish(const grpc::Status& status) {
  if (batch == nullptr) {
    reactor->Finish(status);
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
  Finish(grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message())));
}

void WatchCall::OnCancel() {
  MarkCancelled();
  // Parked: the table lets go of it and this thread answers. Otherwise the loop will
  // (Park refuses a cancelled watcher), or already has.
  if (table_.Cancel(this))
    Finish(grpc::Status(grpc::StatusCode::CANCELLED, "kvs: watch cancelled"));
}

}  // namespace penncloud::kvs::server
