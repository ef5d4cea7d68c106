#include "mail/chunks.h"

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

absl::Status DeleteChunks(kvs::Client& kvs, std::string_view name, int chunks) {
  for (int i = 0; i < chunks; ++i) {
    if (auto s = kvs.Delete(ChunkRow(name, i), "c"); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace penncloud::mail
