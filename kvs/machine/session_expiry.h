// When a group's leader proposes an expiry sweep of the at-most-once table (docs/kvs.md "The
// at-most-once table"), measured on the table's clock (the log's time, the same on every
// replica): once a quarter of the idle time has passed since the last sweep. The replica
// server and the simulator's leaders both ask this.
#pragma once

#include <cstdint>
#include <optional>

#include "proto/kvs.pb.h"

namespace penncloud::kvs::machine {

// The sweep to propose now, or nullopt: sessions idle longer than `idle_ms` go, and for
// half of that time writes of unknown sessions stamped before the horizon are refused.
// idle_ms <= 0: sessions never expire.
std::optional<pb::SessionExpiry> ExpiryDue(const pb::SessionClock& clock, int64_t idle_ms);

}  // namespace penncloud::kvs::machine
