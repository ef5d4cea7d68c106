#include "mail/delivery_status.h"

#include "mail/text.h"

namespace penncloud::mail {
namespace {

std::string Row(std::string_view user) { return Cat("maildelivery/", user); }

}  // namespace

absl::StatusOr<pb::DeliveryStatus> DeliveryStatusStore::Load(std::string_view user,
                                                             std::string_view sent_id) {
  auto value = kvs_.Get(Row(user), sent_id);
  if (!value.ok()) return value.status();
  pb::DeliveryStatus status;
  if (!status.ParseFromString(*value)) return absl::DataLossError("bad delivery status cell");
  return status;
}

absl::Status DeliveryStatusStore::Save(std::string_view user, std::string_view sent_id,
                                       const pb::DeliveryStatus& status) {
  return kvs_.Put(Row(user), sent_id, status.SerializeAsString());
}

absl::Status DeliveryStatusStore::Remove(std::string_view user, std::string_view sent_id) {
  return kvs_.Delete(Row(user), sent_id);
}

absl::Status DeliveryStatusStore::Update(std::string_view user, std::string_view sent_id,
                                         const std::function<void(pb::DeliveryStatus&)>& change) {
  auto status = Load(user, sent_id);
  if (!status.ok() && !absl::IsNotFound(status.status())) return status.status();
  pb::DeliveryStatus next = status.ok() ? *status : pb::DeliveryStatus();
  change(next);
  return Save(user, sent_id, next);
}

void SetRecipient(pb::DeliveryStatus& status, std::string_view address, std::string_view state,
                  std::string_view reply, int64_t next_retry_micros, int attempts,
                  int64_t now_micros) {
  pb::RecipientDelivery* line = nullptr;
  for (auto& r : *status.mutable_recipients()) {
    if (r.address() == address) line = &r;
  }
  if (line == nullptr) {
    line = status.add_recipients();
    line->set_address(std::string(address));
  }
  line->set_state(std::string(state));
  line->set_reply(std::string(reply));
  line->set_next_retry_micros(next_retry_micros);
  if (attempts >= 0) line->set_attempts(attempts);
  line->set_updated_micros(now_micros);
}

}  // namespace penncloud::mail
