// Many independent KVS calls at once: the client gathers concurrent calls into one batch
// (kvs/client/batcher.h), so issuing a message's postings or a page's checks together
// costs a few round trips instead of one each.
#pragma once

#include <cstddef>
#include <functional>

#include "absl/status/status.h"

namespace penncloud::mail {

// Runs `op(i)` for every i in [0, n) on up to `threads` threads (the caller's among them,
// the others from a pool kept for these calls) and waits for all; returns the first error.
absl::Status ForEachConcurrently(size_t n, size_t threads,
                                 const std::function<absl::Status(size_t)>& op);

}  // namespace penncloud::mail
