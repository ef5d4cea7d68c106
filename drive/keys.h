// Row keys of the drive's records (layout in proto/drive.proto). Internal to drive/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace penncloud::drive::keys {

inline constexpr std::string_view kRootFolderId = "root";
inline constexpr std::string_view kChunkColumn = "d";
inline constexpr std::string_view kUsedColumn = "used";
inline constexpr std::string_view kQuotaColumn = "quota";
// In the state row, beside the counter: one cell per resumable upload's reservation, so
// releasing it is a delete, which is safe to repeat (tus.h).
inline constexpr std::string_view kReservedPrefix = "reserved/";

// (std::string concatenation: absl::StrCat here takes absl::string_view, not std's.)
inline std::string UserRow(std::string_view user, std::string_view rest) {
  std::string row = "drive/";
  row.append(user).append("/").append(rest);
  return row;
}
inline std::string TreeRow(std::string_view user, std::string_view folder_id) {
  return UserRow(user, "tree/").append(folder_id);
}
inline std::string StateRow(std::string_view user) { return UserRow(user, "state"); }
inline std::string PendingRow(std::string_view user) { return UserRow(user, "pending"); }
inline std::string ReservedColumn(std::string_view upload_id) {
  return std::string(kReservedPrefix).append(upload_id);
}
inline std::string GarbageRow(std::string_view user) { return UserRow(user, "garbage"); }
inline std::string TrashRow(std::string_view user) { return UserRow(user, "trash"); }
inline std::string VersionsRow(std::string_view user) { return UserRow(user, "versions"); }
inline std::string NamesRow(std::string_view user) { return UserRow(user, "names"); }
// A file's versions sort together: "<file id>/<version>".
inline std::string VersionColumn(std::string_view file_id, std::string_view version) {
  return std::string(file_id).append("/").append(version);
}
// The name index: "<folded word>\0<path>"; no word or path holds a NUL.
inline std::string NameColumn(std::string_view word, std::string_view path) {
  std::string column(word);
  column.push_back('\0');
  return column.append(path);
}
inline std::string ChunkRow(std::string_view user, std::string_view version, uint64_t index) {
  return UserRow(user, "chunk/").append(version).append("/").append(std::to_string(index));
}

// 128 random bits in hex: folder ids and content versions. Unguessable, so an ETag reveals
// nothing that names another file.
std::string RandomId();

}  // namespace penncloud::drive::keys
