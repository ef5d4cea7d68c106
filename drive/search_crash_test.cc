// The name index against a frontend dying at each store write of a change of the tree: an
// upload, a rename, a folder move, a delete and a restore. Whatever write the crash cuts off,
// a search afterwards shows exactly the files and folders that exist (a cell of a change cut
// short is dropped, never shown, and no existing name goes missing), and once such cells are
// old enough the searches that met them have deleted them.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "drive/cuttable_store_test_support.h"
#include "drive/drive.h"
#include "drive/keys.h"
#include "drive/name_words.h"

namespace penncloud::drive {
namespace {

using Paths = std::set<std::string>;

// The words of the names below, each the start of no other but "restored" (a restore beside
// a taken name).
const char* const kWords[] = {"docs",    "inner", "plan", "memo",    "report",
                              "archive", "notes", "txt",  "restored"};

class SearchCrashTest : public ::testing::TestWithParam<bool> {
 protected:
  std::unique_ptr<Drive> Start() {
    Options options;
    options.chunk_bytes = 4;
    options.now_ms = [this] { return now_.load(); };
    return std::make_unique<Drive>(store_.get(), options);
  }

  static absl::Status Write(Drive& drive, const std::string& path, const std::string& data) {
    auto upload = drive.BeginUpload("alice", path);
    if (!upload.ok()) return upload.status();
    if (auto s = (*upload)->Append(data); !s.ok()) return s;
    return (*upload)->Commit().status();
  }

  // Two folders and three files, /memo.txt in the trash.
  static void Setup(Drive& drive) {
    ASSERT_TRUE(drive.CreateFolder("alice", "/docs").ok());
    ASSERT_TRUE(drive.CreateFolder("alice", "/docs/inner").ok());
    ASSERT_TRUE(Write(drive, "/docs/inner/plan.txt", "plan").ok());
    ASSERT_TRUE(Write(drive, "/docs/notes.txt", "notes").ok());
    ASSERT_TRUE(Write(drive, "/memo.txt", "memo").ok());
    ASSERT_TRUE(drive.Delete("alice", "/memo.txt").ok());
  }

  static void Walk(Drive& drive, const std::string& folder, Paths& paths) {
    auto list = drive.List("alice", folder);
    ASSERT_TRUE(list.ok()) << list.status();
    for (const auto& entry : *list) {
      std::string path = (folder == "/" ? "" : folder) + "/" + entry.name;
      paths.insert(path);
      if (entry.folder) Walk(drive, path, paths);
    }
  }

  // Each word's search against the tree: the paths whose name holds the word.
  static void ExpectSearchShowsTheTree(Drive& drive) {
    Paths tree;
    Walk(drive, "/", tree);
    for (const char* word : kWords) {
      Paths expected, found;
      for (const std::string& path : tree) {
        for (const std::string& w : FoldedWords(path.substr(path.rfind('/') + 1))) {
          if (w == word) expected.insert(path);
        }
      }
      auto matches = drive.Search("alice", word, kMaxSearchResults);
      ASSERT_TRUE(matches.ok()) << matches.status();
      for (const NameMatch& m : *matches) found.insert(m.path);
      EXPECT_EQ(found, expected) << word;
    }
  }

  // Index cells that name no existing file or folder.
  int StaleCells(Drive& drive) {
    Paths tree;
    Walk(drive, "/", tree);
    auto page = store_->List(keys::NamesRow("alice"), {.after = "", .limit = 1000});
    EXPECT_TRUE(page.ok()) << page.status();
    int stale = 0;
    for (const kvs::Cell& cell : page->cells) {
      if (!tree.contains(cell.column.substr(cell.column.find('\0') + 1))) ++stale;
    }
    return stale;
  }

  // Runs `change` on a drive set up afresh, the store cut off at its k-th write (that write
  // landing or not, the test's parameter), for k = 1, 2, ... until a run is not cut off.
  void CrashAtEachWrite(const std::function<absl::Status(Drive&)>& change) {
    const bool crashing_write_lands = GetParam();
    bool finished = false;
    int stale_seen = 0;
    for (int k = 1; k <= 200 && !finished; ++k) {
      SCOPED_TRACE(testing::Message() << "crash at write " << k);
      store_ = std::make_unique<CuttableStore>();
      Setup(*Start());
      if (HasFatalFailure()) return;
      std::atomic<int> writes = 0;
      store_->cut = [&](CuttableStore::When when, std::string_view, std::string_view) {
        int n = when == CuttableStore::When::kBefore ? ++writes : writes.load();
        return n == k && (when == CuttableStore::When::kAfter) == crashing_write_lands;
      };
      absl::Status changed = change(*Start());
      store_->cut = nullptr;
      store_->Restart();
      finished = writes < k;
      if (finished) {
        ASSERT_TRUE(changed.ok()) << changed;
      }
      auto next = Start();
      ExpectSearchShowsTheTree(*next);
      stale_seen += StaleCells(*next);
      // Cells of a change cut short, once older than any change takes, are deleted by the
      // searches that meet them.
      now_ += 2 * 3'600'000;
      ExpectSearchShowsTheTree(*next);
      EXPECT_EQ(StaleCells(*next), 0);
      if (HasFailure()) return;
    }
    EXPECT_TRUE(finished) << "the change never ran to its end";
    EXPECT_GT(stale_seen, 0) << "no crash left a cell behind: the drop went untested";
  }

  std::atomic<int64_t> now_{1'000'000'000'000};
  std::unique_ptr<CuttableStore> store_;
};

TEST_P(SearchCrashTest, Upload) {
  CrashAtEachWrite([](Drive& drive) { return Write(drive, "/docs/report.txt", "report"); });
}

TEST_P(SearchCrashTest, Rename) {
  CrashAtEachWrite(
      [](Drive& drive) { return drive.Move("alice", "/docs/notes.txt", "/docs/report", false); });
}

TEST_P(SearchCrashTest, FolderMove) {
  CrashAtEachWrite([](Drive& drive) { return drive.Move("alice", "/docs", "/archive", false); });
}

TEST_P(SearchCrashTest, Delete) {
  CrashAtEachWrite([](Drive& drive) { return drive.Delete("alice", "/docs"); });
}

TEST_P(SearchCrashTest, Restore) {
  CrashAtEachWrite([](Drive& drive) -> absl::Status {
    auto trash = drive.ListTrash("alice");
    if (!trash.ok()) return trash.status();
    return drive.Restore("alice", trash->front().id).status();
  });
}

INSTANTIATE_TEST_SUITE_P(CrashingWrite, SearchCrashTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Lands" : "IsLost"; });

}  // namespace
}  // namespace penncloud::drive
