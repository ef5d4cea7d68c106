#include "kvs/machine/session_expiry.h"

namespace penncloud::kvs::machine {

std::optional<pb::SessionExpiry> ExpiryDue(const pb::SessionClock& clock, int64_t idle_ms) {
  if (idle_ms <= 0 || clock.now_ms() == 0) return std::nullopt;
  if (clock.now_ms() - clock.swept_ms() < idle_ms / 4) return std::nullopt;
  pb::SessionExpiry expiry;
  expiry.set_horizon_ms(clock.now_ms() - idle_ms);
  expiry.set_retry_window_ms(idle_ms / 2);
  return expiry;
}

}  // namespace penncloud::kvs::machine
