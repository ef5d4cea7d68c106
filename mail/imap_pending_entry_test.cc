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

// Holds the next new entry written to the Inbox (a create-if-absent of an "inbox/" column)
// until Release: its writer has taken its UID and change number, and waits to write.
class HeldEntryClient : public kvs::ForwardingClient {
 public:
  using ForwardingClient::ForwardingClient;

  void HoldNext() {
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = true;
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
      if (armed_ && !expected && column.starts_with(FolderPrefix(kInbox))) {
        armed_ = false;
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
  bool armed_ = false;     // GUARDED_BY(mu_)
  bool held_ = false;      // GUARDED_BY(mu_)
  bool released_ = false;  // GUARDED_BY(mu_)
};

class PendingEntryTest : public ImapSessionTest {
 protected:
  ~PendingEntryTest() override {
    held_.Release();
    if (slow_.joinable()) slow_.join();
  }

  // Starts a delivery whose entry write is held: it returns once the UID is taken.
  void StartSlowDelivery(std::string_view subject) {
    held_.HoldNext();
    slow_ = std::thread([this, source = Message(subject)] {
      slow_result_ = writer_.Add("alice", kInbox, source, false);
    });
    held_.WaitUntilHeld();
  }
  // Lets the held entry be written and waits for its delivery to end.
  absl::StatusOr<pb::MessageMeta> FinishSlowDelivery() {
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

  auto three = FinishSlowDelivery();
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
  auto late = FinishSlowDelivery();
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

}  // namespace
}  // namespace penncloud::mail
