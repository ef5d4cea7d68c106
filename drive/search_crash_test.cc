// The name index against a frontend dying at each store write of a change of the tree: an
// upload, a rename, a folder move, a delete, a restore, a move to another account's drive and
// a tus upload. Whatever write the crash cuts off, once the change's own recovery has run (a
// sweep takes the cross-account move to one end; the tus client carries on), a search shows
// exactly the files and folders that exist (a cell of a change cut short is dropped, never
// shown, and no existing name goes missing), and once such cells are old enough the searches
// that met them have deleted them.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "drive/cross_move.h"
#include "drive/cuttable_store_test_support.h"
#include "drive/drive.h"
#include "drive/keys.h"
#include "drive/name_words.h"
#include "drive/share.h"
#include "drive/tus.h"

namespace penncloud::drive {
namespace {

using Paths = std::set<std::string>;

// The words of the names below, each the start of no other but "restored" (a restore beside
// a taken name).
const char* const kWords[] = {"docs",    "inner", "plan", "memo",  "report",
                              "archive", "notes", "txt",  "inbox", "restored"};
const char* const kUsers[] = {"alice", "bobby"};

// One frontend over the test's store, on the test's clock: the drive, its shares, the moves
// between accounts and the tus uploads.
struct Frontend {
  Frontend(kvs::Client* store, const std::function<int64_t()>& clock)
      : drive(store, DriveOptions(clock)),
        shares(store, &drive,
               ShareOptions{.now_ms = clock, .hash_params = accounts::kTestHashParams}),
        moves(store, &drive, &shares, CrossMoveOptions{.now_ms = clock}),
        uploads(store, &drive) {}
  static Options DriveOptions(const std::function<int64_t()>& clock) {
    Options options;
    options.chunk_bytes = 4;
    options.now_ms = clock;
    return options;
  }
  Drive drive;
  Shares shares;
  CrossDriveMoves moves;
  TusStore uploads;
};

// A tus client's request body, handed over in one piece.
TusByteSource Body(const std::string& bytes) {
  return [bytes, sent = false](size_t) mutable -> absl::StatusOr<std::string> {
    if (sent) return std::string();
    sent = true;
    return bytes;
  };
}

class SearchCrashTest : public ::testing::TestWithParam<bool> {
 protected:
  std::unique_ptr<Frontend> Start() {
    return std::make_unique<Frontend>(store_.get(), [this] { return now_.load(); });
  }

  static absl::Status Write(Drive& drive, const std::string& path, const std::string& data) {
    auto upload = drive.BeginUpload("alice", path);
    if (!upload.ok()) return upload.status();
    if (auto s = (*upload)->Append(data); !s.ok()) return s;
    return (*upload)->Commit().status();
  }

  // alice's two folders and three files, /memo.txt in the trash; bobby's /inbox.
  static void Setup(Drive& drive) {
    ASSERT_TRUE(drive.CreateFolder("alice", "/docs").ok());
    ASSERT_TRUE(drive.CreateFolder("alice", "/docs/inner").ok());
    ASSERT_TRUE(Write(drive, "/docs/inner/plan.txt", "plan").ok());
    ASSERT_TRUE(Write(drive, "/docs/notes.txt", "notes").ok());
    ASSERT_TRUE(Write(drive, "/memo.txt", "memo").ok());
    ASSERT_TRUE(drive.Delete("alice", "/memo.txt").ok());
    ASSERT_TRUE(drive.CreateFolder("bobby", "/inbox").ok());
  }

  static void Walk(Drive& drive, const std::string& user, const std::string& folder, Paths& paths) {
    auto list = drive.List(user, folder);
    ASSERT_TRUE(list.ok()) << list.status();
    for (const auto& entry : *list) {
      std::string path = (folder == "/" ? "" : folder) + "/" + entry.name;
      paths.insert(path);
      if (entry.folder) Walk(drive, user, path, paths);
    }
  }

  // Each word's search against each user's tree: the paths whose name holds the word.
  static void ExpectSearchShowsTheTrees(Drive& drive) {
    for (const char* user : kUsers) ExpectSearchShowsTheTree(drive, user);
  }

  static void ExpectSearchShowsTheTree(Drive& drive, const std::string& user) {
    Paths tree;
    Walk(drive, user, "/", tree);
    for (const char* word : kWords) {
      Paths expected, found;
      for (const std::string& path : tree) {
        for (const std::string& w : FoldedWords(path.substr(path.rfind('/') + 1))) {
          if (w == word) expected.insert(path);
        }
      }
      auto matches = drive.Search(user, word, kMaxSearchResults);
      ASSERT_TRUE(matches.ok()) << matches.status();
      for (const NameMatch& m : *matches) found.insert(m.path);
      EXPECT_EQ(found, expected) << user << " " << word;
    }
  }

  // Index cells that name no existing file or folder, of every user.
  int StaleCells(Drive& drive) {
    int stale = 0;
    for (const char* user : kUsers) {
      Paths tree;
      Walk(drive, user, "/", tree);
      auto page = store_->List(keys::NamesRow(user), {.after = "", .limit = 1000});
      EXPECT_TRUE(page.ok()) << page.status();
      for (const kvs::Cell& cell : page->cells) {
        if (!tree.contains(cell.column.substr(cell.column.find('\0') + 1))) ++stale;
      }
    }
    return stale;
  }

  // Runs `change` on a frontend set up afresh, the store cut off at its k-th write (that write
  // landing or not, the test's parameter), for k = 1, 2, ... until a run is not cut off; then
  // `recover` on another frontend, as the change's recovery would run after a crash. Unless
  // the recovery always ends with the name the change was writing (`leaves_cells`), some crash
  // must leave a cell naming nothing, or the drop went untested.
  void CrashAtEachWrite(const std::function<absl::Status(Frontend&)>& change,
                        const std::function<void(Frontend&)>& recover = nullptr,
                        bool leaves_cells = true) {
    const bool crashing_write_lands = GetParam();
    bool finished = false;
    int stale_seen = 0;
    for (int k = 1; k <= 200 && !finished; ++k) {
      SCOPED_TRACE(testing::Message() << "crash at write " << k);
      store_ = std::make_unique<CuttableStore>();
      Setup(Start()->drive);
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
      if (recover) recover(*next);
      if (HasFatalFailure()) return;
      ExpectSearchShowsTheTrees(next->drive);
      stale_seen += StaleCells(next->drive);
      // Cells of a change cut short, once older than any change takes, are deleted by the
      // searches that meet them.
      now_ += 2 * 3'600'000;
      ExpectSearchShowsTheTrees(next->drive);
      EXPECT_EQ(StaleCells(next->drive), 0);
      if (HasFailure()) return;
    }
    EXPECT_TRUE(finished) << "the change never ran to its end";
    if (leaves_cells) {
      EXPECT_GT(stale_seen, 0) << "no crash left a cell behind: the drop went untested";
    }
  }

  std::atomic<int64_t> now_{1'000'000'000'000};
  std::unique_ptr<CuttableStore> store_;
};

TEST_P(SearchCrashTest, Upload) {
  CrashAtEachWrite([](Frontend& f) { return Write(f.drive, "/docs/report.txt", "report"); });
}

TEST_P(SearchCrashTest, Rename) {
  CrashAtEachWrite(
      [](Frontend& f) { return f.drive.Move("alice", "/docs/notes.txt", "/docs/report", false); });
}

TEST_P(SearchCrashTest, FolderMove) {
  CrashAtEachWrite([](Frontend& f) { return f.drive.Move("alice", "/docs", "/archive", false); });
}

TEST_P(SearchCrashTest, Delete) {
  CrashAtEachWrite([](Frontend& f) { return f.drive.Delete("alice", "/docs"); });
}

TEST_P(SearchCrashTest, Restore) {
  CrashAtEachWrite([](Frontend& f) -> absl::Status {
    auto trash = f.drive.ListTrash("alice");
    if (!trash.ok()) return trash.status();
    return f.drive.Restore("alice", trash->front().id).status();
  });
}

// alice's folder into bobby's drive; after the crash, once the dead frontend's lease has run
// out, another frontend's sweep takes the move to one end or the other.
TEST_P(SearchCrashTest, MoveToAnotherAccount) {
  CrashAtEachWrite(
      [](Frontend& f) { return f.moves.Move("alice", "/docs", "bobby", "/inbox/docs", false); },
      [this](Frontend& next) {
        now_ += CrossMoveOptions{}.lease_ms + 1000;
        auto swept = next.moves.ResumeStale();
        ASSERT_TRUE(swept.ok()) << swept.status();
      });
}

// A tus upload in two requests; after the crash the client comes back once a landing may be
// taken over, learns where the upload stands and sends the rest (all of it, if it never
// heard the upload's id). The file then lands where its cells were written: none is left
// naming nothing.
TEST_P(SearchCrashTest, TusUpload) {
  static const std::string kData = "report, in two requests";
  auto id = std::make_shared<std::string>();
  CrashAtEachWrite(
      [id](Frontend& f) -> absl::Status {
        id->clear();
        auto created = f.uploads.Create("alice", kData.size(), {{"path", "/docs/report.txt"}});
        if (!created.ok()) return created.status();
        *id = created->id;
        auto half = f.uploads.Append("alice", *id, 0, Body(kData.substr(0, 9)));
        if (!half.ok()) return half.status();
        return f.uploads.Append("alice", *id, 9, Body(kData.substr(9))).status();
      },
      [this, id](Frontend& next) {
        now_ += TusOptions{}.landing_stale_ms + 1000;
        if (id->empty()) {
          auto created = next.uploads.Create("alice", kData.size(), {{"path", "/docs/report.txt"}});
          ASSERT_TRUE(created.ok()) << created.status();
          *id = created->id;
        }
        auto at = next.uploads.Get("alice", *id);
        ASSERT_TRUE(at.ok()) << at.status();
        if (!at->done) {
          auto rest = next.uploads.Append("alice", *id, at->offset, Body(kData.substr(at->offset)));
          ASSERT_TRUE(rest.ok() && rest->done) << rest.status();
        }
        auto landed = next.drive.Stat("alice", "/docs/report.txt");
        ASSERT_TRUE(landed.ok()) << landed.status();
      },
      /*leaves_cells=*/false);
}

INSTANTIATE_TEST_SUITE_P(CrashingWrite, SearchCrashTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Lands" : "IsLost"; });

}  // namespace
}  // namespace penncloud::drive
