// Shares follow their item through the owner's moves and renames (of the item or of a folder
// above it), survive a crash at any step of a move, never serve something else put at the
// old path, and stay unusable while their item is in the trash.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "drive/cuttable_store_test_support.h"
#include "drive/share.h"

namespace penncloud::drive {
namespace {

bool IsTreeRow(std::string_view row) { return row.starts_with("drive/alice/tree/"); }

// Tiny chunks; the trash on (its default), as on a frontend.
Options DriveOptions() {
  Options options;
  options.chunk_bytes = 4;
  return options;
}

LinkRequest ReadLink(std::string path) {
  LinkRequest request;
  request.path = std::move(path);
  return request;
}

class ShareMoveTest : public ::testing::Test {
 protected:
  ShareMoveTest()
      : drive_(&store_, DriveOptions()),
        shares_(&store_, &drive_,
                ShareOptions{.now_ms = [this] { return now_.load(); },
                             .hash_params = accounts::kTestHashParams}) {
    EXPECT_TRUE(drive_.CreateFolder("alice", "/Work").ok());
    EXPECT_TRUE(drive_.CreateFolder("alice", "/Work/Photos").ok());
    EXPECT_TRUE(Write("/Work/Photos/cat.jpg", "meow").ok());
    EXPECT_TRUE(Write("/Work/plan.txt", "the plan").ok());
    auto link = shares_.CreateLink("alice", ReadLink("/Work/Photos"));
    auto user = shares_.ShareWithUser("alice", "/Work/Photos", "bob", SharePermission::kWrite);
    EXPECT_TRUE(link.ok() && user.ok());
    if (link.ok()) token_ = link->token;
  }

  absl::Status Write(const std::string& path, const std::string& data) {
    auto upload = drive_.BeginUpload("alice", path);
    if (!upload.ok()) return upload.status();
    if (auto s = (*upload)->Append(data); !s.ok()) return s;
    return (*upload)->Commit().status();
  }

  // Where the link and bob's share lead now ("" if nowhere).
  std::string LinkPath() {
    auto link = shares_.OpenLink(token_);
    return link.ok() ? link->path : "";
  }
  std::string BobsPath(const std::string& inside = "") {
    auto at = shares_.ResolveIncoming("bob", "/alice/Photos" + inside, false);
    return at.ok() ? at->owner_path : "";
  }
  std::vector<std::string> MyPaths() {
    std::vector<std::string> paths;
    auto mine = shares_.ListMine("alice");
    EXPECT_TRUE(mine.ok()) << mine.status();
    for (const Share& s : *mine) paths.push_back(s.path);
    return paths;
  }

  // The shares' clock: a crash leaves the owner's lock held until its lease runs out.
  std::atomic<int64_t> now_{1'000'000'000'000};
  CuttableStore store_;
  Drive drive_;
  Shares shares_;
  std::string token_;
};

TEST_F(ShareMoveTest, SharesFollowARenameOfTheItem) {
  ASSERT_TRUE(drive_.Move("alice", "/Work/Photos", "/Work/Pictures", false).ok());
  EXPECT_EQ(LinkPath(), "/Work/Pictures");
  // Bob keeps the name it was shared under, so his open folder keeps working.
  EXPECT_EQ(BobsPath("/cat.jpg"), "/Work/Pictures/cat.jpg");
  EXPECT_EQ(MyPaths(), (std::vector<std::string>{"/Work/Pictures", "/Work/Pictures"}));
  auto incoming = shares_.ListIncoming("bob");
  ASSERT_EQ(incoming->size(), 1u);
  EXPECT_EQ(incoming->front().name, "Photos");
  EXPECT_EQ(incoming->front().path, "/Work/Pictures");
  EXPECT_TRUE(incoming->front().moving_to.empty());
}

TEST_F(ShareMoveTest, SharesFollowMovesOfFoldersAbove) {
  ASSERT_TRUE(drive_.CreateFolder("alice", "/Archive").ok());
  ASSERT_TRUE(drive_.Move("alice", "/Work", "/Archive/2024", false).ok());
  EXPECT_EQ(LinkPath(), "/Archive/2024/Photos");
  ASSERT_TRUE(drive_.Move("alice", "/Archive", "/Old", false).ok());
  EXPECT_EQ(LinkPath(), "/Old/2024/Photos");
  EXPECT_EQ(BobsPath("/cat.jpg"), "/Old/2024/Photos/cat.jpg");
  // A share of a file follows too; one beside the moved folder stays where it is.
  auto file = shares_.CreateLink("alice", ReadLink("/Old/2024/plan.txt"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(drive_.Move("alice", "/Old/2024/plan.txt", "/plan v2.txt", false).ok());
  EXPECT_EQ(shares_.OpenLink(file->token)->path, "/plan v2.txt");
  ASSERT_TRUE(drive_.Move("alice", "/Old/2024/Photos", "/Photos", false).ok());
  EXPECT_EQ(LinkPath(), "/Photos");
  EXPECT_EQ(shares_.OpenLink(file->token)->path, "/plan v2.txt");
}

TEST_F(ShareMoveTest, AMoveThatFailsLeavesSharesAsTheyWere) {
  ASSERT_TRUE(drive_.CreateFolder("alice", "/Taken").ok());
  EXPECT_TRUE(absl::IsAlreadyExists(drive_.Move("alice", "/Work/Photos", "/Taken", false)));
  EXPECT_EQ(LinkPath(), "/Work/Photos");
  auto mine = shares_.ListMine("alice");
  ASSERT_TRUE(mine.ok());
  for (const Share& s : *mine) EXPECT_TRUE(s.moving_to.empty());
  EXPECT_TRUE(shares_.ListIncoming("bob")->front().moving_to.empty());
}

TEST_F(ShareMoveTest, SomethingNewAtTheOldPathIsNotServed) {
  ASSERT_TRUE(drive_.Move("alice", "/Work", "/Done", false).ok());
  ASSERT_TRUE(drive_.CreateFolder("alice", "/Work").ok());
  ASSERT_TRUE(drive_.CreateFolder("alice", "/Work/Photos").ok());
  ASSERT_TRUE(Write("/Work/Photos/private.txt", "not for bob").ok());
  EXPECT_EQ(LinkPath(), "/Done/Photos");
  EXPECT_EQ(BobsPath(), "/Done/Photos");
  // Even with the shares' paths left behind, the item's id keeps the new folder out.
  drive_.SetMoveHook(nullptr);
  ASSERT_TRUE(drive_.Move("alice", "/Done/Photos", "/Elsewhere", false).ok());
  ASSERT_TRUE(drive_.CreateFolder("alice", "/Done/Photos").ok());
  EXPECT_TRUE(absl::IsNotFound(shares_.OpenLink(token_).status()));
  EXPECT_TRUE(absl::IsNotFound(shares_.ResolveIncoming("bob", "/alice/Photos", false).status()));
}

TEST_F(ShareMoveTest, ACrashAfterTheTreeChangedKeepsSharesWorking) {
  // The store goes away right after the item left its old folder: the shares' last step
  // (naming the new path) never happens.
  store_.cut = [](CuttableStore::When when, std::string_view op, std::string_view row) {
    return when == CuttableStore::When::kAfter && op == "cdelete" && IsTreeRow(row);
  };
  ASSERT_TRUE(drive_.Move("alice", "/Work", "/Moved", false).ok());
  store_.cut = nullptr;
  store_.Restart();
  EXPECT_EQ(LinkPath(), "/Moved/Photos");
  EXPECT_EQ(BobsPath("/cat.jpg"), "/Moved/Photos/cat.jpg");
  EXPECT_EQ(MyPaths(), (std::vector<std::string>{"/Moved/Photos", "/Moved/Photos"}));
  // The next move, once the dead mover's lock has run out, settles the records and moves
  // them on.
  now_ += ShareLock::kLeaseMs;
  ASSERT_TRUE(drive_.Move("alice", "/Moved", "/Again", false).ok());
  EXPECT_EQ(LinkPath(), "/Again/Photos");
  auto incoming = shares_.ListIncoming("bob");
  EXPECT_EQ(incoming->front().path, "/Again/Photos");
  EXPECT_TRUE(incoming->front().moving_to.empty());
}

TEST_F(ShareMoveTest, ACrashBeforeTheTreeChangedKeepsSharesWorking) {
  store_.cut = [](CuttableStore::When when, std::string_view op, std::string_view row) {
    return when == CuttableStore::When::kBefore && op == "cput" && IsTreeRow(row);
  };
  EXPECT_FALSE(drive_.Move("alice", "/Work", "/Moved", false).ok());
  store_.cut = nullptr;
  store_.Restart();
  EXPECT_EQ(LinkPath(), "/Work/Photos");
  EXPECT_EQ(BobsPath("/cat.jpg"), "/Work/Photos/cat.jpg");
  // A folder made at the path the move named is not the shared one.
  ASSERT_TRUE(drive_.CreateFolder("alice", "/Moved").ok());
  ASSERT_TRUE(drive_.CreateFolder("alice", "/Moved/Photos").ok());
  ASSERT_TRUE(drive_.Delete("alice", "/Work/Photos").ok());
  EXPECT_TRUE(absl::IsNotFound(shares_.OpenLink(token_).status()));
}

TEST_F(ShareMoveTest, TrashedItemsAreNotServedUntilRestored) {
  ASSERT_TRUE(drive_.Delete("alice", "/Work").ok());
  EXPECT_TRUE(absl::IsNotFound(shares_.OpenLink(token_).status()));
  EXPECT_TRUE(absl::IsNotFound(shares_.ResolveIncoming("bob", "/alice/Photos", false).status()));
  // The owner still sees the share and may revoke it.
  EXPECT_EQ(shares_.ListMine("alice")->size(), 2u);
  auto trash = drive_.ListTrash("alice");
  ASSERT_EQ(trash->size(), 1u);
  ASSERT_EQ(*drive_.Restore("alice", trash->front().id), "/Work");
  EXPECT_EQ(LinkPath(), "/Work/Photos");
  EXPECT_EQ(BobsPath("/cat.jpg"), "/Work/Photos/cat.jpg");
}

TEST_F(ShareMoveTest, ARestoreUnderAnotherNameKeepsItsShares) {
  ASSERT_TRUE(drive_.Delete("alice", "/Work/Photos").ok());
  // Something new takes the name, and is shared too, before the old one comes back.
  ASSERT_TRUE(drive_.CreateFolder("alice", "/Work/Photos").ok());
  ASSERT_TRUE(Write("/Work/Photos/dog.jpg", "woof").ok());
  auto newer = shares_.CreateLink("alice", ReadLink("/Work/Photos"));
  ASSERT_TRUE(newer.ok());
  auto trash = drive_.ListTrash("alice");
  ASSERT_EQ(trash->size(), 1u);
  ASSERT_EQ(*drive_.Restore("alice", trash->front().id), "/Work/Photos (restored)");
  EXPECT_EQ(LinkPath(), "/Work/Photos (restored)");
  EXPECT_EQ(BobsPath("/cat.jpg"), "/Work/Photos (restored)/cat.jpg");
  EXPECT_EQ(shares_.OpenLink(newer->token)->path, "/Work/Photos");
  // Under a folder restored beside a newer one, shares inside follow as well.
  ASSERT_TRUE(drive_.Delete("alice", "/Work").ok());
  ASSERT_TRUE(drive_.CreateFolder("alice", "/Work").ok());
  trash = drive_.ListTrash("alice");
  ASSERT_EQ(trash->size(), 1u);
  ASSERT_EQ(*drive_.Restore("alice", trash->front().id), "/Work (restored)");
  EXPECT_EQ(LinkPath(), "/Work (restored)/Photos (restored)");
  EXPECT_EQ(shares_.OpenLink(newer->token)->path, "/Work (restored)/Photos");
  auto mine = shares_.ListMine("alice");
  ASSERT_TRUE(mine.ok());
  for (const Share& s : *mine) EXPECT_TRUE(s.moving_to.empty()) << s.path;
}

// Two moves at once: the shared item renamed while the folder above it moves. Without the
// owner's lock the folder's move read the share's record before the rename changed the
// tree and named a place the item never reached (the share then served nothing).
TEST_F(ShareMoveTest, TwoMovesAtOnceKeepTheShare) {
  ASSERT_TRUE(drive_.CreateFolder("alice", "/Archive").ok());
  std::atomic<bool> started{false};
  std::thread folder_move;
  absl::Status folder_moved;
  // The rename is about to change the tree: the folder's move starts now, and has time to
  // run to its end before the rename goes on, unless it has to wait for it.
  store_.cut = [&](CuttableStore::When when, std::string_view op, std::string_view row) {
    if (when == CuttableStore::When::kBefore && op == "cput" && IsTreeRow(row) &&
        !started.exchange(true)) {
      folder_move = std::thread(
          [&] { folder_moved = drive_.Move("alice", "/Work", "/Archive/Work", false); });
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    return false;
  };
  ASSERT_TRUE(drive_.Move("alice", "/Work/Photos", "/Work/Pictures", false).ok());
  folder_move.join();
  store_.cut = nullptr;
  ASSERT_TRUE(folder_moved.ok()) << folder_moved;
  EXPECT_EQ(LinkPath(), "/Archive/Work/Pictures");
  EXPECT_EQ(BobsPath("/cat.jpg"), "/Archive/Work/Pictures/cat.jpg");
  EXPECT_EQ(MyPaths(),
            (std::vector<std::string>{"/Archive/Work/Pictures", "/Archive/Work/Pictures"}));
}

TEST_F(ShareMoveTest, TheRecipientsNameStaysTakenAfterARename) {
  ASSERT_TRUE(drive_.Move("alice", "/Work/Photos", "/Work/Pictures", false).ok());
  ASSERT_TRUE(drive_.CreateFolder("alice", "/Photos").ok());
  EXPECT_TRUE(absl::IsAlreadyExists(
      shares_.ShareWithUser("alice", "/Photos", "bob", SharePermission::kRead).status()));
}

TEST(AsSeenThroughShareTest, NamesPathsAsTheViewerSeesThem) {
  Share share;
  share.path = "/Private/Clients/Acme";
  auto seen = [&](absl::Status s, std::string_view root) {
    return std::string(AsSeenThroughShare(s, {{&share, std::string(root)}}).message());
  };
  absl::Status missing = absl::NotFoundError("no such file or folder: /Private/Clients/Acme/x/y");
  EXPECT_EQ(seen(missing, "/Shared with me/alice/Acme"),
            "no such file or folder: /Shared with me/alice/Acme/x/y");
  EXPECT_EQ(seen(missing, "/"), "no such file or folder: /x/y");
  EXPECT_EQ(seen(absl::NotFoundError("no such folder: /Private/Clients/Acme"), "/"),
            "no such folder: /");
  // Outside the share (its parent vanished, say): the path is dropped.
  EXPECT_EQ(seen(absl::NotFoundError("no such folder: /Private/Clients"), "/"), "no such folder");
  EXPECT_EQ(seen(absl::NotFoundError("no such folder: /Private/Clients/Acme2"), "/"),
            "no such folder");
  EXPECT_EQ(seen(absl::AbortedError("try again"), "/"), "try again");
  EXPECT_TRUE(absl::IsNotFound(AsSeenThroughShare(missing, {{&share, "/"}})));
  // Of two shares, the one the path is in names it.
  Share other;
  other.path = "/Private/Clients/Globex";
  EXPECT_EQ(AsSeenThroughShare(
                absl::AlreadyExistsError("already exists: /Private/Clients/Globex/a"),
                {{&share, "/Shared with me/alice/Acme"}, {&other, "/Shared with me/alice/Globex"}})
                .message(),
            "already exists: /Shared with me/alice/Globex/a");
}

}  // namespace
}  // namespace penncloud::drive
