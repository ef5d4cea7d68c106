// The Date field of every answer (RFC 9110 section 6.6.1: an origin server with a clock
// sends one in every 2xx, 3xx and 4xx answer). The pages also read the cluster's clock from
// it, to say in the cluster's time when they stop waiting for a write (web/static/api.js,
// common/write_deadline.h).
#pragma once

#include <string>

#include "absl/time/time.h"

namespace penncloud::http {

// `t` as an IMF-fixdate: "Mon, 07 Dec 2026 07:55:00 GMT".
std::string FormatHttpDate(absl::Time t);

// Now, as an IMF-fixdate. Formatted at most once a second per thread: servers call it for
// every answer.
const std::string& HttpDateNow();

}  // namespace penncloud::http
