// Resumable uploads (the tus 1.0 protocol's core, creation and termination), kept wholly in
// the key-value store so that any frontend can continue an upload another one started.
//
// An upload is one TusUpload cell (proto/drive.proto) under the user, changed only by
// compare-and-put. Its bytes go where a normal upload's go: full chunks are rows of a fresh
// content version, so finishing switches the file's entry to that version without copying
// (Drive::SwitchEntry: versions kept, name index updated, one compare-and-put). The bytes
// past the last full chunk wait in a tail cell keyed by the offset, written before the
// record names that offset. So the record's offset is durable: every byte before it is
// stored, whatever frontend dies, and a client resuming there re-sends at most the request
// that was in flight.
//
// A request that appends claims the record (a fresh writer token); a later request takes
// over from it, and the earlier one stops at its next compare-and-put. The declared length
// is reserved at creation in a cell of its own beside the usage counter (Drive::GetUsage
// adds it in), so releasing it when the upload lands or goes is a delete: whoever finishes
// a landing or a removal that a crash cut short deletes it again, and it is released once.
// Uploads expire `expiry_ms` after creation; Sweep (run by a background thread) removes
// them, listed in one global row.
//
// Errors: kNotFound (no such upload for this user, or expired), kFailedPrecondition (an
// offset other than the upload's, or a folder at the path), kInvalidArgument (bad path or
// metadata, a body past the declared length), kResourceExhausted (length over the limit or
// over the quota, or too many uploads in progress), kAborted (another request holds it: finishing,
// or took over; retry).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "drive/drive.h"
#include "drive/tus_headers.h"
#include "kvs/client/client.h"

namespace penncloud::drive {

struct TusOptions {
  uint64_t max_length = uint64_t{1} << 40;
  int64_t expiry_ms = int64_t{24} * 3600 * 1000;
  // A finishing upload whose finisher went silent this long is finished by the next request.
  int64_t landing_stale_ms = 30 * 1000;
  // If set, a thread runs Sweep this often.
  int64_t sweep_interval_ms = 0;
};

struct TusUploadInfo {
  std::string id;  // 128 random bits in hex
  std::string path;
  uint64_t offset = 0;
  uint64_t length = 0;
  int64_t expires_ms = 0;
  bool done = false;  // the file is at `path`
};

// Whether Append refused a body that did not match its Upload-Checksum (tus: 460).
bool IsTusChecksumMismatch(const absl::Status& status);

// The next bytes of a request body: between 1 and `max_bytes`, "" at its end, an error if
// the client went away.
using TusByteSource = std::function<absl::StatusOr<std::string>(size_t max_bytes)>;

class TusStore {
 public:
  TusStore(kvs::Client* kvs, Drive* drive, TusOptions options = {});
  ~TusStore();
  TusStore(const TusStore&) = delete;
  TusStore& operator=(const TusStore&) = delete;

  const TusOptions& options() const { return options_; }

  // A new upload of `length` bytes to metadata["path"] (whose folder must exist);
  // metadata["filetype"], if a valid media type, becomes the file's Content-Type.
  absl::StatusOr<TusUploadInfo> Create(std::string_view user, uint64_t length,
                                       const std::map<std::string, std::string>& metadata);
  // Where the upload stands. Finishes an upload whose finisher died.
  absl::StatusOr<TusUploadInfo> Get(std::string_view user, std::string_view id);
  // Appends the body at `offset`, which must be the upload's offset. Stores as much of the
  // body as arrived even if the client goes away; the last byte lands the file. With a
  // checksum, the body is kept only whole and matching it (IsTusChecksumMismatch if not).
  absl::StatusOr<TusUploadInfo> Append(std::string_view user, std::string_view id, uint64_t offset,
                                       const TusByteSource& body,
                                       const std::optional<TusChecksum>& checksum = std::nullopt);
  // Ends the upload and deletes its bytes (a finished one's file stays).
  absl::Status Terminate(std::string_view user, std::string_view id);
  // Removes expired uploads (of every user); returns how many.
  absl::StatusOr<int> Sweep();

 private:
  struct Loaded;

  absl::StatusOr<Loaded> Load(const std::string& user, std::string_view id);
  absl::StatusOr<Loaded> LoadLive(const std::string& user, std::string_view id);
  absl::StatusOr<bool> Replace(const std::string& user, Loaded& at, const std::string& next);
  absl::Status Reserve(const std::string& user, const std::string& id, uint64_t bytes);
  absl::StatusOr<TusUploadInfo> Land(const std::string& user, Loaded& at);
  absl::StatusOr<TusUploadInfo> FinishIfStale(const std::string& user, Loaded& at);
  void DeleteBytes(const std::string& user, const Loaded& at);
  absl::Status Remove(const std::string& user, Loaded& at);
  void SweepLoop();
  int64_t Now() const;

  kvs::Client* kvs_;
  Drive* drive_;
  TusOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::thread sweeper_;
};

}  // namespace penncloud::drive
