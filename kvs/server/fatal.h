// A replica that cannot persist or apply must not go on: it logs why and aborts, and its
// next start begins from what its disk holds (nothing it could not make durable was
// acknowledged). For a full disk that next start is its own (kvs/server/self_restart.h).
#pragma once

#include "absl/status/status.h"

namespace penncloud::kvs::server {

[[noreturn]] void Fatal(const char* event, const absl::Status& status);

}  // namespace penncloud::kvs::server
