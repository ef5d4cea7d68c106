// Which frontend gets the next request: the healthy one with the least load among those
// this request has not tried yet. Load is the proxy's own count of requests it has in
// flight there (exact and immediate) plus the count the frontend last reported (which
// also covers traffic that bypasses the proxy). Ties go round-robin from `turn`, so equal
// frontends share the work. Frontends are stateless: no stickiness.
#pragma once

#include <cstdint>
#include <span>

#include "coordinator/upstream.h"

namespace penncloud::coordinator {

// nullptr when every candidate was tried (or there is none).
Upstream* PickUpstream(std::span<const Candidate> healthy, std::span<Upstream* const> tried,
                       uint64_t turn);

}  // namespace penncloud::coordinator
