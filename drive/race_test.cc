// A delete or move that races an upload's commit on the same path (docs/drive.md,
// "Deleting and moving"). The interleaving is forced: the store runs the upload's commit
// right before the delete or move removes the entry it looked at, so the test reproduces
// the window every time instead of hoping a scheduler hits it.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "drive/drive.h"
#include "drive/keys.h"
#include "drive/test_util.h"
#include "kvs/client/forwarding_client.h"

namespace penncloud::drive {
namespace {

// Forwards to a MemoryClient; the first Delete or CDelete of one cell runs `hook` first.
class RacingClient final : public kvs::ForwardingClient {
 public:
  explicit RacingClient(kvs::Client* store) : ForwardingClient(*store) {}

  void BeforeRemoving(std::string row, std::string column, std::function<void()> hook) {
    std::lock_guard lock(mu_);
    row_ = std::move(row);
    column_ = std::move(column);
    hook_ = std::move(hook);
  }

  absl::Status Delete(std::string_view row, std::string_view column) override {
    Race(row, column);
    return ForwardingClient::Delete(row, column);
  }
  absl::StatusOr<bool> CDelete(std::string_view row, std::string_view column,
                               std::string_view expected) override {
    Race(row, column);
    return ForwardingClient::CDelete(row, column, expected);
  }

 private:
  void Race(std::string_view row, std::string_view column) {
    std::function<void()> hook;
    {
      std::lock_guard lock(mu_);
      if (!hook_ || row != row_ || column != column_) return;
      hook.swap(hook_);  // once
    }
    hook();
  }

  std::mutex mu_;
  std::string row_, column_;    // GUARDED_BY(mu_)
  std::function<void()> hook_;  // GUARDED_BY(mu_)
};

class DriveRaceTest : public DriveTest {
 protected:
  DriveRaceTest() : racing_(&kvs_) {
    Options options;
    options.chunk_bytes = 4;
    options.garbage_grace_ms = 1000;
    options.pending_timeout_ms = 10000;
    options.now_ms = [this] { return clock_.load(); };
    // Deletes go through the trash (emptied before the leak check); versions are off, so
    // every replaced version must be collected.
    options.max_versions = 0;
    drive_ = std::make_unique<Drive>(&racing_, options);
  }
  ~DriveRaceTest() override { drive_.reset(); }

  // An upload of `data` to `path`, every byte written, waiting for its commit.
  std::unique_ptr<Upload> Staged(const std::string& path, const std::string& data) {
    auto upload = drive_->BeginUpload("alice", path);
    EXPECT_TRUE(upload.ok()) << upload.status();
    EXPECT_TRUE((*upload)->Append(data).ok());
    return std::move(*upload);
  }

  // After the grace period every version's chunks are gone except those a live entry
  // names, and the usage counter equals the live files' sizes.
  void ExpectNothingLeaked(const std::vector<std::string>& versions,
                           const std::vector<std::string>& live_paths) {
    ASSERT_TRUE(drive_->EmptyTrash("alice").ok());
    clock_ += 10'000;
    ASSERT_TRUE(drive_->CollectGarbage("alice").ok());
    uint64_t live_bytes = 0;
    std::set<std::string> live_versions;
    for (const std::string& path : live_paths) {
      auto st = drive_->Stat("alice", path);
      if (!st.ok()) continue;
      live_bytes += st->size;
      live_versions.insert(st->etag);
      EXPECT_TRUE(Read("alice", path).ok()) << path << " names collected chunks";
    }
    for (const std::string& version : versions) {
      if (live_versions.contains(version)) {
        EXPECT_GT(ChunksOf("alice", version), 0) << version;
      } else {
        EXPECT_EQ(ChunksOf("alice", version), 0) << "leaked chunks of version " << version;
      }
    }
    EXPECT_EQ(drive_->GetUsage("alice")->used_bytes, live_bytes);
  }

  RacingClient racing_;
};

// Delete has read the entry (old version); an upload to the same path commits; then the
// delete removes the entry. Removing it blindly would drop the new version's only
// reference: its chunks never reach the garbage list and are never collected.
TEST_F(DriveRaceTest, DeleteRacingAnUploadCommitLeaksNothing) {
  ASSERT_TRUE(Write("alice", "/f", "old contents").ok());
  const std::string old_version = drive_->Stat("alice", "/f")->etag;
  std::unique_ptr<Upload> upload = Staged("/f", "new contents, longer");
  const std::string new_version = upload->version_for_test();
  bool committed = false;
  racing_.BeforeRemoving(keys::TreeRow("alice", keys::kRootFolderId), "f",
                         [&] { committed = upload->Commit().ok(); });
  absl::Status deleted = drive_->Delete("alice", "/f");
  ASSERT_TRUE(committed);
  // Both orders are fine (the delete after the upload: gone; a refused delete: the new
  // file stays), as long as nothing leaks.
  EXPECT_TRUE(deleted.ok() || absl::IsAborted(deleted)) << deleted;
  if (deleted.ok()) {
    EXPECT_TRUE(absl::IsNotFound(drive_->Stat("alice", "/f").status()));
  }
  ExpectNothingLeaked({old_version, new_version}, {"/f"});
}

// Move has copied the entry to its destination and is about to remove the source when an
// upload to the source commits. Removing the source blindly would drop the new version
// (leaked) and leave the destination naming the old version, which the upload has just
// handed to the collector: the moved file would lose its contents after the grace period.
TEST_F(DriveRaceTest, MoveRacingAnUploadCommitLeaksAndLosesNothing) {
  ASSERT_TRUE(Write("alice", "/a", "old contents").ok());
  const std::string old_version = drive_->Stat("alice", "/a")->etag;
  std::unique_ptr<Upload> upload = Staged("/a", "new contents, longer");
  const std::string new_version = upload->version_for_test();
  bool committed = false;
  racing_.BeforeRemoving(keys::TreeRow("alice", keys::kRootFolderId), "a",
                         [&] { committed = upload->Commit().ok(); });
  absl::Status moved = drive_->Move("alice", "/a", "/b", false);
  ASSERT_TRUE(committed);
  EXPECT_TRUE(absl::IsAborted(moved)) << moved;
  EXPECT_EQ(*Read("alice", "/a"), "new contents, longer");
  EXPECT_TRUE(absl::IsNotFound(drive_->Stat("alice", "/b").status()));
  ExpectNothingLeaked({old_version, new_version}, {"/a", "/b"});
}

// A move or delete has let the file go and is about to remove its old name's index cells
// when an upload lands on that path and indexes it. The removal leaves the upload's cells,
// so a search still finds the new file.
TEST_F(DriveRaceTest, UploadLandingWhereAMoveOrDeleteLeftStaysFindable) {
  const std::map<std::string, std::function<absl::Status()>> leaving = {
      {"move", [this] { return drive_->Move("alice", "/notes.txt", "/moved.txt", false); }},
      {"delete", [this] { return drive_->Delete("alice", "/notes.txt"); }},
  };
  for (const auto& [how, leave] : leaving) {
    SCOPED_TRACE(how);
    ASSERT_TRUE(Write("alice", "/notes.txt", "old").ok());
    std::unique_ptr<Upload> upload = Staged("/notes.txt", "new");
    bool committed = false;
    racing_.BeforeRemoving(keys::NamesRow("alice"), keys::NameColumn("notes", "/notes.txt"),
                           [&] { committed = upload->Commit().ok(); });
    ASSERT_TRUE(leave().ok());
    ASSERT_TRUE(committed);
    EXPECT_EQ(*Read("alice", "/notes.txt"), "new");
    for (const char* word : {"notes", "txt"}) {
      auto found = drive_->Search("alice", word, 10);
      ASSERT_TRUE(found.ok()) << found.status();
      std::set<std::string> paths;
      for (const NameMatch& match : *found) paths.insert(match.path);
      EXPECT_TRUE(paths.contains("/notes.txt")) << word;
    }
    ASSERT_TRUE(drive_->Delete("alice", "/notes.txt").ok());
    (void)drive_->Delete("alice", "/moved.txt");
  }
}

// Without a race both still do what they always did.
TEST_F(DriveRaceTest, UncontendedDeleteAndMoveStillWork) {
  ASSERT_TRUE(Write("alice", "/a", "aaaa bbbb").ok());
  const std::string version = drive_->Stat("alice", "/a")->etag;
  ASSERT_TRUE(drive_->Move("alice", "/a", "/b", false).ok());
  EXPECT_EQ(*Read("alice", "/b"), "aaaa bbbb");
  ASSERT_TRUE(drive_->Delete("alice", "/b").ok());
  EXPECT_TRUE(absl::IsNotFound(drive_->Delete("alice", "/b")));
  ExpectNothingLeaked({version}, {"/a", "/b"});
}

}  // namespace
}  // namespace penncloud::drive
