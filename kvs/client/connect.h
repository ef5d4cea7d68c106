// Connects to the key-value store. Every tier calls this once at start-up and shares the
// returned Client among all its threads.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"

namespace penncloud::kvs {

// `spec` names either one replica group, by its replicas' client addresses, comma-separated,
// e.g. "127.0.0.1:7011,127.0.0.1:7012,127.0.0.1:7013"; or a sharded store, by its config
// group: "config=127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003" (a ShardedClient over the
// cluster map kept there, kvs/shard/sharded_client.h).
//
// Connecting does not contact the group: it only validates the spec and creates the
// channels, so a tier may start before the store does. The returned Client is thread-safe.
absl::StatusOr<std::unique_ptr<Client>> Connect(const std::string& spec);

}  // namespace penncloud::kvs
