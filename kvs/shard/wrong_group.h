// The "wrong group" signal: how a replica tells a client that the row it asked about is
// not served by the replica's group under the map version the group has applied.
//
// On the wire it is gRPC FAILED_PRECONDITION with a message that starts with
// "wrong group; map version N" (N = the replica's map version), optionally followed by
// "; " and free text. A replica sends it only for a request it did not apply, so the
// client may send the request to another group without risking a double apply.
// docs/sharding.md states the contract.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/status.h"

namespace penncloud::kvs::shard {

inline constexpr char kWrongGroupPrefix[] = "wrong group; map version ";

absl::Status WrongGroupError(uint64_t map_version, std::string_view detail = {});

// The map version named by a wrong-group error, or nullopt if `status` is not one.
std::optional<uint64_t> ParseWrongGroup(const absl::Status& status);

}  // namespace penncloud::kvs::shard
