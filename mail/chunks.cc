#include "mail/chunks.h"

#include <memory>
#include <mutex>
#include <vector>

#include "mail/text.h"

namespace penncloud::mail {
namespace {
std::string ChunkRow(std::string_view name, int i) { return Cat(name, '/', i); }
}  // namespace

absl::StatusOr<int> WriteChunks(kvs::Client& kvs, std::string_view name, std::string_view data) {
  int count = 0;
  // An empty blob still has one (empty) chunk, so readers need no special case.
  do {
    std::string_view piece = data.substr(0, kChunkBytes);
    data.remove_prefix(piece.size());
    if (auto s = kvs.Put(ChunkRow(name, count), "c", piece); !s.ok()) return s;
    ++count;
  } while (!data.empty());
  return count;
}

absl::StatusOr<std::string> ReadChunks(kvs::Client& kvs, std::string_view name, int chunks) {
  std::string out;
  for (int i = 0; i < chunks; ++i) {
    auto piece = kvs.Get(ChunkRow(name, i), "c");
    if (!piece.ok()) return piece.status();
    out += *piece;
  }
  return out;
}

void StartReadChunks(kvs::Client& kvs, std::string_view name, int chunks,
                     std::function<void(kvs::StartedGet)> done) {
  if (chunks <= 0) return done(std::string());
  // Shared by the reads' callbacks; the last one to land assembles the blob.
  struct Read {
    std::mutex mu;
    std::vector<kvs::StartedGet> pieces;  // GUARDED_BY(mu)
    int left;                             // GUARDED_BY(mu)
    std::function<void(kvs::StartedGet)> done;
  };
  auto read = std::make_shared<Read>();
  read->pieces.resize(static_cast<size_t>(chunks));
  read->left = chunks;
  read->done = std::move(done);
  for (int i = 0; i < chunks; ++i) {
    kvs.StartGet(ChunkRow(name, i), "c", [read, i](kvs::StartedGet got) {
      {
        std::lock_guard<std::mutex> lock(read->mu);
        read->pieces[static_cast<size_t>(i)] = std::move(got);
        if (--read->left > 0) return;
      }
      std::string blob;
      for (kvs::StartedGet& piece : read->pieces) {
        if (!piece.has_value() || !piece->ok()) return read->done(std::move(piece));
        blob += **piece;
      }
      read->done(std::move(blob));
    });
  }
}

absl::Status DeleteChunks(kvs::Client& kvs, std::string_view name, int chunks) {
  for (int i = 0; i < chunks; ++i) {
    if (auto s = kvs.Delete(ChunkRow(name, i), "c"); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace penncloud::mail
