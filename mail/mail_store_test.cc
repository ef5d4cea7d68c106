#include "mail/mail_store.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <latch>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "kvs/client/dying_client.h"
#include "kvs/client/forwarding_client.h"
#include "kvs/client/memory_client.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

std::string Message(std::string_view subject, std::string_view body = "hello") {
  return Cat("From: Bob <bob@example.com>\r\nTo: alice@penncloud.local\r\n", "Subject: ", subject,
             "\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\n", body, "\r\n");
}

class MailStoreTest : public ::testing::Test {
 protected:
  int64_t Tick() { return now_ += 1000; }
  // Adds `source` to alice's Inbox and leaves it listed in Work too, as a move that crashed
  // between its two writes does; returns its id ("" after a failed step).
  std::string CrashedMoveToWork(const std::string& source);
  kvs::MemoryClient kvs_;
  int64_t now_ = 1'700'000'000'000'000;
  MailStore store_{kvs_, [this] { return Tick(); }};
};

TEST_F(MailStoreTest, AddThenListNewestFirstWithParsedFields) {
  ASSERT_TRUE(store_.Add("alice", kInbox, Message("first"), false).ok());
  auto second = store_.Add("alice", kInbox, Message("second"), false);
  ASSERT_TRUE(second.ok());
  auto all = store_.ListAll("alice", kInbox);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].subject(), "second");
  EXPECT_EQ((*all)[1].subject(), "first");
  EXPECT_EQ((*all)[0].from(), "Bob <bob@example.com>");
  EXPECT_EQ((*all)[0].preview(), "hello");
  EXPECT_FALSE((*all)[0].seen());
  EXPECT_TRUE(store_.ListAll("alice", kSent)->empty());
  EXPECT_TRUE(store_.ListAll("bob", kInbox)->empty());
}

TEST_F(MailStoreTest, SourceRoundTripsExactly) {
  std::string source = Message("exact", "line one\r\n..dotted\r\n\xc3\xa9");
  auto meta = store_.Add("alice", kInbox, source, false);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->size(), static_cast<int64_t>(source.size()));
  auto back = store_.Source("alice", *meta);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, source);
}

TEST_F(MailStoreTest, LargeMessageIsChunked) {
  std::string big = Message("big", std::string(3 * (1 << 20) + 17, 'x'));
  auto meta = store_.Add("alice", kInbox, big, false);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->chunks(), 4);
  EXPECT_EQ(*store_.Source("alice", *meta), big);
  ASSERT_TRUE(store_.Remove("alice", meta->id()).ok());
  EXPECT_EQ(kvs_.CellCount(), 1u);  // index cell and every chunk are gone; the counters stay
}

TEST_F(MailStoreTest, PagingVisitsEveryMessageOnce) {
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(store_.Add("alice", kInbox, Message(Cat("m", i)), false).ok());
  }
  ASSERT_TRUE(store_.Add("alice", kSent, Message("sent"), true).ok());
  std::vector<std::string> seen;
  std::string cursor;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = store_.List("alice", kInbox, cursor, 10);
    ASSERT_TRUE(page.ok());
    for (const auto& m : page->messages) seen.push_back(m.subject());
    cursor = page->next_cursor;
    if (cursor.empty()) break;
  }
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_EQ(seen.front(), "m24");
  EXPECT_EQ(seen.back(), "m0");
}

TEST_F(MailStoreTest, SeenFlagsAndUnreadCount) {
  auto a = store_.Add("alice", kInbox, Message("a"), false);
  auto b = store_.Add("alice", kInbox, Message("b"), false);
  EXPECT_EQ(*store_.CountUnread("alice", kInbox), 2);
  ASSERT_TRUE(store_.SetSeen("alice", a->id(), true).ok());
  EXPECT_EQ(*store_.CountUnread("alice", kInbox), 1);
  EXPECT_TRUE(store_.Find("alice", a->id())->seen());
  EXPECT_FALSE(store_.Find("alice", b->id())->seen());
}

TEST_F(MailStoreTest, MoveToTrashKeepsIdAndSource) {
  auto a = store_.Add("alice", kInbox, Message("a"), false);
  ASSERT_TRUE(store_.Move("alice", a->id(), kTrash).ok());
  EXPECT_TRUE(store_.ListAll("alice", kInbox)->empty());
  auto trash = store_.ListAll("alice", kTrash);
  ASSERT_EQ(trash->size(), 1u);
  EXPECT_EQ((*trash)[0].id(), a->id());
  EXPECT_EQ(store_.Find("alice", a->id())->folder(), "trash");
  EXPECT_EQ(*store_.Source("alice", (*trash)[0]), Message("a"));
  EXPECT_TRUE(absl::IsNotFound(store_.Find("alice", "nope").status()));
  EXPECT_TRUE(absl::IsNotFound(store_.Find("bob", a->id()).status()));
}

TEST_F(MailStoreTest, DraftsAndJunkAreFoldersLikeTheOthers) {
  auto draft = store_.Add("alice", kDrafts, Message("draft"), true);
  ASSERT_TRUE(draft.ok());
  auto spam = store_.Add("alice", kJunk, Message("spam"), false);
  ASSERT_TRUE(spam.ok());
  EXPECT_EQ(store_.ListAll("alice", kDrafts)->size(), 1u);
  EXPECT_EQ(store_.Find("alice", spam->id())->folder(), "junk");
  ASSERT_TRUE(store_.Move("alice", spam->id(), kInbox).ok());
  EXPECT_TRUE(store_.ListAll("alice", kJunk)->empty());
  EXPECT_EQ(store_.ListAll("alice", kInbox)->size(), 1u);
  EXPECT_FALSE(IsFolder("spam"));
  EXPECT_TRUE(absl::IsNotFound(store_.Add("alice", "spam", Message("x"), false).status()));
}

TEST_F(MailStoreTest, UidsAscendAndAreNeverReused) {
  auto a = store_.Add("alice", kInbox, Message("a"), false);
  auto b = store_.Add("alice", kInbox, Message("b"), false);
  EXPECT_EQ(a->uid(), 1u);
  EXPECT_EQ(b->uid(), 2u);
  EXPECT_GT(b->modseq(), a->modseq());
  ASSERT_TRUE(store_.Remove("alice", b->id()).ok());
  auto c = store_.Add("alice", kInbox, Message("c"), false);
  EXPECT_EQ(c->uid(), 3u);
  auto state = store_.State("alice", kInbox);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->uid_next(), 4u);
  EXPECT_GE(state->highest_modseq(), c->modseq());
  EXPECT_GT(state->uid_validity(), 0u);
  // Each folder counts on its own; a move takes the new folder's next UID.
  auto moved = store_.Move("alice", a->id(), kTrash);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->uid(), 1u);
  EXPECT_EQ(moved->id(), a->id());
  auto inbox = store_.Mailbox("alice", kInbox);
  ASSERT_EQ(inbox->size(), 1u);
  EXPECT_EQ((*inbox)[0].uid(), 3u);
}

TEST_F(MailStoreTest, FlagChangesTakeANewModseq) {
  auto a = store_.Add("alice", kInbox, Message("a"), false);
  uint64_t before = store_.State("alice", kInbox)->highest_modseq();
  auto flagged = store_.UpdateFlags("alice", kInbox, a->id(), [](MessageFlags& f) {
    f.flagged = true;
    f.keywords = {"$Label1", "$Label1", "Work"};
  });
  ASSERT_TRUE(flagged.ok());
  EXPECT_TRUE(flagged->flagged());
  EXPECT_EQ(flagged->keywords_size(), 2);  // duplicates dropped
  EXPECT_GT(flagged->modseq(), before);
  EXPECT_EQ(store_.State("alice", kInbox)->highest_modseq(), flagged->modseq());
  // No change, no new number.
  auto same =
      store_.UpdateFlags("alice", kInbox, a->id(), [](MessageFlags& f) { f.flagged = true; });
  EXPECT_EQ(same->modseq(), flagged->modseq());
  EXPECT_TRUE(
      absl::IsNotFound(store_.UpdateFlags("alice", kSent, a->id(), [](MessageFlags&) {}).status()));
}

// A caller that just read the entry hands it over (webmail's read marks the message
// seen that way); a change made since is neither lost nor taken for "nothing to do".
TEST_F(MailStoreTest, FlagChangesFromAnEntryReadEarlierKeepTheChangesMadeSince) {
  auto a = store_.Add("alice", kInbox, Message("a"), false);
  ASSERT_TRUE(a.ok());
  const pb::MessageMeta read = *a;  // unseen, unflagged
  ASSERT_TRUE(
      store_.UpdateFlags("alice", kInbox, a->id(), [](MessageFlags& f) { f.flagged = true; }).ok());
  auto seen = store_.UpdateFlags(
      "alice", kInbox, a->id(), [](MessageFlags& f) { f.seen = true; }, &read);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_TRUE(seen->seen());
  EXPECT_TRUE(seen->flagged());
  auto now = store_.Entry("alice", kInbox, a->id());
  EXPECT_TRUE(now->seen() && now->flagged());

  // The entry read says "seen" but the cell was made unseen since: marking it seen writes.
  const pb::MessageMeta stale_seen = *now;
  ASSERT_TRUE(store_.SetSeen("alice", a->id(), false).ok());
  auto again = store_.UpdateFlags(
      "alice", kInbox, a->id(), [](MessageFlags& f) { f.seen = true; }, &stale_seen);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(store_.Entry("alice", kInbox, a->id())->seen());
}

// Messages are found in system folders without listing the user's folders, and in a user
// folder after that.
TEST_F(MailStoreTest, FindLooksInEveryFolder) {
  auto in_inbox = store_.Add("alice", kInbox, Message("a"), false);
  ASSERT_TRUE(store_.CreateFolder("alice", "Work").ok());
  auto in_work = store_.Add("alice", "Work", Message("b"), false);
  auto in_trash = store_.Add("alice", kTrash, Message("c"), false);
  EXPECT_EQ(store_.Find("alice", in_inbox->id())->folder(), kInbox);
  EXPECT_EQ(store_.Find("alice", in_work->id())->folder(), "Work");
  EXPECT_EQ(store_.Find("alice", in_trash->id())->folder(), kTrash);
  EXPECT_TRUE(absl::IsNotFound(store_.Find("alice", "0123").status()));
}

TEST_F(MailStoreTest, RowsFromBeforeUidsGetThemOldestFirst) {
  // Two entries as the store wrote them before UIDs: no uid, no folder counters.
  for (const char* subject : {"old", "older"}) {
    auto meta = store_.Add("alice", kInbox, Message(subject), false);
    pb::MessageMeta legacy = *meta;
    legacy.clear_uid();
    legacy.clear_modseq();
    ASSERT_TRUE(
        kvs_.Put(MailboxRow("alice"), MessageColumn(kInbox, meta->id()), legacy.SerializeAsString())
            .ok());
  }
  auto box = store_.Mailbox("alice", kInbox);
  ASSERT_TRUE(box.ok());
  ASSERT_EQ(box->size(), 2u);
  EXPECT_EQ((*box)[0].subject(), "old");  // arrived first
  EXPECT_EQ((*box)[0].uid(), 3u);         // 1 and 2 were taken before: never reused
  EXPECT_EQ((*box)[1].uid(), 4u);
  EXPECT_EQ(store_.Mailbox("alice", kInbox)->at(1).uid(), 4u);  // stable once given
}

// A fresh store for one run of a crash test, and its clock.
struct CrashRun {
  kvs::MemoryClient disk;
  int64_t now = 1'700'000'000'000'000;
  std::function<int64_t()> clock = [this] { return now += 1000; };
};

// Runs `run` on a fresh store once per write of the operation it crashes: the n-th time
// with writes = n, the n-th write being the crash (applied or not, both are tried). `run`
// sets `*done` once its operation made all its writes without dying.
void AtEveryWrite(const std::function<void(CrashRun& store, int writes, bool last_takes_effect,
                                           bool* done)>& run) {
  for (bool last_takes_effect : {false, true}) {
    for (int writes = 1;; ++writes) {
      SCOPED_TRACE(Cat("crash at write ", writes, last_takes_effect ? ", applied" : ""));
      CrashRun store;
      bool done = false;
      run(store, writes, last_takes_effect, &done);
      if (done || ::testing::Test::HasFatalFailure()) break;
    }
  }
}

// A RENAME stopped at each of its writes (applied or not) leaves every message findable, and
// the same RENAME sent again finishes it: the whole tree under the new name, nothing twice,
// nothing left under the old one. Another target is refused until then.
TEST(MailStoreRenameCrashTest, TheSameRenameAgainFinishesOneCutShortAtAnyWrite) {
  AtEveryWrite([](CrashRun& store, int writes, bool last_takes_effect, bool* done) {
    kvs::MemoryClient& disk = store.disk;
    const std::function<int64_t()>& clock = store.clock;
    std::map<std::string, std::string> subject_of;  // id -> subject
    {
      MailStore before(disk, clock);
      ASSERT_TRUE(before.CreateFolder("alice", "Work/2026").ok());
      for (const char* folder : {"Work", "Work", "Work", "Work/2026", "Work/2026"}) {
        auto added = before.Add("alice", folder, Message(Cat(folder, subject_of.size())), false);
        ASSERT_TRUE(added.ok());
        subject_of[added->id()] = added->subject();
      }
    }
    kvs::DyingClient dying(disk, writes, last_takes_effect);
    const bool finished = MailStore(dying, clock).RenameFolder("alice", "Work", "Jobs").ok();
    if (!dying.died()) {  // every write of the rename has had its turn
      ASSERT_TRUE(finished);
      *done = true;
      return;
    }
    MailStore after(disk, clock);
    for (const auto& [id, subject] : subject_of) {
      EXPECT_TRUE(after.Find("alice", id).ok()) << subject << " lost by the crash";
    }
    if (auto old = after.State("alice", "Work"); old.ok() && !old->renaming_to().empty()) {
      EXPECT_TRUE(absl::IsFailedPrecondition(after.RenameFolder("alice", "Work", "Other")));
    }
    // A crash at the last write may have finished it: then the old name is gone.
    const absl::Status again = after.RenameFolder("alice", "Work", "Jobs");
    ASSERT_TRUE(again.ok() || (absl::IsNotFound(again) && writes > 1 && last_takes_effect))
        << again;
    EXPECT_EQ(*after.Folders("alice"), (std::vector<std::string>{"inbox", "sent", "drafts", "trash",
                                                                 "junk", "Jobs", "Jobs/2026"}));
    std::map<std::string, std::string> found;
    for (const char* folder : {"Jobs", "Jobs/2026"}) {
      auto listed = after.ListAll("alice", folder);
      ASSERT_TRUE(listed.ok()) << listed.status();
      for (const pb::MessageMeta& m : *listed) {
        EXPECT_TRUE(found.emplace(m.id(), m.subject()).second) << m.subject() << " twice";
        EXPECT_EQ(std::string_view(m.subject()).starts_with("Work/2026"),
                  std::string_view(folder) == "Jobs/2026")
            << m.subject() << " in " << folder;
        EXPECT_EQ(*after.Source("alice", m), Message(m.subject()));
      }
    }
    EXPECT_EQ(found, subject_of);
    EXPECT_EQ(after.State("alice", "Jobs")->renaming_to(), "");
  });
}

// A MOVE stopped at each of its writes (applied or not) ends whole or not at all at the
// next look at the folder it left, whoever looks (here webmail's listing): the message in
// exactly one folder, readable.
TEST(MailStoreMoveCrashTest, AMoveCutShortAtAnyWriteEndsWholeAtTheNextLookAtItsFolder) {
  AtEveryWrite([](CrashRun& store, int writes, bool last_takes_effect, bool* done) {
    kvs::MemoryClient& disk = store.disk;
    const std::function<int64_t()>& clock = store.clock;
    std::string id;
    {
      MailStore before(disk, clock);
      ASSERT_TRUE(before.CreateFolder("alice", "Work").ok());
      ASSERT_TRUE(before.Add("alice", kInbox, Message("stays"), false).ok());
      auto added = before.Add("alice", kInbox, Message("moves"), false);
      ASSERT_TRUE(added.ok());
      id = added->id();
    }
    kvs::DyingClient dying(disk, writes, last_takes_effect);
    const bool moved = MailStore(dying, clock).Move("alice", id, "Work").ok();
    if (!dying.died()) {  // every write of the move has had its turn
      ASSERT_TRUE(moved);
      *done = true;
      return;
    }
    // The next webmail listing of the Inbox, once a move would have ended, then the next
    // IMAP session on each folder.
    store.now += std::chrono::microseconds(kLongestEntryWrite).count() + 1'000'000;
    MailStore after(disk, clock);
    auto listed = after.ListAll("alice", kInbox);
    ASSERT_TRUE(listed.ok()) << listed.status();
    auto inbox = after.View("alice", kInbox);
    ASSERT_TRUE(inbox.ok()) << inbox.status();
    auto work = after.View("alice", "Work");
    ASSERT_TRUE(work.ok()) << work.status();
    // Whole (in Work only) or not at all (in the Inbox only, unmarked), and readable.
    std::vector<pb::MessageMeta> copies;
    for (const FolderView* view : {&*inbox, &*work}) {
      for (const pb::MessageMeta& m : view->messages) {
        if (m.id() == id) copies.push_back(m);
      }
    }
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].moving_to(), "");
    EXPECT_EQ(*after.Source("alice", copies[0]), Message("moves"));
    EXPECT_EQ(inbox->messages.size() + work->messages.size(), 2u);
    EXPECT_EQ(listed->size(), inbox->messages.size()) << "the listing finished or undid it";
    // The store agrees with the views, and a move of it now ends in Work.
    EXPECT_EQ(after.ListAll("alice", kInbox)->size(), inbox->messages.size());
    EXPECT_EQ(after.ListAll("alice", "Work")->size(), work->messages.size());
    auto again = after.Move("alice", id, "Work");
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(after.ListAll("alice", kInbox)->size(), 1u);
    EXPECT_EQ(after.ListAll("alice", "Work")->size(), 1u);
  });
}

// A MULTIAPPEND stopped at each of its writes (applied or not) ends with all of its
// messages or none once the next IMAP look at the folder finds its record past its time:
// RFC 3502 asks that much of a command the client got no answer to.
TEST(MailStoreMultiappendCrashTest, AMultiappendCutShortAtAnyWriteEndsWithAllOrNone) {
  AtEveryWrite([](CrashRun& store, int writes, bool last_takes_effect, bool* done) {
    kvs::MemoryClient& disk = store.disk;
    const std::function<int64_t()>& clock = store.clock;
    ASSERT_TRUE(MailStore(disk, clock).Add("alice", kInbox, Message("before"), false).ok());
    const std::vector<std::string> sources = {Message("m1"), Message("m2"), Message("m3")};
    std::vector<NewMessage> batch;
    for (const std::string& source : sources) batch.push_back({source, {}, 0});
    kvs::DyingClient dying(disk, writes, last_takes_effect);
    auto added = MailStore(dying, clock).AddAll("alice", kInbox, batch);
    if (!dying.died()) {  // every write of the command has had its turn
      ASSERT_TRUE(added.ok()) << added.status();
      ASSERT_EQ(added->size(), 3u);
      EXPECT_EQ((*added)[0].subject(), "m1");
      EXPECT_EQ((*added)[2].uid(), (*added)[0].uid() + 2);
      *done = true;
      return;
    }
    store.now += std::chrono::microseconds(kLongestEntryWrite).count() + 1'000'000;
    MailStore after(disk, clock);
    auto view = after.View("alice", kInbox);
    ASSERT_TRUE(view.ok()) << view.status();
    std::vector<std::string> subjects;
    for (const pb::MessageMeta& m : view->messages) {
      subjects.push_back(m.subject());
      EXPECT_EQ(*after.Source("alice", m), Message(m.subject()));
    }
    if (subjects.size() == 1) {
      EXPECT_EQ(subjects, std::vector<std::string>{"before"});
    } else {  // only a crash at the record's removal, which had taken effect, ends here
      EXPECT_EQ(subjects, (std::vector<std::string>{"before", "m1", "m2", "m3"}));
    }
    EXPECT_EQ(after.ListAll("alice", kInbox)->size(), subjects.size());
    EXPECT_EQ(after.State("alice", kInbox)->appending_size(), 0);
  });
}

// A MULTIAPPEND that fails (here at its third entry's write) takes back what it wrote.
TEST_F(MailStoreTest, AMultiappendThatFailsLeavesNothing) {
  const std::vector<std::string> sources = {Message("m1"), Message("m2"), Message("m3")};
  std::vector<NewMessage> batch;
  for (const std::string& source : sources) batch.push_back({source, {}, 0});
  ASSERT_TRUE(store_.Add("alice", kInbox, Message("before"), false).ok());

  class FailsThirdEntry final : public kvs::ForwardingClient {
   public:
    using ForwardingClient::ForwardingClient;
    absl::StatusOr<bool> CPut(std::string_view row, std::string_view column,
                              std::optional<std::string_view> expected,
                              std::string_view value) override {
      if (!expected && column.starts_with(FolderPrefix(kInbox)) && ++entries_ == 3) {
        return absl::UnavailableError("the store is down");
      }
      return ForwardingClient::CPut(row, column, expected, value);
    }

   private:
    int entries_ = 0;
  };
  FailsThirdEntry failing(kvs_);
  auto failed = MailStore(failing, [this] { return Tick(); }).AddAll("alice", kInbox, batch);
  EXPECT_TRUE(absl::IsUnavailable(failed.status())) << failed.status();
  EXPECT_EQ(store_.ListAll("alice", kInbox)->size(), 1u);
  EXPECT_EQ(store_.State("alice", kInbox)->appending_size(), 0);

  auto added = store_.AddAll("alice", kInbox, batch);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(store_.ListAll("alice", kInbox)->size(), 4u);
}

TEST_F(MailStoreTest, UserFoldersNestRenameAndDelete) {
  ASSERT_TRUE(store_.CreateFolder("alice", "Work").ok());
  ASSERT_TRUE(store_.CreateFolder("alice", "Work/2026").ok());
  EXPECT_TRUE(absl::IsAlreadyExists(store_.CreateFolder("alice", "Work")));
  for (const char* bad : {"", "/x", "x/", "a//b", "INBOX", "Trash", "a\nb", "a/b/c/d/e/f/g/h/i"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(store_.CreateFolder("alice", bad))) << bad;
  }
  auto m = store_.Add("alice", "Work", Message("w"), false);
  auto n = store_.Add("alice", "Work/2026", Message("w2"), false);
  ASSERT_TRUE(m.ok() && n.ok());
  // A folder's listing never includes its subfolders' messages.
  EXPECT_EQ(store_.ListAll("alice", "Work")->size(), 1u);
  EXPECT_EQ(store_.Find("alice", n->id())->folder(), "Work/2026");
  EXPECT_EQ(*store_.Folders("alice"), (std::vector<std::string>{"inbox", "sent", "drafts", "trash",
                                                                "junk", "Work", "Work/2026"}));
  EXPECT_TRUE(absl::IsFailedPrecondition(store_.DeleteFolder("alice", "Work")));
  ASSERT_TRUE(store_.RenameFolder("alice", "Work", "Jobs").ok());
  EXPECT_EQ(*store_.Folders("alice"), (std::vector<std::string>{"inbox", "sent", "drafts", "trash",
                                                                "junk", "Jobs", "Jobs/2026"}));
  EXPECT_EQ(store_.Find("alice", n->id())->folder(), "Jobs/2026");
  EXPECT_EQ(*store_.Source("alice", *store_.Find("alice", m->id())), Message("w"));
  ASSERT_TRUE(store_.DeleteFolder("alice", "Jobs/2026").ok());
  EXPECT_TRUE(absl::IsNotFound(store_.Find("alice", n->id()).status()));
  EXPECT_TRUE(absl::IsNotFound(store_.Add("alice", "Jobs/2026", Message("x"), false).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(store_.DeleteFolder("alice", "inbox")));
  // Missing parents are made; a system folder as parent is not made again.
  ASSERT_TRUE(store_.CreateFolder("alice", "A/B/C").ok());
  ASSERT_TRUE(store_.CreateFolder("alice", "Sent/2025").ok());
  EXPECT_TRUE(store_.FolderExists("alice", "A/B"));
  auto folders = store_.Folders("alice");
  EXPECT_EQ(std::count(folders->begin(), folders->end(), "Sent"), 0);
  EXPECT_EQ(std::count(folders->begin(), folders->end(), "Sent/2025"), 1);
  ASSERT_TRUE(store_.SetSubscribed("alice", "Jobs", false).ok());
  EXPECT_FALSE(store_.State("alice", "Jobs")->subscribed());
}

TEST_F(MailStoreTest, CopyIsANewMessageWithTheSameFlags) {
  MessageFlags flags;
  flags.flagged = true;
  auto a = store_.Add("alice", kInbox, Message("a"), flags, 42);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->received_micros(), 42);
  auto copy = store_.Copy("alice", *a, kSent);
  ASSERT_TRUE(copy.ok());
  EXPECT_NE(copy->id(), a->id());
  EXPECT_TRUE(copy->flagged());
  EXPECT_EQ(copy->received_micros(), 42);
  ASSERT_TRUE(store_.Remove("alice", a->id()).ok());
  EXPECT_EQ(*store_.Source("alice", *copy), Message("a"));
}

TEST_F(MailStoreTest, EightBitHeadersAndCutPreviewsStillReadBack) {
  // A raw Latin-1 subject, and a body of two-byte characters whose preview is cut inside one.
  std::string body;
  for (int i = 0; i < 100; ++i) body += "\xc3\xa9";
  std::string source = "From: x@example.com\r\nSubject: caf\xe9\r\n\r\n" + body + "\r\n";
  auto added = store_.Add("alice", kInbox, source, false);
  ASSERT_TRUE(added.ok());
  EXPECT_TRUE(IsValidUtf8(added->subject()));
  EXPECT_TRUE(IsValidUtf8(added->preview()));
  auto all = store_.Mailbox("alice", kInbox);
  ASSERT_TRUE(all.ok()) << all.status();                  // the entry parses back
  EXPECT_EQ(*store_.Source("alice", (*all)[0]), source);  // the source itself is untouched
  EXPECT_EQ(ScrubUtf8("a\xff\xc3"), "a\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(ScrubUtf8("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // a surrogate
}

TEST(MailStoreConcurrency, ConcurrentDeliveriesAreAllKept) {
  kvs::MemoryClient kvs;
  MailStore store(kvs);  // real clock: many deliveries share a microsecond
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(store.Add("alice", kInbox, Message(Cat(t, "-", i)), false).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  auto all = store.Mailbox("alice", kInbox);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 400u);
  for (size_t i = 0; i < all->size(); ++i) EXPECT_EQ((*all)[i].uid(), i + 1);  // none shared
}

// Counts the writes of folder cells ("box/...") and makes each take a while, as a
// consensus round does, so concurrent deliveries meet.
class SlowFolderCells final : public kvs::ForwardingClient {
 public:
  explicit SlowFolderCells(kvs::Client& inner) : ForwardingClient(inner) {}
  absl::StatusOr<bool> CPut(std::string_view row, std::string_view column,
                            std::optional<std::string_view> expected,
                            std::string_view value) override {
    if (column.starts_with("box/")) {
      ++folder_writes;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return ForwardingClient::CPut(row, column, expected, value);
  }
  std::atomic<int> folder_writes{0};
};

TEST(MailStoreConcurrency, DeliveriesToOneFolderShareTheFolderCellsWrites) {
  kvs::MemoryClient memory;
  SlowFolderCells kvs(memory);
  MailStore store(kvs), other_process(kvs);
  constexpr int kDeliveries = 40;
  std::latch start(kDeliveries);
  std::vector<std::thread> threads;
  for (int t = 0; t < kDeliveries; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      MailStore& s = t % 4 == 0 ? other_process : store;
      ASSERT_TRUE(s.Add("alice", kInbox, Message(Cat("m", t)), false).ok());
    });
  }
  for (auto& t : threads) t.join();
  auto all = store.Mailbox("alice", kInbox);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), size_t{kDeliveries});
  for (size_t i = 0; i < all->size(); ++i) EXPECT_EQ((*all)[i].uid(), i + 1);  // none shared
  auto state = store.State("alice", kInbox);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->uid_next(), uint32_t{kDeliveries + 1});
  // One compare-and-put per batch of waiting deliveries, not one (or more) per message.
  EXPECT_LE(kvs.folder_writes.load(), kDeliveries / 2);
}

TEST_F(MailStoreTest, Pop3LockIsExclusiveUntilReleasedOrExpired) {
  EXPECT_TRUE(*store_.Lock("alice", "s1", 10'000'000));
  EXPECT_FALSE(*store_.Lock("alice", "s2", 10'000'000));
  EXPECT_TRUE(*store_.Lock("bob", "s2", 10'000'000));
  ASSERT_TRUE(store_.Unlock("alice", "s1").ok());
  EXPECT_TRUE(*store_.Lock("alice", "s2", 10'000'000));
  now_ += 20'000'000;  // s2's lease runs out
  EXPECT_TRUE(*store_.Lock("alice", "s3", 10'000'000));
  ASSERT_TRUE(store_.Unlock("alice", "s2").ok());  // a stale owner cannot release it
  EXPECT_FALSE(*store_.Lock("alice", "s4", 10'000'000));
}

// Dies (every write refused, as a killed process writes nothing more) when the store
// first deletes a cell of the mailbox row: a move has then written its new entry only.
class DiesAtFirstEntryDelete final : public kvs::ForwardingClient {
 public:
  explicit DiesAtFirstEntryDelete(kvs::Client& inner) : ForwardingClient(inner) {}
  absl::Status Put(std::string_view row, std::string_view column, std::string_view value) override {
    if (dead_) return Dead();
    return ForwardingClient::Put(row, column, value);
  }
  absl::StatusOr<bool> CPut(std::string_view row, std::string_view column,
                            std::optional<std::string_view> expected,
                            std::string_view value) override {
    if (dead_) return Dead();
    return ForwardingClient::CPut(row, column, expected, value);
  }
  absl::Status Delete(std::string_view row, std::string_view column) override {
    if (row == MailboxRow("alice") && column.starts_with(FolderPrefix(kInbox))) dead_ = true;
    if (dead_) return Dead();
    return ForwardingClient::Delete(row, column);
  }
  absl::StatusOr<bool> CDelete(std::string_view row, std::string_view column,
                               std::string_view expected) override {
    if (dead_) return Dead();
    return ForwardingClient::CDelete(row, column, expected);
  }

 private:
  static absl::Status Dead() { return absl::UnavailableError("crashed"); }
  bool dead_ = false;
};

std::string MailStoreTest::CrashedMoveToWork(const std::string& source) {
  auto added = store_.Add("alice", kInbox, source, false);
  EXPECT_TRUE(added.ok()) << added.status();
  if (!added.ok() || !store_.CreateFolder("alice", "Work").ok()) return "";
  DiesAtFirstEntryDelete dying(kvs_);
  MailStore crashing(dying, [this] { return Tick(); });
  EXPECT_FALSE(crashing.Move("alice", added->id(), "Work").ok());
  return added->id();
}

TEST_F(MailStoreTest, ACopyLeftByACrashedMoveKeepsTheSourceUntilTheLastGoes) {
  const std::string source = Message("twice", "only body");
  const std::string id = CrashedMoveToWork(source);
  ASSERT_FALSE(id.empty());
  auto in_inbox = store_.Entry("alice", kInbox, id);
  auto in_work = store_.Entry("alice", "Work", id);
  ASSERT_TRUE(in_inbox.ok());
  ASSERT_TRUE(in_work.ok());
  ASSERT_EQ(in_work->chunks(), in_inbox->chunks());

  // The copy the client expunges is the one in Work; the Inbox's must still read whole.
  ASSERT_TRUE(store_.Remove("alice", "Work", id).ok());
  EXPECT_TRUE(absl::IsNotFound(store_.Entry("alice", "Work", id).status()));
  auto left = store_.Find("alice", id);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->folder(), kInbox);
  auto read = store_.Source("alice", *left);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, source);
  auto found = store_.index().Doc("alice", id);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->folder(), kInbox);

  // The last entry takes the source and the search document with it.
  ASSERT_TRUE(store_.Remove("alice", id).ok());
  EXPECT_TRUE(absl::IsNotFound(store_.Find("alice", id).status()));
  EXPECT_TRUE(absl::IsNotFound(store_.Source("alice", *left).status()));
  EXPECT_TRUE(absl::IsNotFound(store_.index().Doc("alice", id).status()));
}

TEST_F(MailStoreTest, DeletingAFolderKeepsTheSourceOfAnEntryListedElsewhere) {
  const std::string source = Message("filed", "kept body");
  const std::string id = CrashedMoveToWork(source);
  ASSERT_FALSE(id.empty());

  ASSERT_TRUE(store_.DeleteFolder("alice", "Work").ok());
  auto left = store_.Find("alice", id);
  ASSERT_TRUE(left.ok());
  auto read = store_.Source("alice", *left);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, source);
}

TEST_F(MailStoreTest, StoreDownIsAnErrorNotALoss) {
  kvs_.SetUnavailable(true);
  EXPECT_FALSE(store_.Add("alice", kInbox, Message("x"), false).ok());
  kvs_.SetUnavailable(false);
  EXPECT_TRUE(store_.ListAll("alice", kInbox)->empty());
}

}  // namespace
}  // namespace penncloud::mail
