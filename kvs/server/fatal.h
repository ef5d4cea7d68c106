// A replica that cannot persist or apply must not go on: it logs why and aborts, and
// restarts from what its disk holds (nothing it could not make durable was acknowledged).
#pragma once

#include "absl/status/status.h"

namespace penncloud::kvs::server {

[[noreturn]] void Fatal(const char* event, const absl::Status& status);

}  // namespace penncloud::kvs::server
