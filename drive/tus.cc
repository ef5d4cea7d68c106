// Resumable uploads: one compare-and-put record per upload, chunks as any version's.
#include "drive/tus.h"

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "drive/content_type.h"
#include "drive/entry.h"
#include "drive/keys.h"
#include "drive/path.h"
#include "proto/drive.pb.h"

namespace penncloud::drive {

struct TusStore::Loaded {
  std::string id;
  std::string raw;  // the record as read, for compare-and-put
  pb::TusUpload record;
};

namespace {

constexpr std::string_view kExpiryRow = "drive-tus/expiry";
constexpr size_t kIdHexDigits = 32;
constexpr int kMaxAttempts = 32;
constexpr size_t kReadPiece = 1 << 20;
// Each unfinished upload is a cell of the state row that every usage check reads.
constexpr int kMaxOpenUploads = 100;

std::string TusRow(std::string_view user) { return keys::UserRow(user, "tus"); }
std::string TailRow(std::string_view user, std::string_view id) {
  return keys::UserRow(user, "tustail/").append(id);
}
absl::Status ReleaseReservation(kvs::Client* kvs, std::string_view user, std::string_view id) {
  return kvs->Delete(keys::StateRow(user), keys::ReservedColumn(id));
}
std::string ExpiryColumn(std::string_view user, std::string_view id) {
  return std::string(id).append("/").append(user);
}

bool WellFormedId(std::string_view id) {
  if (id.size() != kIdHexDigits) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string Serialize(const pb::TusUpload& record) {
  std::string out;
  record.SerializeToString(&out);
  return out;
}

TusUploadInfo InfoOf(std::string_view id, const pb::TusUpload& r) {
  return TusUploadInfo{.id = std::string(id),
                       .path = r.path(),
                       .offset = r.offset(),
                       .length = r.length(),
                       .expires_ms = r.expires_ms(),
                       .done = r.state() == pb::TusUpload::DONE};
}

absl::Status WrongOffset(uint64_t given, uint64_t actual) {
  return absl::FailedPreconditionError(
      absl::StrCat("Upload-Offset ", given, " is not the upload's offset ", actual));
}

// The running digest of a request body, for Upload-Checksum.
class BodyDigest {
 public:
  explicit BodyDigest(TusChecksum::Algorithm algorithm) : ctx_(EVP_MD_CTX_new()) {
    const EVP_MD* md = algorithm == TusChecksum::Algorithm::kSha1 ? EVP_sha1() : EVP_sha256();
    ok_ = ctx_ != nullptr && EVP_DigestInit_ex(ctx_.get(), md, nullptr) == 1;
  }
  void Add(std::string_view bytes) {
    ok_ = ok_ && EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) == 1;
  }
  // The digest, or "" if OpenSSL failed (then no checksum matches).
  std::string Finish() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (!ok_ || EVP_DigestFinal_ex(ctx_.get(), out, &size) != 1) return "";
    return std::string(reinterpret_cast<const char*>(out), size);
  }

 private:
  struct Free {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
  bool ok_ = false;
};

constexpr char kChecksumPayload[] = "penncloud.drive/tus-checksum";

absl::Status ChecksumMismatch() {
  absl::Status s = absl::InvalidArgumentError(
      "Upload-Checksum does not match the body; none of its bytes were kept");
  s.SetPayload(kChecksumPayload, absl::Cord("1"));
  return s;
}

absl::Status LostClaim() {
  return absl::AbortedError("another request took over this upload; ask for its offset again");
}

}  // namespace

bool IsTusChecksumMismatch(const absl::Status& status) {
  return status.GetPayload(kChecksumPayload).has_value();
}

TusStore::TusStore(kvs::Client* kvs, Drive* drive, TusOptions options)
    : kvs_(kvs), drive_(drive), options_(std::move(options)) {
  if (options_.sweep_interval_ms > 0) sweeper_ = std::thread([this] { SweepLoop(); });
}

TusStore::~TusStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
}

int64_t TusStore::Now() const { return drive_->Now(); }

absl::StatusOr<TusStore::Loaded> TusStore::Load(const std::string& user, std::string_view id) {
  if (auto s = ValidateUser(user); !s.ok()) return s;
  if (!WellFormedId(id)) return absl::NotFoundError("no such upload");
  Loaded at;
  at.id = std::string(id);
  auto raw = kvs_->Get(TusRow(user), id);
  if (!raw.ok()) {
    if (absl::IsNotFound(raw.status())) return absl::NotFoundError("no such upload");
    return raw.status();
  }
  at.raw = std::move(*raw);
  if (!at.record.ParseFromString(at.raw)) return absl::DataLossError("corrupt upload record");
  return at;
}

// Load, after finishing a removal that was cut short: its bytes and reservation go now, not
// when the sweeper would reach it.
absl::StatusOr<TusStore::Loaded> TusStore::LoadLive(const std::string& user, std::string_view id) {
  auto at = Load(user, id);
  if (at.ok() && at->record.state() == pb::TusUpload::REMOVING) {
    (void)Remove(user, *at);
    return absl::NotFoundError("no such upload");
  }
  return at;
}

// Compare-and-put of the record from what `at` holds; on success `at` holds `next`.
absl::StatusOr<bool> TusStore::Replace(const std::string& user, Loaded& at,
                                       const std::string& next) {
  auto done = kvs_->CPut(TusRow(user), at.id, at.raw, next);
  if (!done.ok() || !*done) return done;
  at.raw = next;
  at.record.ParseFromString(next);
  return true;
}

// Holds `bytes` of the quota for upload `id`. Checked again once written: of two uploads
// that fit alone but not together, neither keeps its reservation.
absl::Status TusStore::Reserve(const std::string& user, const std::string& id, uint64_t bytes) {
  auto too_many = [] {
    return absl::ResourceExhaustedError(
        absl::StrCat("at most ", kMaxOpenUploads, " uploads may be in progress"));
  };
  auto no_room = [] { return absl::ResourceExhaustedError("the file does not fit in your quota"); };
  auto usage = drive_->GetUsage(user);
  if (!usage.ok()) return usage.status();
  if (usage->reservations >= kMaxOpenUploads) return too_many();
  if (bytes > usage->quota_bytes || usage->used_bytes > usage->quota_bytes - bytes) {
    return no_room();
  }
  absl::Status s = kvs_->Put(keys::StateRow(user), keys::ReservedColumn(id), absl::StrCat(bytes));
  if (!s.ok()) return s;
  auto after = drive_->GetUsage(user);
  if (!after.ok()) {
    s = after.status();
  } else if (after->reservations > kMaxOpenUploads) {
    s = too_many();
  } else if (after->used_bytes > after->quota_bytes) {
    s = no_room();
  }
  if (!s.ok()) (void)ReleaseReservation(kvs_, user, id);
  return s;
}

absl::StatusOr<TusUploadInfo> TusStore::Create(std::string_view user, uint64_t length,
                                               const std::map<std::string, std::string>& metadata) {
  if (auto s = ValidateUser(user); !s.ok()) return s;
  std::string u(user);
  if (length > options_.max_length) {
    return absl::ResourceExhaustedError(
        absl::StrCat("Upload-Length is over the limit of ", options_.max_length, " bytes"));
  }
  auto it = metadata.find("path");
  if (it == metadata.end()) {
    return absl::InvalidArgumentError("Upload-Metadata needs a \"path\" (base64)");
  }
  auto parts = SplitPath(it->second);
  if (!parts.ok()) return parts.status();
  if (parts->empty()) return absl::InvalidArgumentError("cannot upload to the root folder");
  std::vector<std::string> parent(parts->begin(), parts->end() - 1);
  // Checked now so that a client learns of a bad destination before sending any bytes;
  // landing checks again.
  auto folder = drive_->Stat(u, JoinPath(parent));
  if (!folder.ok()) return folder.status();
  if (!folder->folder) return absl::FailedPreconditionError("the parent is not a folder");
  auto existing = drive_->Stat(u, JoinPath(*parts));
  if (existing.ok() && existing->folder) {
    return absl::FailedPreconditionError("a folder is at that path");
  }
  if (!existing.ok() && !absl::IsNotFound(existing.status())) return existing.status();

  pb::TusUpload r;
  r.set_state(pb::TusUpload::UPLOADING);
  r.set_path(JoinPath(*parts));
  r.set_length(length);
  r.set_version(keys::RandomId());
  r.set_chunk_bytes(drive_->options_.chunk_bytes);
  std::string type;
  if (auto t = metadata.find("filetype"); t != metadata.end() && !t->second.empty()) {
    auto normal = NormalizeContentType(t->second);
    if (normal.ok() && *normal != "application/octet-stream") type = *normal;
  }
  r.set_content_type(type.empty() ? GuessContentType(parts->back()) : type);
  r.set_created_ms(Now());
  r.set_expires_ms(r.created_ms() + options_.expiry_ms);
  r.set_reserved(length);

  Loaded at;
  at.id = keys::RandomId();
  // Listed for the sweepers first: a crash after it leaves a listing (and perhaps a
  // reservation) without a record, which the sweeper drops, never a record or a reservation
  // nobody would sweep.
  absl::Status s = kvs_->Put(kExpiryRow, ExpiryColumn(u, at.id), absl::StrCat(r.expires_ms()));
  if (!s.ok()) return s;
  if (length > 0) s = Reserve(u, at.id, length);
  if (!s.ok()) {
    (void)kvs_->Delete(kExpiryRow, ExpiryColumn(u, at.id));
    return s;
  }
  // If this fails the record may exist all the same: listing and reservation wait for it.
  auto made = kvs_->CPut(TusRow(u), at.id, std::nullopt, Serialize(r));
  if (!made.ok()) return made.status();
  if (!*made) return absl::InternalError("upload id collision");
  at.raw = Serialize(r);
  at.record = r;
  PC_LOG(kInfo, "drive.tus_created")("user", u)("length", length);
  if (length > 0) return InfoOf(at.id, r);
  // Nothing to send: the empty file lands at once.
  pb::TusUpload landing = r;
  landing.set_state(pb::TusUpload::LANDING);
  landing.set_landing_ms(Now());
  auto claimed = Replace(u, at, Serialize(landing));
  if (!claimed.ok()) return claimed.status();
  if (!*claimed) return LostClaim();
  return Land(u, at);
}

absl::StatusOr<TusUploadInfo> TusStore::Get(std::string_view user, std::string_view id) {
  std::string u(user);
  auto at = LoadLive(u, id);
  if (!at.ok()) return at.status();
  if (at->record.expires_ms() <= Now()) return absl::NotFoundError("the upload expired");
  if (at->record.state() == pb::TusUpload::LANDING) return FinishIfStale(u, *at);
  return InfoOf(at->id, at->record);
}

// A LANDING record is someone's to finish; once they have been silent for
// landing_stale_ms (their frontend died), whoever asks next finishes it. Landing twice is
// harmless: SwitchEntry finds the entry already at the version.
absl::StatusOr<TusUploadInfo> TusStore::FinishIfStale(const std::string& user, Loaded& at) {
  if (Now() - at.record.landing_ms() < options_.landing_stale_ms) {
    return absl::AbortedError("the upload is being finished; ask again shortly");
  }
  pb::TusUpload next = at.record;
  next.set_landing_ms(Now());
  auto claimed = Replace(user, at, Serialize(next));
  if (!claimed.ok()) return claimed.status();
  if (!*claimed) return absl::AbortedError("the upload is being finished; ask again shortly");
  return Land(user, at);
}

absl::StatusOr<TusUploadInfo> TusStore::Land(const std::string& user, Loaded& at) {
  const pb::TusUpload& r = at.record;
  auto parts = SplitPath(r.path());
  if (!parts.ok()) return parts.status();
  if (r.chunk_bytes() != drive_->options_.chunk_bytes) {
    return absl::FailedPreconditionError("the upload was made with another chunk size");
  }
  // Released before the switch, whose quota check counts the file itself. The record still
  // names the reservation until it is DONE, so a landing run again deletes the cell again,
  // which is harmless.
  if (r.reserved() > 0) {
    if (auto s = ReleaseReservation(kvs_, user, at.id); !s.ok()) return s;
  }
  UploadOptions options;
  options.content_type = r.content_type();
  bool unknown = false;
  auto landed =
      drive_->SwitchEntry(user, *parts, r.version(), r.length(), options, std::nullopt, &unknown);
  if (!landed.ok()) {
    // Unknown outcome: the entry may name our chunks, so the record stays LANDING and the
    // next request finishes it once it is stale.
    if (unknown) return landed.status();
    PC_LOG(kInfo, "drive.tus_land_failed")("user", user)("error", landed.status().ToString());
    (void)Remove(user, at);
    return landed.status();
  }
  pb::TusUpload done = r;
  done.set_state(pb::TusUpload::DONE);
  done.set_reserved(0);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    auto replaced = Replace(user, at, Serialize(done));
    if (!replaced.ok() || *replaced) break;
    auto again = Load(user, at.id);
    if (!again.ok() || again->record.state() != pb::TusUpload::LANDING) break;
    at = std::move(*again);
  }
  // The tail cells are not needed any more: the last chunk holds those bytes.
  kvs::ListOptions list{.after = "", .limit = 100, .with_values = false};
  if (auto page = kvs_->List(TailRow(user, at.id), list); page.ok()) {
    for (const auto& cell : page->cells) (void)kvs_->Delete(TailRow(user, at.id), cell.column);
  }
  PC_LOG(kInfo, "drive.tus_landed")("user", user)("size", r.length());
  return InfoOf(at.id, done);
}

absl::StatusOr<TusUploadInfo> TusStore::Append(std::string_view user, std::string_view id,
                                               uint64_t offset, const TusByteSource& body,
                                               const std::optional<TusChecksum>& checksum) {
  std::string u(user);
  auto loaded = LoadLive(u, id);
  if (!loaded.ok()) return loaded.status();
  Loaded& at = *loaded;
  if (at.record.expires_ms() <= Now()) return absl::NotFoundError("the upload expired");
  if (at.record.state() != pb::TusUpload::UPLOADING) {
    if (offset != at.record.length()) return WrongOffset(offset, at.record.length());
    if (at.record.state() == pb::TusUpload::LANDING) return FinishIfStale(u, at);
    return InfoOf(at.id, at.record);
  }
  // Take the upload over: a request still writing it stops at its next compare-and-put.
  for (int attempt = 0;; ++attempt) {
    if (offset != at.record.offset()) return WrongOffset(offset, at.record.offset());
    pb::TusUpload mine = at.record;
    mine.set_writer(keys::RandomId());
    auto claimed = Replace(u, at, Serialize(mine));
    if (!claimed.ok()) return claimed.status();
    if (*claimed) break;
    if (attempt == kMaxAttempts) return LostClaim();
    auto again = LoadLive(u, id);
    if (!again.ok()) return again.status();
    at = std::move(*again);
    if (at.record.state() != pb::TusUpload::UPLOADING)
      return WrongOffset(offset, at.record.length());
  }

  const uint64_t chunk = at.record.chunk_bytes();
  const uint64_t length = at.record.length();
  const std::string version = at.record.version();
  const uint64_t start_offset = at.record.offset();
  // `buffer` holds bytes [base, base + buffer.size()): the stored tail, then the body.
  uint64_t base = start_offset - start_offset % chunk;
  std::string buffer;
  if (start_offset % chunk != 0) {
    auto tail = kvs_->Get(TailRow(u, at.id), absl::StrCat(start_offset));
    if (!tail.ok()) return tail.status();
    if (tail->size() != start_offset % chunk) return absl::DataLossError("corrupt upload tail");
    buffer = std::move(*tail);
  }
  std::string old_tail = start_offset % chunk != 0 ? absl::StrCat(start_offset) : std::string();

  // Moves the durable offset to `to`; false if another request took the upload over.
  auto advance = [&](uint64_t to, bool last) -> absl::Status {
    pb::TusUpload next = at.record;
    next.set_offset(to);
    if (last) {
      next.set_state(pb::TusUpload::LANDING);
      next.set_landing_ms(Now());
    }
    auto done = Replace(u, at, Serialize(next));
    if (!done.ok()) return done.status();
    if (!*done) return LostClaim();
    return absl::OkStatus();
  };

  // With a checksum nothing is known good before the body's end, so the chunks are stored
  // as they fill but the offset moves once, after the digest matched; until then the record
  // still names the PATCH's start (and its tail), whatever happens.
  std::optional<BodyDigest> digest;
  if (checksum) digest.emplace(checksum->algorithm);

  absl::Status failure;
  for (;;) {
    uint64_t end = base + buffer.size();
    // One byte more than fits, to tell a body that runs past the length.
    size_t want = static_cast<size_t>(std::min<uint64_t>(kReadPiece, length - end + 1));
    auto piece = body(want);
    if (!piece.ok()) {
      failure = absl::InvalidArgumentError("the upload was cut off");
      break;
    }
    if (piece->empty()) break;
    if (piece->size() > length - end) {
      failure = absl::InvalidArgumentError("the body runs past Upload-Length");
      break;
    }
    if (digest) digest->Add(*piece);
    buffer.append(*piece);
    // Each full chunk is stored, then named by the record: a crash loses at most the piece
    // in hand.
    while (buffer.size() >= chunk && failure.ok()) {
      std::string data = buffer.substr(0, chunk);
      failure = kvs_->Put(keys::ChunkRow(u, version, base / chunk), keys::kChunkColumn, data);
      if (!failure.ok()) break;
      base += chunk;
      buffer.erase(0, chunk);
      if (!digest) failure = advance(base, base == length);
    }
    if (!failure.ok()) break;
  }
  if (digest && failure.ok() && digest->Finish() != checksum->digest) failure = ChecksumMismatch();
  // Keep what arrived, even from a client that went away (tus: store as much as possible),
  // unless a checksum could not vouch for it.
  uint64_t end = base + buffer.size();
  bool keep = !absl::IsAborted(failure) && (!digest || failure.ok());
  if (keep && at.record.state() == pb::TusUpload::UPLOADING && end > at.record.offset()) {
    absl::Status saved;
    // Empty when a checksum held the offset back at a chunk boundary: nothing to add there.
    if (!buffer.empty()) {
      saved = end == length
                  ? kvs_->Put(keys::ChunkRow(u, version, base / chunk), keys::kChunkColumn, buffer)
                  : kvs_->Put(TailRow(u, at.id), absl::StrCat(end), buffer);
    }
    if (saved.ok()) saved = advance(end, end == length);
    if (!saved.ok() && failure.ok()) failure = saved;
  }
  if (!old_tail.empty() && at.record.offset() != start_offset) {
    (void)kvs_->Delete(TailRow(u, at.id), old_tail);
  }
  // Every byte is in (whatever else went wrong after the last one): the file lands now.
  if (at.record.state() == pb::TusUpload::LANDING) return Land(u, at);
  if (!failure.ok()) return failure;
  return InfoOf(at.id, at.record);
}

// Deletes an unfinished upload's chunks and tail cells.
void TusStore::DeleteBytes(const std::string& user, const Loaded& at) {
  // Past the offset too: a writer that died, or a PATCH whose checksum failed, may have
  // stored chunks the record does not name yet.
  drive_->ProbeDeleteChunks(user, at.record.version());
  kvs::ListOptions list{.after = "", .limit = 100, .with_values = false};
  for (int page_no = 0; page_no < 100; ++page_no) {
    auto page = kvs_->List(TailRow(user, at.id), list);
    if (!page.ok() || page->cells.empty()) break;
    for (const auto& cell : page->cells) (void)kvs_->Delete(TailRow(user, at.id), cell.column);
    if (!page->more) break;
  }
}

// Takes the record away: marks it REMOVING (compare-and-put, so one remover wins and a PATCH
// still writing stops), deletes its bytes and its reservation, then the record. A removal cut
// short is finished by whoever loads the record next (LoadLive, Sweep): every step is a
// delete, safe to repeat. A finished upload's chunks belong to the file and stay.
absl::Status TusStore::Remove(const std::string& user, Loaded& at) {
  if (at.record.state() != pb::TusUpload::DONE) {
    if (at.record.state() != pb::TusUpload::REMOVING) {
      pb::TusUpload removing = at.record;
      removing.set_state(pb::TusUpload::REMOVING);
      auto claimed = Replace(user, at, Serialize(removing));
      if (!claimed.ok()) return claimed.status();
      if (!*claimed) return LostClaim();
    }
    DeleteBytes(user, at);
    if (at.record.reserved() > 0) {
      if (auto s = ReleaseReservation(kvs_, user, at.id); !s.ok()) return s;
    }
  }
  auto gone = kvs_->CDelete(TusRow(user), at.id, at.raw);
  if (!gone.ok()) return gone.status();
  if (!*gone) return absl::NotFoundError("no such upload");  // another remover finished first
  (void)kvs_->Delete(kExpiryRow, ExpiryColumn(user, at.id));
  return absl::OkStatus();
}

absl::Status TusStore::Terminate(std::string_view user, std::string_view id) {
  std::string u(user);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    // A termination cut short (REMOVING) is finished here, and succeeds like the first.
    auto at = Load(u, id);
    if (!at.ok()) return at.status();
    if (at->record.state() == pb::TusUpload::LANDING) {
      return absl::AbortedError("the upload is being finished");
    }
    auto s = Remove(u, *at);
    if (!absl::IsAborted(s)) return s;
  }
  return LostClaim();
}

absl::StatusOr<int> TusStore::Sweep() {
  int removed = 0;
  int64_t now = Now();
  kvs::ListOptions list{.after = "", .limit = 200, .with_values = true};
  for (int page_no = 0; page_no < 50; ++page_no) {
    auto page = kvs_->List(kExpiryRow, list);
    if (!page.ok()) return page.status();
    for (const auto& cell : page->cells) {
      int64_t expires = 0;
      if (absl::SimpleAtoi(cell.value, &expires) && expires > now) continue;
      std::string id = cell.column.substr(0, kIdHexDigits);
      std::string user = cell.column.size() > kIdHexDigits + 1
                             ? cell.column.substr(kIdHexDigits + 1)
                             : std::string();
      auto at = Load(user, id);
      if (absl::IsNotFound(at.status()) || absl::IsInvalidArgument(at.status())) {
        // A creation cut short after reserving and before writing the record.
        if (absl::IsNotFound(at.status()) && !ReleaseReservation(kvs_, user, id).ok()) continue;
        (void)kvs_->CDelete(kExpiryRow, cell.column, cell.value);
        continue;
      }
      if (!at.ok()) continue;
      // A landing interrupted by a crash is finished first, so its file is not lost.
      if (at->record.state() == pb::TusUpload::LANDING) {
        if (!FinishIfStale(user, *at).ok()) continue;
        auto again = Load(user, id);
        if (!again.ok()) continue;
        at = std::move(again);
      }
      if (Remove(user, *at).ok()) {
        ++removed;
        PC_LOG(kInfo, "drive.tus_expired")("user", user)("offset", at->record.offset());
      }
    }
    if (!page->more || page->cells.empty()) break;
    list.after = page->cells.back().column;
  }
  return removed;
}

void TusStore::SweepLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(options_.sweep_interval_ms));
    if (stopping_) break;
    lock.unlock();
    if (auto n = Sweep(); !n.ok()) {
      PC_LOG(kInfo, "drive.tus_sweep_failed")("error", n.status().ToString());
    }
    lock.lock();
  }
}

}  // namespace penncloud::drive
