// Two deliveries take UIDs 3 and 4 and write 4 first (mail_store.h). Whatever a client is
// shown meanwhile must stay a prefix of the folder: at no time an entry above a UID that may
// still be written, nor a HIGHESTMODSEQ at or above a change number that may still appear,
// or a client that fetches above what it knows (UID FETCH n:*, CHANGEDSINCE, QRESYNC) never
// sees the late entry. A writer that never finishes holds the folder back kLongestEntryWrite.
#include <condition_variable>
#include <mutex>
#include <thread>

#include "kvs/client/forwarding_client.h"
#include "mail/imap_test_fixture.h"

namespace penncloud::mail {
namespace {

// Holds the next write of an Inbox entry until Release: a new entry (a create-if-absent of
// an "inbox/" column) or a changed one (a compare-and-put expecting the entry as it was).
// Its writer has taken its numbers, and waits to write.
class HeldEntryClient : public kvs::ForwardingClient {
 public:
  using ForwardingClient::ForwardingClient;

  enum class Write { kNewEntry, kChangedEntry };
  void HoldNext(Write write) {
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = write;
  }
  void WaitUntilHeld() {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return held_; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    changed_.notify_all();
  }

  absl::StatusOr<bool> CPut(std::string_view row, std::string_view column,
                            std::optional<std::string_view> expected,
                            std::string_view value) override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      const Write write = expected ? Write::kChangedEntry : Write::kNewEntry;
      if (armed_ == write && column.starts_with(FolderPrefix(kInbox))) {
        armed_.reset();
        held_ = true;
        changed_.notify_all();
        changed_.wait(lock, [&] { return released_; });
      }
    }
    return ForwardingClient::CPut(row, column, expected, value);
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::optional<Write> armed_;  // GUARDED_BY(mu_)
  bool held_ = false;           // GUARDED_BY(mu_)
  bool released_ = false;       // GUARDED_BY(mu_)
};

class PendingEntryTest : public ImapSessionTest {
 protected:
  ~PendingEntryTest() override {
    held_.Release();
    if (slow_.joinable()) slow_.join();
  }

  // Starts a delivery whose entry write is held: it returns once the UID is taken.
  void StartSlowDelivery(std::string_view subject) {
    held_.HoldNext(HeldEntryClient::Write::kNewEntry);
    slow_ = std::thread([this, source = Message(subject)] {
      slow_result_ = writer_.Add("alice", kInbox, source, false);
    });
    held_.WaitUntilHeld();
  }
  // Starts flagging message `id` with its entry write held: it returns once the change
  // number is taken.
  void StartSlowFlagChange(const std::string& id) {
    held_.HoldNext(HeldEntryClient::Write::kChangedEntry);
    slow_ = std::thread([this, id] {
      slow_result_ =
          writer_.UpdateFlags("alice", kInbox, id, [](MessageFlags& f) { f.flagged = true; });
    });
    held_.WaitUntilHeld();
  }
  // Lets the held entry be written and waits for its writer to end.
  absl::StatusOr<pb::MessageMeta> FinishSlowWrite() {
    held_.Release();
    slow_.join();
    return slow_result_;
  }
  // A fresh session with QRESYNC on: what a client sees when it connects now.
  std::string SelectInNewSession(std::string_view select = "INBOX (CONDSTORE)") {
    auto s = NewSession();
    s->OnTlsStarted();
    EXPECT_TRUE(Has(Send("a LOGIN alice secret", s.get()), "a OK"));
    EXPECT_TRUE(Has(Send("b ENABLE QRESYNC", s.get()), "b OK"));
    return Send(Cat("c SELECT ", select), s.get());
  }
  uint64_t HighestModseqShown(const std::string& select) {
    const size_t at = select.find("[HIGHESTMODSEQ ");
    EXPECT_NE(at, std::string::npos) << select;
    return std::stoull(select.substr(at + 15));
  }

  // The delivering process: another MailStore, on the same store and clock.
  HeldEntryClient held_{kvs_};
  MailStore writer_{held_, [this] { return now_ += 1000; }};
  std::thread slow_;
  absl::StatusOr<pb::MessageMeta> slow_result_;
};

TEST_F(PendingEntryTest, NothingAboveAUidStillBeingWrittenIsShownUntilItIs) {
  Add("one");
  Add("two");
  StartSlowDelivery("three");
  const uint32_t validity = store_.State("alice", kInbox)->uid_validity();
  auto four = writer_.Add("alice", kInbox, Message("four"), false);
  ASSERT_TRUE(four.ok());
  ASSERT_EQ(four->uid(), 4u);

  // SELECT, STATUS and UID FETCH n:* show 1 and 2 only, with counters below 3's.
  LoginAndSelect();
  const std::string before = SelectInNewSession();
  EXPECT_TRUE(Has(before, "* 2 EXISTS")) << before;
  EXPECT_TRUE(Has(before, "[UIDNEXT 3]")) << before;
  const uint64_t known = HighestModseqShown(before);
  EXPECT_LT(known, four->modseq() - 1) << "3's change number is below 4's";
  EXPECT_EQ(Send("d STATUS INBOX (UIDNEXT MESSAGES HIGHESTMODSEQ)"),
            Cat("* STATUS \"INBOX\" (UIDNEXT 3 MESSAGES 2 HIGHESTMODSEQ ", known,
                ")\r\nd OK STATUS completed\r\n"));
  EXPECT_FALSE(Has(Send("e UID FETCH 3:* (UID)"), "UID 4"));
  // Writing 3's entry changes no counter, so nothing wakes an idling session for it: it
  // must look again by itself.
  auto idling = NewSession();
  LoginAndSelect(idling.get());
  EXPECT_EQ(Send("c IDLE", idling.get()), "+ idling\r\n");
  EXPECT_TRUE(idling->RecheckAfter().has_value());

  auto three = FinishSlowWrite();
  ASSERT_TRUE(three.ok()) << three.status();
  EXPECT_EQ(three->uid(), 3u);
  EXPECT_EQ(idling->OnPoll().text, "* 4 EXISTS\r\n");
  // The selected session learns of both, in UID order, and a fetch above 2 finds both.
  EXPECT_TRUE(Has(Send("f NOOP"), "* 4 EXISTS"));
  const std::string fetched = Send("g UID FETCH 3:* (UID)");
  EXPECT_TRUE(Has(fetched, "* 3 FETCH (UID 3)")) << fetched;
  EXPECT_TRUE(Has(fetched, "* 4 FETCH (UID 4)")) << fetched;
  // A client resynchronizing from what it was told gets both, and 3 never vanished.
  const std::string changed = Send(Cat("h UID FETCH 1:* (FLAGS) (CHANGEDSINCE ", known, ")"));
  EXPECT_TRUE(Has(changed, "UID 3 ")) << changed;
  EXPECT_TRUE(Has(changed, "UID 4 ")) << changed;
  const std::string resync =
      SelectInNewSession(Cat("INBOX (QRESYNC (", validity, " ", known, " 1:2))"));
  EXPECT_TRUE(Has(resync, "* 3 FETCH (UID 3 FLAGS () MODSEQ (")) << resync;
  EXPECT_TRUE(Has(resync, "* 4 FETCH (UID 4 FLAGS () MODSEQ (")) << resync;
  EXPECT_FALSE(Has(resync, "VANISHED")) << resync;
  EXPECT_TRUE(Has(resync, "[UIDNEXT 5]")) << resync;
  // Both entries are listed: the records of their UIDs are gone from the folder's cell.
  EXPECT_EQ(store_.State("alice", kInbox)->reserved_size(), 0);
}

TEST_F(PendingEntryTest, AWriterPastItsTimeIsClosedOutAndItsEntryTakesANewUid) {
  Add("one");
  StartSlowDelivery("late");
  ASSERT_TRUE(writer_.Add("alice", kInbox, Message("three"), false).ok());
  EXPECT_TRUE(Has(SelectInNewSession(), "[UIDNEXT 2]"));

  // Past the longest a write takes, the first look closes UID 2 for good.
  now_ += std::chrono::microseconds(kLongestEntryWrite).count() + 1'000'000;
  const std::string closed = SelectInNewSession();
  EXPECT_TRUE(Has(closed, "* 2 EXISTS")) << closed;
  EXPECT_TRUE(Has(closed, "[UIDNEXT 4]")) << closed;
  const uint32_t validity = store_.State("alice", kInbox)->uid_validity();
  const uint64_t known = HighestModseqShown(closed);

  // The writer wakes: its entry cannot take UID 2 any more, so it takes a new one.
  auto late = FinishSlowWrite();
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_EQ(late->uid(), 4u);
  const std::string resync =
      SelectInNewSession(Cat("INBOX (QRESYNC (", validity, " ", known, " 1:3))"));
  EXPECT_TRUE(Has(resync, "* 3 EXISTS")) << resync;
  EXPECT_TRUE(Has(resync, "* VANISHED (EARLIER) 2\r\n")) << resync;
  EXPECT_TRUE(Has(resync, "* 3 FETCH (UID 4 FLAGS () MODSEQ (")) << resync;
  // The closed column is no message to anyone.
  auto listed = store_.ListAll("alice", kInbox);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 3u);
  EXPECT_EQ(store_.Entry("alice", kInbox, late->id())->uid(), 4u);
}

// A flag change takes its change number before it writes the entry, as a delivery does. A
// client told a HIGHESTMODSEQ at or above that number in between would resynchronize from
// it (CHANGEDSINCE, QRESYNC) and never hear of the change.
TEST_F(PendingEntryTest, AFlagChangeStillBeingWrittenHoldsHighestModseqBelowIt) {
  const std::string one = Add("one");
  Add("two");
  const uint32_t validity = store_.State("alice", kInbox)->uid_validity();
  LoginAndSelect();
  StartSlowFlagChange(one);
  const uint64_t taken = store_.State("alice", kInbox)->highest_modseq();

  const std::string before = SelectInNewSession();
  EXPECT_TRUE(Has(before, "* 2 EXISTS")) << before;
  const uint64_t known = HighestModseqShown(before);
  EXPECT_LT(known, taken);
  EXPECT_EQ(Send("d STATUS INBOX (HIGHESTMODSEQ)"),
            Cat("* STATUS \"INBOX\" (HIGHESTMODSEQ ", known, ")\r\nd OK STATUS completed\r\n"));

  auto flagged = FinishSlowWrite();
  ASSERT_TRUE(flagged.ok()) << flagged.status();
  EXPECT_GT(flagged->modseq(), known);
  EXPECT_TRUE(Has(Send("e NOOP"), "* 1 FETCH (UID 1 FLAGS (\\Flagged)"));
  const std::string changed = Send(Cat("f UID FETCH 1:* (FLAGS) (CHANGEDSINCE ", known, ")"));
  EXPECT_TRUE(Has(changed, "* 1 FETCH (UID 1 ")) << changed;
  EXPECT_TRUE(Has(changed, "FLAGS (\\Flagged)")) << changed;
  const std::string resync =
      SelectInNewSession(Cat("INBOX (QRESYNC (", validity, " ", known, " 1:2))"));
  EXPECT_TRUE(Has(resync, "* 1 FETCH (UID 1 FLAGS (\\Flagged) MODSEQ (")) << resync;
  // The entry shows its change: the next look drops the record of its number.
  EXPECT_EQ(HighestModseqShown(SelectInNewSession()), flagged->modseq());
  EXPECT_EQ(store_.State("alice", kInbox)->reserved_size(), 0);
}

// A flag change whose writer died would hold HIGHESTMODSEQ back for good: past the longest a
// write takes, a reader gives the entry that change number itself (its flags unchanged), so
// the late write, expecting the entry as it was, fails and takes a new number.
TEST_F(PendingEntryTest, AFlagChangePastItsTimeIsClosedOutAndTakesANewNumber) {
  const std::string one = Add("one");
  const uint32_t validity = store_.State("alice", kInbox)->uid_validity();
  StartSlowFlagChange(one);
  const uint64_t taken = store_.State("alice", kInbox)->highest_modseq();
  EXPECT_LT(HighestModseqShown(SelectInNewSession()), taken);

  now_ += std::chrono::microseconds(kLongestEntryWrite).count() + 1'000'000;
  const std::string closed = SelectInNewSession();
  const uint64_t known = HighestModseqShown(closed);
  EXPECT_EQ(known, taken) << closed;
  auto closed_entry = store_.Entry("alice", kInbox, one);
  ASSERT_TRUE(closed_entry.ok());
  EXPECT_EQ(closed_entry->modseq(), taken);
  EXPECT_FALSE(closed_entry->flagged());

  auto flagged = FinishSlowWrite();
  ASSERT_TRUE(flagged.ok()) << flagged.status();
  EXPECT_TRUE(flagged->flagged());
  EXPECT_GT(flagged->modseq(), known);
  const std::string resync =
      SelectInNewSession(Cat("INBOX (QRESYNC (", validity, " ", known, " 1))"));
  EXPECT_TRUE(Has(resync, "* 1 FETCH (UID 1 FLAGS (\\Flagged) MODSEQ (")) << resync;
}

}  // namespace
}  // namespace penncloud::mail
