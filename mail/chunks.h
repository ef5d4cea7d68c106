// Large values split over rows of their own, ~1 MiB each, so one big message (or its
// attachments) spreads over the store's groups instead of swelling one row.
//
// Chunk i of blob `name` lives at row "<name>/<i>", column "c". A blob is written before
// the cell that points to it, so a reader that finds the pointer always finds every chunk.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"

namespace penncloud::mail {

inline constexpr size_t kChunkBytes = 1 << 20;

// Stores `data` as chunks of blob `name`; returns how many chunks were written.
absl::StatusOr<int> WriteChunks(kvs::Client& kvs, std::string_view name, std::string_view data);

absl::StatusOr<std::string> ReadChunks(kvs::Client& kvs, std::string_view name, int chunks);

// Starts reading every chunk of blob `name` at once (kvs::Client::StartGet), holding no
// thread while the store answers. `done` runs once, on a thread of the client's or the
// caller's, and must not block: it gets the blob or ReadChunks' error, or std::nullopt when a
// read was not settled by its one attempt (the caller then calls ReadChunks, which retries).
void StartReadChunks(kvs::Client& kvs, std::string_view name, int chunks,
                     std::function<void(kvs::StartedGet)> done);

absl::Status DeleteChunks(kvs::Client& kvs, std::string_view name, int chunks);

}  // namespace penncloud::mail
