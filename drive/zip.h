// A file or folder of a drive as a zip archive, produced piece by piece so a folder of any
// size streams in constant memory: one chunk of file content, libarchive's few KiB of
// state, the listings of the folders on the current path, and one central-directory
// record per entry (libarchive writes the directory at the end).
//
// Written with libarchive's zip writer into a callback (docs/drive-sharing.md says why).
// Entries are stored, not deflated: photos, videos and archives do not shrink, and the
// CPU is better spent serving. Sizes over 4 GiB get Zip64 records.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "drive/drive.h"

struct archive;

namespace penncloud::drive {

// More entries than this end the archive with an error (the connection is cut), so a
// runaway tree cannot grow the central directory without bound.
inline constexpr uint64_t kMaxZipEntries = 100000;
// At most this many items chosen for one archive (each may be a folder of any size).
inline constexpr size_t kMaxZipItems = 1000;

// One item chosen for an archive: `path` in `user`'s drive (several users' items may share
// one archive: a user's own files beside files shared with them).
struct ZipItem {
  std::string user;
  std::string path;
};

class ZipStream {
 public:
  // `path` in `user`'s drive: a folder (its contents, under a top folder of its name) or a
  // file. kNotFound / kInvalidArgument as Drive::Stat.
  static absl::StatusOr<std::unique_ptr<ZipStream>> Open(Drive* drive, std::string user,
                                                         std::string path);
  // Several items side by side at the top of one archive named `file_name`. Items of the
  // same name are told apart as "name (2).ext", "name (3).ext", ... in the order given.
  // kInvalidArgument for no items or more than kMaxZipItems; kNotFound (naming the path)
  // if any item does not exist.
  static absl::StatusOr<std::unique_ptr<ZipStream>> OpenMany(Drive* drive,
                                                             std::vector<ZipItem> items,
                                                             std::string file_name);
  ~ZipStream();
  ZipStream(const ZipStream&) = delete;
  ZipStream& operator=(const ZipStream&) = delete;

  // The archive's download name: the item's name + ".zip".
  const std::string& file_name() const { return file_name_; }
  // The next piece of the archive (up to about 64 KiB plus one chunk); "" at the end.
  absl::StatusOr<std::string> Next();

  uint64_t entries_written() const { return entries_; }

 private:
  struct Pending {
    std::string user;
    std::string drive_path;
    std::string zip_name;
  };

  explicit ZipStream(Drive* drive);
  static long WriteCallback(archive* a, void* self, const void* buffer, size_t length);
  absl::Status Step();
  absl::Status StartEntry(const Pending& item);
  absl::Status Fail(absl::Status status);

  Drive* drive_;
  std::string file_name_;
  archive* archive_ = nullptr;
  std::string out_;
  std::vector<Pending> stack_;  // depth-first: the next item is at the back
  std::unique_ptr<Reader> reader_;
  uint64_t entries_ = 0;
  bool closed_ = false;
  absl::Status error_;
};

}  // namespace penncloud::drive
