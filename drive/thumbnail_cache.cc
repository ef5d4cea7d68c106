#include "drive/thumbnail_cache.h"

#include "drive/keys.h"
#include "drive/thumbnail.h"

namespace penncloud::drive {
namespace {

std::string ThumbRow(std::string_view user, std::string_view version) {
  return keys::UserRow(user, "thumb/").append(version);
}

}  // namespace

absl::StatusOr<std::optional<std::string>> ThumbnailCache::Get(std::string_view user,
                                                               std::string_view version, int side) {
  auto cell = store_->Get(ThumbRow(user, version), std::to_string(side));
  if (absl::IsNotFound(cell.status())) return std::nullopt;
  if (!cell.ok()) return cell.status();
  return std::optional<std::string>(std::move(*cell));
}

absl::Status ThumbnailCache::Put(std::string_view user, std::string_view version, int side,
                                 std::string_view jpeg) {
  if (jpeg.size() > kMaxCachedThumbnailBytes) return absl::OkStatus();
  return store_->Put(ThumbRow(user, version), std::to_string(side), jpeg);
}

absl::Status ThumbnailCache::DeleteAll(std::string_view user, std::string_view version) {
  std::string row = ThumbRow(user, version);
  // Columns are sizes, so the row has at most kMaxThumbnailSide cells: a bounded walk.
  std::string after;
  for (int pages = 0; pages <= kMaxThumbnailSide / 500; ++pages) {
    auto page = store_->List(row, kvs::ListOptions{.after = after, .limit = 500});
    if (!page.ok()) return page.status();
    for (const auto& cell : page->cells) {
      if (auto s = store_->Delete(row, cell.column); !s.ok()) return s;
      after = cell.column;
    }
    if (!page->more) break;
  }
  return absl::OkStatus();
}

}  // namespace penncloud::drive
