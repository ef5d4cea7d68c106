// Connects to the key-value store. Every tier calls this once at start-up and shares the
// returned Client among all its threads.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"

namespace penncloud::kvs {

// `spec` names one replica group: its replicas' client addresses, comma-separated, e.g.
// "127.0.0.1:7011,127.0.0.1:7012,127.0.0.1:7013". (The sharding work extends the spec to
// name the config group instead; the signature stays.)
//
// Connecting does not contact the group: it only validates the spec and creates the
// channels, so a tier may start before the store does. The returned Client is thread-safe.
absl::StatusOr<std::unique_ptr<Client>> Connect(const std::string& spec);

}  // namespace penncloud::kvs
