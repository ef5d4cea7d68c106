// Moves between two users' drives (cross_move.h): a crash at any write of the move, whether
// that write took effect or not, leaves either no trace of the move or all of it once a
// sweep has run; a move that cannot finish leaves no trace; the moved items' shares go to
// the new owner.
#include "drive/cross_move.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <string>

#include "drive/cuttable_store_test_support.h"
#include "drive/share.h"

namespace penncloud::drive {
namespace {

constexpr int kMaxWrites = 500;  // more than one move takes
const std::map<std::string, std::string> kFiles = {
    {"/a.txt", "alpha beta gamma"}, {"/sub/b.txt", "delta"}, {"/sub/deeper/c.txt", "epsilon zeta"}};

// One frontend: the drive, its shares and the cross-drive moves over a store, on a clock
// the test moves (leases run out when it says so).
struct Frontend {
  Frontend(kvs::Client* kvs, const std::function<int64_t()>& clock)
      : drive(kvs, DriveOptions()),
        shares(kvs, &drive,
               ShareOptions{.now_ms = clock, .hash_params = accounts::kTestHashParams}),
        moves(kvs, &drive, &shares, CrossMoveOptions{.now_ms = clock}) {}
  static Options DriveOptions() {
    Options options;
    options.chunk_bytes = 4;
    return options;
  }
  Drive drive;
  Shares shares;
  CrossDriveMoves moves;
};

class CrossMoveTest : public ::testing::TestWithParam<bool> {
 protected:
  std::function<int64_t()> Clock() {
    return [this] { return now_.load(); };
  }

  // alice's /Docs with three files, a link to /Docs/sub, /Docs shared with carol; bobby's
  // empty /Inbox.
  void Setup(Frontend& f) {
    ASSERT_TRUE(f.drive.CreateFolder("bobby", "/Inbox").ok());
    ASSERT_TRUE(f.drive.CreateFolder("alice", "/Docs").ok());
    ASSERT_TRUE(f.drive.CreateFolder("alice", "/Docs/sub").ok());
    ASSERT_TRUE(f.drive.CreateFolder("alice", "/Docs/sub/deeper").ok());
    for (const auto& [path, data] : kFiles)
      ASSERT_TRUE(Write(f, "alice", "/Docs" + path, data).ok());
    LinkRequest request;
    request.path = "/Docs/sub";
    auto link = f.shares.CreateLink("alice", request);
    ASSERT_TRUE(link.ok());
    token_ = link->token;
    ASSERT_TRUE(f.shares.ShareWithUser("alice", "/Docs", "carol", SharePermission::kRead).ok());
  }

  static absl::Status Write(Frontend& f, const std::string& user, const std::string& path,
                            const std::string& data) {
    auto upload = f.drive.BeginUpload(user, path);
    if (!upload.ok()) return upload.status();
    if (auto s = (*upload)->Append(data); !s.ok()) return s;
    return (*upload)->Commit().status();
  }

  static std::string Read(Frontend& f, const std::string& user, const std::string& path) {
    auto reader = f.drive.Open(user, path);
    if (!reader.ok()) return "";
    std::string out;
    for (auto piece = (*reader)->Next(); piece.ok() && !piece->empty(); piece = (*reader)->Next()) {
      out += *piece;
    }
    return out;
  }

  // Everything in a drive, as "path=content" (folders as "path/").
  static std::set<std::string> Tree(Frontend& f, const std::string& user,
                                    const std::string& path = "") {
    std::set<std::string> out;
    auto entries = f.drive.List(user, path.empty() ? "/" : path);
    if (!entries.ok()) return out;
    for (const auto& e : *entries) {
      std::string at = path + "/" + e.name;
      if (e.folder) {
        out.insert(at + "/");
        out.merge(Tree(f, user, at));
      } else {
        out.insert(at + "=" + Read(f, user, at));
      }
    }
    return out;
  }

  static std::set<std::string> Whole(const std::string& root) {
    std::set<std::string> out = {root + "/", root + "/sub/", root + "/sub/deeper/"};
    for (const auto& [path, data] : kFiles) out.insert(root + path + "=" + data);
    return out;
  }

  // Where the link and carol's share lead: "<owner>:<path>", or "" if nowhere.
  std::string LinkLeads(Frontend& f) {
    auto link = f.shares.OpenLink(token_);
    return link.ok() ? link->owner + ":" + link->path : "";
  }
  std::string CarolsLeads(Frontend& f) {
    auto incoming = f.shares.ListIncoming("carol");
    if (!incoming.ok() || incoming->size() != 1) return "";
    auto at = f.shares.ResolveIncoming(
        "carol", "/" + incoming->front().owner + "/" + incoming->front().name, false);
    return at.ok() ? at->share.owner + ":" + at->owner_path : "";
  }

  // No trace: alice's drive as before, with its shares; bobby's as before; no move pending.
  // All of it: bobby has the whole folder, the shares serve it, alice's is in her trash.
  void ExpectNoTraceOrAll(Frontend& f, bool moved) {
    auto intents = store_->List("drive-move/intents", {.after = "", .limit = 10});
    ASSERT_TRUE(intents.ok());
    EXPECT_TRUE(intents->cells.empty());
    std::set<std::string> bobs_before = {"/Inbox/"};
    if (!moved) {
      EXPECT_EQ(Tree(f, "alice"), Whole("/Docs"));
      EXPECT_EQ(Tree(f, "bobby"), bobs_before);
      EXPECT_TRUE(f.drive.ListTrash("alice")->empty());
      EXPECT_TRUE(f.drive.ListTrash("bobby")->empty());
      EXPECT_EQ(LinkLeads(f), "alice:/Docs/sub");
      EXPECT_EQ(CarolsLeads(f), "alice:/Docs");
      EXPECT_EQ(f.shares.ListMine("alice")->size(), 2u);
      EXPECT_TRUE(f.shares.ListMine("bobby")->empty());
      return;
    }
    std::set<std::string> bobs = Whole("/Inbox/Docs");
    bobs.insert("/Inbox/");
    EXPECT_EQ(Tree(f, "bobby"), bobs);
    EXPECT_TRUE(Tree(f, "alice").empty());
    auto trash = f.drive.ListTrash("alice");
    ASSERT_EQ(trash->size(), 1u);
    EXPECT_EQ(trash->front().path, "/Docs");
    EXPECT_EQ(LinkLeads(f), "bobby:/Inbox/Docs/sub");
    EXPECT_EQ(CarolsLeads(f), "bobby:/Inbox/Docs");
    EXPECT_TRUE(f.shares.ListMine("alice")->empty());
    EXPECT_EQ(f.shares.ListMine("bobby")->size(), 2u);
  }

  std::atomic<int64_t> now_{1'000'000'000'000};
  std::unique_ptr<CuttableStore> store_;
  std::string token_;
};

TEST_P(CrossMoveTest, ACrashAtAnyWriteLeavesNoTraceOrTheWholeMove) {
  const bool crashing_write_lands = GetParam();
  bool finished = false;
  std::set<std::string> outcomes;
  for (int k = 1; k <= kMaxWrites && !finished; ++k) {
    SCOPED_TRACE(testing::Message() << "crash at write " << k);
    store_ = std::make_unique<CuttableStore>();
    {
      Frontend before(store_.get(), Clock());
      Setup(before);
    }
    int writes = 0;
    store_->cut = [&](CuttableStore::When when, std::string_view, std::string_view) {
      if (when == CuttableStore::When::kBefore) ++writes;
      bool lands = when == CuttableStore::When::kAfter;
      return writes == k && lands == crashing_write_lands;
    };
    absl::Status moved;
    {
      Frontend dying(store_.get(), Clock());
      moved = dying.moves.Move("alice", "/Docs", "bobby", "/Inbox/Docs", false);
    }
    store_->cut = nullptr;
    store_->Restart();
    finished = writes < k;
    if (finished) {
      ASSERT_TRUE(moved.ok()) << moved;
    }

    // Another frontend, once every lease of the dead one has run out, sweeps.
    now_ += 3'600'000;
    Frontend next(store_.get(), Clock());
    ASSERT_TRUE(next.moves.ResumeStale().ok());
    bool whole = !Tree(next, "bobby").empty() && Tree(next, "alice").empty();
    outcomes.insert(whole ? "moved" : "not moved");
    ExpectNoTraceOrAll(next, whole);
    if (HasFailure()) return;
    // Whatever happened, the drives work on: a move back (all of it) and a second sweep
    // (nothing left to do).
    if (whole) {
      ASSERT_TRUE(next.moves.Move("bobby", "/Inbox/Docs", "alice", "/Docs", false).ok());
      EXPECT_EQ(Tree(next, "alice"), Whole("/Docs"));
      EXPECT_EQ(LinkLeads(next), "alice:/Docs/sub");
    }
    EXPECT_EQ(*next.moves.ResumeStale(), 0);
  }
  EXPECT_TRUE(finished) << "still crashing after " << kMaxWrites << " writes";
  // Once the intent is stored the move goes through; only a crash that keeps the intent
  // from landing leaves nothing.
  std::set<std::string> expected = {"moved"};
  if (!crashing_write_lands) expected.insert("not moved");
  EXPECT_EQ(outcomes, expected);
}

INSTANTIATE_TEST_SUITE_P(CrashingWrite, CrossMoveTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Lands" : "IsLost"; });

class CrossMoveApiTest : public CrossMoveTest {
 protected:
  using When = CuttableStore::When;
  using Op = std::string_view;
  using Row = std::string_view;

  void SetUp() override { store_ = std::make_unique<CuttableStore>(); }

  // Moves alice's /Docs to bobby's /Inbox/Docs on `runner`. Before and after each store write
  // of the move, `sweep_here` may move the clock; where it returns true, `sweeper`'s sweep
  // runs (its own writes pass untouched) and adds what it claimed to *claimed.
  absl::Status MoveWithSweeps(Frontend& runner, Frontend& sweeper, int* claimed,
                              const std::function<bool(When, Op, Row)>& sweep_here) {
    bool sweeping = false;
    store_->cut = [&](When when, Op op, Row row) {
      if (sweeping || !sweep_here(when, op, row)) return false;
      sweeping = true;
      *claimed += sweeper.moves.ResumeStale().value_or(0);
      sweeping = false;
      return false;
    };
    absl::Status moved = runner.moves.Move("alice", "/Docs", "bobby", "/Inbox/Docs", false);
    store_->cut = nullptr;
    return moved;
  }
};

TEST_F(CrossMoveApiTest, AMoveThatCannotFinishLeavesNoTrace) {
  Frontend f(store_.get(), Clock());
  Setup(f);
  // Over bobby's quota part way through the copy.
  ASSERT_TRUE(f.drive.SetQuota("bobby", 20).ok());
  EXPECT_TRUE(
      absl::IsResourceExhausted(f.moves.Move("alice", "/Docs", "bobby", "/Inbox/Docs", false)));
  ExpectNoTraceOrAll(f, false);
  EXPECT_EQ(f.drive.GetUsage("bobby")->used_bytes, 0u);
  // Taken, or missing: refused before anything is written.
  ASSERT_TRUE(f.drive.CreateFolder("bobby", "/Inbox/Docs").ok());
  EXPECT_TRUE(absl::IsAlreadyExists(f.moves.Move("alice", "/Docs", "bobby", "/Inbox/Docs", false)));
  EXPECT_TRUE(absl::IsNotFound(f.moves.Move("alice", "/Nope", "bobby", "/Inbox/x", false)));
  EXPECT_TRUE(absl::IsNotFound(f.moves.Move("alice", "/Docs", "bobby", "/Nope/Docs", false)));
  EXPECT_TRUE(f.drive.Delete("bobby", "/Inbox/Docs").ok());
  ASSERT_TRUE(f.drive.EmptyTrash("bobby").ok());
  ExpectNoTraceOrAll(f, false);
}

TEST_F(CrossMoveApiTest, SharesGoToTheNewOwner) {
  Frontend f(store_.get(), Clock());
  Setup(f);
  // alice also shared the folder with bobby himself; bobby already shares a "Docs" with carol.
  ASSERT_TRUE(f.shares.ShareWithUser("alice", "/Docs/sub", "bobby", SharePermission::kRead).ok());
  ASSERT_TRUE(f.drive.CreateFolder("bobby", "/Docs").ok());
  ASSERT_TRUE(f.shares.ShareWithUser("bobby", "/Docs", "carol", SharePermission::kRead).ok());
  f.shares.CountDownload(*f.shares.OpenLink(token_));

  ASSERT_TRUE(f.moves.Move("alice", "/Docs", "bobby", "/Inbox/Docs", false).ok());
  // The link keeps its token and its download count, now bobby's; his own share is gone.
  EXPECT_EQ(LinkLeads(f), "bobby:/Inbox/Docs/sub");
  EXPECT_TRUE(f.shares.ListIncoming("bobby")->empty());
  EXPECT_TRUE(f.shares.ListMine("alice")->empty());
  auto bobs = f.shares.ListMine("bobby");
  ASSERT_TRUE(bobs.ok());
  ASSERT_EQ(bobs->size(), 3u);
  uint64_t link_downloads = 0;
  for (const Share& s : *bobs) {
    if (s.kind == ShareKind::kLink) link_downloads = s.downloads;
  }
  EXPECT_EQ(link_downloads, 1u);
  // carol knows the moved one by a name of its own beside bobby's earlier "Docs".
  std::set<std::string> carols;
  auto incoming = f.shares.ListIncoming("carol");
  ASSERT_TRUE(incoming.ok());
  for (const Share& s : *incoming) carols.insert(s.owner + "/" + s.name);
  EXPECT_EQ(carols, (std::set<std::string>{"bobby/Docs", "bobby/Docs (2)"}));
  auto moved = f.shares.ResolveIncoming("carol", "/bobby/Docs (2)/a.txt", false);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->owner_path, "/Inbox/Docs/a.txt");
  // What takes the old place in alice's drive is not shared.
  ASSERT_TRUE(f.drive.CreateFolder("alice", "/Docs").ok());
  ASSERT_TRUE(f.drive.CreateFolder("alice", "/Docs/sub").ok());
  EXPECT_EQ(LinkLeads(f), "bobby:/Inbox/Docs/sub");
}

// A copy that takes longer than its lease (a large folder, a loaded store) keeps it: another
// frontend's sweep, run after every write of the copy, never takes the move over, and the
// runner finishes it (a loaded CI once saw such a move answered 503).
TEST_F(CrossMoveApiTest, ACopyThatOutlastsItsLeaseKeepsIt) {
  Frontend runner(store_.get(), Clock());
  Frontend other(store_.get(), Clock());
  Setup(runner);
  const int64_t lease = CrossMoveOptions().lease_ms, start = now_.load();
  int claimed = 0;
  absl::Status moved = MoveWithSweeps(runner, other, &claimed, [&](When when, Op, Row row) {
    // Each of the copy's writes (bobby's folders, files and their chunks) takes an eighth of
    // the lease.
    if (when != When::kAfter ||
        !(row.starts_with("drive/bobby/tree/") || row.starts_with("drive/bobby/chunk/"))) {
      return false;
    }
    now_ += lease / 8;
    return true;
  });
  EXPECT_TRUE(moved.ok()) << moved;
  EXPECT_EQ(claimed, 0);
  EXPECT_GT(now_.load() - start, lease) << "the copy did not outlast its lease: nothing tested";
  ExpectNoTraceOrAll(runner, true);
}

// A store write that stalls past the lease does not make the move's runner dead to its own
// process: that process's sweep passes over the move, which its runner then finishes.
TEST_F(CrossMoveApiTest, ASweepPassesOverTheMovesItsProcessIsRunning) {
  Frontend f(store_.get(), Clock());
  Setup(f);
  int chunk_writes = 0, claimed = 0;
  absl::Status moved = MoveWithSweeps(f, f, &claimed, [&](When when, Op, Row row) {
    // The copy's third chunk write stalls for two leases.
    if (when != When::kAfter || !row.starts_with("drive/bobby/chunk/") || ++chunk_writes != 3) {
      return false;
    }
    now_ += 2 * CrossMoveOptions().lease_ms;
    return true;
  });
  EXPECT_TRUE(moved.ok()) << moved;
  EXPECT_GE(chunk_writes, 3);
  EXPECT_EQ(claimed, 0);
  ExpectNoTraceOrAll(f, true);
}

// Two runs of one move, the runner's and a sweep's that took it over (the runner stalled past
// its lease), copy the same file: the sweep's commit comes first. The runner takes the file
// as copied and, no longer holding the move, leaves it to the sweep (503), which made it
// whole; it neither fails the move nor takes it back.
TEST_F(CrossMoveApiTest, TwoRunsOfOneMoveMeetAtAFileAndTheMoveStaysWhole) {
  Frontend runner(store_.get(), Clock());
  Frontend other(store_.get(), Clock());
  Setup(runner);
  int tree_cputs = 0, claimed = 0;
  absl::Status moved = MoveWithSweeps(runner, other, &claimed, [&](When when, Op op, Row row) {
    // The runner's second compare-and-put in bobby's tree commits its copy of /a.txt (the
    // first made the folder): it stalls for two leases just before.
    if (when != When::kBefore || op != "cput" || !row.starts_with("drive/bobby/tree/") ||
        ++tree_cputs != 2) {
      return false;
    }
    now_ += 2 * CrossMoveOptions().lease_ms;
    return true;
  });
  EXPECT_TRUE(absl::IsUnavailable(moved)) << moved;
  EXPECT_EQ(claimed, 1);
  ExpectNoTraceOrAll(runner, true);
}

}  // namespace
}  // namespace penncloud::drive
