#include "drive/zip.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "drive/path.h"

namespace penncloud::drive {
namespace {

// Next() returns once this much archive is ready, so pieces stay small.
constexpr size_t kPieceBytes = 64 << 10;

struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

// `name`, or the first of "name (2).ext", "name (3).ext", ... (a folder's name has no
// extension) not in `taken`; taken then. Ends: each try is a new name, `taken` is finite.
std::string UnusedName(const std::string& name, bool folder, std::set<std::string>& taken) {
  size_t dot = folder ? std::string::npos : name.rfind('.');
  if (dot == 0 || dot == std::string::npos) dot = name.size();
  std::string chosen = name;
  for (int n = 2; taken.contains(chosen); ++n) {
    chosen = absl::StrCat(name.substr(0, dot), " (", n, ")", name.substr(dot));
  }
  taken.insert(chosen);
  return chosen;
}

}  // namespace

ZipStream::ZipStream(Drive* drive) : drive_(drive) {}

ZipStream::~ZipStream() {
  if (archive_ != nullptr) archive_write_free(archive_);
}

absl::StatusOr<std::unique_ptr<ZipStream>> ZipStream::Open(Drive* drive, std::string user,
                                                           std::string path) {
  auto parts = SplitPath(path);
  if (!parts.ok()) return parts.status();
  std::string name = parts->empty() ? "drive" : parts->back();
  return OpenMany(drive, {ZipItem{std::move(user), std::move(path)}}, name + ".zip");
}

absl::StatusOr<std::unique_ptr<ZipStream>> ZipStream::OpenMany(Drive* drive,
                                                               std::vector<ZipItem> items,
                                                               std::string file_name) {
  if (items.empty()) return absl::InvalidArgumentError("nothing to zip");
  if (items.size() > kMaxZipItems) {
    return absl::InvalidArgumentError(absl::StrCat("at most ", kMaxZipItems, " items in one zip"));
  }
  std::unique_ptr<ZipStream> zip(new ZipStream(drive));
  zip->file_name_ = std::move(file_name);
  std::set<std::string> taken;
  for (ZipItem& item : items) {
    auto parts = SplitPath(item.path);
    if (!parts.ok()) return parts.status();
    auto info = drive->Stat(item.user, item.path);
    if (!info.ok()) return info.status();
    std::string name = UnusedName(parts->empty() ? "drive" : parts->back(), info->folder, taken);
    zip->stack_.push_back(
        {std::move(item.user), JoinPath(*parts), name + (info->folder ? "/" : "")});
  }
  // The stack pops from the back: reversed, the archive keeps the order given.
  std::reverse(zip->stack_.begin(), zip->stack_.end());

  zip->archive_ = archive_write_new();
  if (zip->archive_ == nullptr) return absl::ResourceExhaustedError("out of memory");
  // Unblocked output: every write reaches the callback at once, nothing is padded.
  if (archive_write_set_format_zip(zip->archive_) != ARCHIVE_OK ||
      archive_write_set_options(zip->archive_, "zip:compression=store,zip:hdrcharset=UTF-8") !=
          ARCHIVE_OK ||
      archive_write_set_bytes_per_block(zip->archive_, 0) != ARCHIVE_OK ||
      archive_write_open2(zip->archive_, zip.get(), nullptr, &ZipStream::WriteCallback, nullptr,
                          nullptr) != ARCHIVE_OK) {
    return absl::InternalError(absl::StrCat("zip writer: ", archive_error_string(zip->archive_)));
  }
  return zip;
}

long ZipStream::WriteCallback(archive*, void* self, const void* buffer, size_t length) {
  static_cast<ZipStream*>(self)->out_.append(static_cast<const char*>(buffer), length);
  return static_cast<long>(length);
}

absl::Status ZipStream::Fail(absl::Status status) {
  error_ = status;
  return status;
}

absl::Status ZipStream::StartEntry(const Pending& item) {
  if (++entries_ > kMaxZipEntries) {
    return absl::ResourceExhaustedError("the folder has too many entries for one zip");
  }
  bool folder = item.zip_name.ends_with('/');
  EntryInfo info;
  if (folder) {
    auto children = drive_->List(item.user, item.drive_path);
    if (!children.ok()) return children.status();
    // Pushed in reverse, so the archive lists each folder in name order.
    for (auto it = children->rbegin(); it != children->rend(); ++it) {
      std::string child =
          item.drive_path == "/" ? "/" + it->name : item.drive_path + "/" + it->name;
      stack_.push_back({item.user, child, item.zip_name + it->name + (it->folder ? "/" : "")});
    }
    auto stat = drive_->Stat(item.user, item.drive_path);
    if (stat.ok()) info = *stat;
  } else {
    auto reader = drive_->Open(item.user, item.drive_path);
    // A file deleted since its folder was listed is left out, not an error.
    if (absl::IsNotFound(reader.status())) return absl::OkStatus();
    if (!reader.ok()) return reader.status();
    reader_ = std::move(*reader);
    info = reader_->info();
  }
  std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
  archive_entry_set_pathname_utf8(entry.get(), item.zip_name.c_str());
  archive_entry_set_filetype(entry.get(), folder ? AE_IFDIR : AE_IFREG);
  archive_entry_set_perm(entry.get(), folder ? 0755 : 0644);
  archive_entry_set_size(entry.get(), folder ? 0 : static_cast<la_int64_t>(info.size));
  archive_entry_set_mtime(entry.get(), info.modified_ms / 1000, 0);
  if (archive_write_header(archive_, entry.get()) < ARCHIVE_WARN) {
    return absl::InternalError(absl::StrCat("zip writer: ", archive_error_string(archive_)));
  }
  return absl::OkStatus();
}

absl::Status ZipStream::Step() {
  if (reader_ != nullptr) {
    auto piece = reader_->Next();
    if (!piece.ok()) return piece.status();
    if (piece->empty()) {
      reader_.reset();
      if (archive_write_finish_entry(archive_) < ARCHIVE_WARN) {
        return absl::InternalError(absl::StrCat("zip writer: ", archive_error_string(archive_)));
      }
      return absl::OkStatus();
    }
    if (archive_write_data(archive_, piece->data(), piece->size()) < 0) {
      return absl::InternalError(absl::StrCat("zip writer: ", archive_error_string(archive_)));
    }
    return absl::OkStatus();
  }
  if (stack_.empty()) {
    closed_ = true;
    if (archive_write_close(archive_) != ARCHIVE_OK) {
      return absl::InternalError(absl::StrCat("zip writer: ", archive_error_string(archive_)));
    }
    return absl::OkStatus();
  }
  Pending item = std::move(stack_.back());
  stack_.pop_back();
  return StartEntry(item);
}

absl::StatusOr<std::string> ZipStream::Next() {
  if (!error_.ok()) return error_;
  // Each Step writes one entry header, one chunk of content or the end of the archive, and
  // the tree and entry count are bounded, so this loop ends.
  while (out_.size() < kPieceBytes && !closed_) {
    if (auto s = Step(); !s.ok()) return Fail(s);
  }
  std::string piece;
  piece.swap(out_);
  return piece;
}

}  // namespace penncloud::drive
