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

}  // namespace penncloud::kvs::server
