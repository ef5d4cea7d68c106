// Whole-file and directory operations over the replica's file system (disk.h), for the
// few files a replica writes outside RocksDB: snapshot downloads and repair markers.
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace penncloud::kvs::storage {

// Writes `bytes` to `path` (replacing it) and syncs the file and its directory: the file is
// whole on disk, under its name, when this returns OK.
absl::Status WriteFileSynced(const std::string& path, const std::string& bytes);
// The file's bytes; an error if it is missing or longer than `limit`.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t limit);
bool PathExists(const std::string& path);
absl::Status CreateDirs(const std::string& path);
// Removes `path` and everything under it; OK if it does not exist.
absl::Status RemoveTree(const std::string& path);
// Renames `from` to `to` (replacing an empty directory or a file) and syncs the directory
// holding `to`.
absl::Status RenameSynced(const std::string& from, const std::string& to);

}  // namespace penncloud::kvs::storage
