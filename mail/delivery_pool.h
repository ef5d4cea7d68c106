// Independent KVS calls of one delivery run at the same time, on a fixed set of threads
// shared by the whole process: the KVS client gathers calls that are in flight together
// into one batch (kvs/client/batcher.h), so a message's writes cost a few rounds instead
// of one each, and no thread is started per message.
#pragma once

#include <cstddef>
#include <functional>

#include "absl/status/status.h"

namespace penncloud::mail {

// Runs `op(i)` for every i in [0, n) and waits for all; returns the first error. The
// caller runs items too, so nested calls (an item that itself calls RunTogether) always
// make progress, whatever the pool is busy with.
absl::Status RunTogether(size_t n, const std::function<absl::Status(size_t)>& op);

}  // namespace penncloud::mail
