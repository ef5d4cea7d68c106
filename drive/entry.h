// Conversions between stored Entry records and the EntryInfo the drive hands out.
// Internal to storage/.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "drive/drive.h"
#include "proto/drive.pb.h"

namespace penncloud::drive {

absl::StatusOr<pb::Entry> ParseEntry(std::string_view raw);
std::string SerializeEntry(const pb::Entry& entry);
EntryInfo ToInfo(std::string_view name, const pb::Entry& entry);
inline bool IsFolder(const pb::Entry& e) { return e.kind() == pb::Entry::FOLDER; }
// What stays the same across the item's moves and replacements (EntryInfo::id).
inline const std::string& ItemId(const pb::Entry& e) {
  return IsFolder(e) ? e.folder_id() : e.file_id();
}

}  // namespace penncloud::drive
