// The relay's side of delivery timelines and held sends, over an in-memory store and a
// scripted remote server: what each attempt records, when a held send is released, and
// that withdrawing (undo, cancel, drop) never races a runner that holds the entry.
#include <chrono>
#include <map>
#include <thread>

#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"
#include "mail/delivery_intent.h"
#include "mail/delivery_status.h"
#include "mail/relay.h"
#include "mail/relay_release.h"

namespace penncloud::mail {
namespace {

constexpr char kSource[] =
    "From: alice@penncloud.local\r\nTo: bob@penncloud.local, far@example.com\r\n"
    "Subject: plans\r\n\r\nhello\r\n";

class RelayTimelineTest : public ::testing::Test {
 protected:
  RelayTimelineTest()
      : queue_(kvs_, [this] { return now_; }),
        store_(kvs_, [this] { return now_; }),
        timelines_(kvs_),
        relay_(
            queue_, store_, Options(), [this](auto&&... args) { return Send(args...); },
            [this] { return now_; }) {}

  static RelayOptions Options() {
    RelayOptions o;
    o.smarthost_host = "remote.example";
    o.retry_base_micros = 60'000'000;
    return o;
  }

  // The remote answers per recipient from `answers_` (250 when unlisted).
  std::vector<RecipientResult> Send(const std::string&, int, const std::string&,
                                    const std::vector<std::string>& recipients,
                                    const std::string&) {
    std::vector<RecipientResult> out;
    for (const auto& r : recipients) {
      std::string reply = answers_.contains(r) ? answers_[r] : "250 2.0.0 queued as R1";
      RecipientOutcome outcome = reply[0] == '2'   ? RecipientOutcome::kDelivered
                                 : reply[0] == '4' ? RecipientOutcome::kTemporaryFailure
                                                   : RecipientOutcome::kPermanentFailure;
      out.push_back({r, outcome, reply});
      ++sent_[r];
    }
    return out;
  }

  // A webmail send from alice: timeline first, then the entry (as SendWithTimeline does).
  std::string Enqueue(std::vector<std::string> remote, std::vector<std::string> local,
                      int64_t hold_micros) {
    pb::QueuedMessage e;
    e.set_id(queue_.NewId());
    e.set_sender("alice@penncloud.local");
    e.set_user("alice");
    e.set_sent_id("sent1");
    for (const auto& r : remote) e.add_recipients(r);
    for (const auto& r : local) e.add_local_recipients(r);
    e.set_held(hold_micros > 0);
    e.set_next_attempt_micros(now_ + hold_micros);
    pb::DeliveryStatus st;
    st.set_queue_id(e.id());
    for (const auto* list : {&remote, &local}) {
      for (const auto& r : *list) SetRecipient(st, r, kQueued, "", 0, 0, now_);
    }
    EXPECT_TRUE(timelines_.Save("alice", "sent1", st).ok());
    auto id = queue_.Enqueue(e, kSource);
    EXPECT_TRUE(id.ok());
    return *id;
  }

  pb::RecipientDelivery Line(const std::string& address) {
    auto st = timelines_.Load("alice", "sent1");
    EXPECT_TRUE(st.ok()) << st.status();
    for (const auto& r : st->recipients()) {
      if (r.address() == address) return r;
    }
    ADD_FAILURE() << "no line for " << address;
    return {};
  }

  int64_t now_ = 1'000'000'000'000'000;
  kvs::MemoryClient kvs_;
  OutboundQueue queue_;
  MailStore store_;
  DeliveryStatusStore timelines_;
  std::map<std::string, std::string> answers_;
  std::map<std::string, int> sent_;
  Relay relay_;
};

TEST_F(RelayTimelineTest, EachAttemptRecordsAcceptedDeferredAndBounced) {
  answers_ = {{"later@example.com", "451 4.2.0 busy"}, {"gone@example.com", "550 5.1.1 no"}};
  Enqueue({"ok@example.com", "later@example.com", "gone@example.com"}, {}, 0);
  EXPECT_EQ(relay_.RunOnce(), 1);
  EXPECT_EQ(Line("ok@example.com").state(), kAccepted);
  EXPECT_EQ(Line("ok@example.com").reply(), "250 2.0.0 queued as R1");
  EXPECT_EQ(Line("gone@example.com").state(), kBounced);
  pb::RecipientDelivery later = Line("later@example.com");
  EXPECT_EQ(later.state(), kDeferred);
  EXPECT_EQ(later.reply(), "451 4.2.0 busy");
  EXPECT_EQ(later.next_retry_micros(), now_ + 60'000'000);
  EXPECT_EQ(later.attempts(), 1);
  EXPECT_FALSE(timelines_.Load("alice", "sent1")->queue_id().empty());

  answers_.clear();
  now_ += 60'000'000;
  EXPECT_EQ(relay_.RunOnce(), 1);
  EXPECT_EQ(Line("later@example.com").state(), kAccepted);
  EXPECT_EQ(Line("later@example.com").attempts(), 2);
  EXPECT_TRUE(timelines_.Load("alice", "sent1")->queue_id().empty());
  EXPECT_EQ(sent_["ok@example.com"], 1);  // only the deferred one was tried again
}

TEST_F(RelayTimelineTest, HeldSendIsReleasedOnlyWhenDueAndOnce) {
  Enqueue({"far@example.com"}, {"bob@penncloud.local"}, 5'000'000);
  EXPECT_EQ(relay_.RunOnce(), 0);  // inside the window nobody may claim it
  EXPECT_TRUE(store_.ListAll("bob", kInbox)->empty());
  EXPECT_EQ(sent_["far@example.com"], 0);

  now_ += 5'000'000;
  EXPECT_EQ(relay_.RunOnce(), 1);
  EXPECT_EQ(store_.ListAll("bob", kInbox)->size(), 1u);
  EXPECT_EQ(Line("bob@penncloud.local").state(), kDelivered);
  EXPECT_EQ(Line("far@example.com").state(), kAccepted);
  EXPECT_TRUE(queue_.ListAll()->empty());
  EXPECT_EQ(relay_.RunOnce(), 0);
  EXPECT_EQ(store_.ListAll("bob", kInbox)->size(), 1u);
}

TEST_F(RelayTimelineTest, ReleaseLeavesTheRemotePartDueForTheRelay) {
  Enqueue({"far@example.com"}, {"bob@penncloud.local"}, 5'000'000);
  now_ += 5'000'000;
  auto claimed = queue_.Claim("frontend-1", 60'000'000, 10);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u);
  auto released = ReleaseHeld(queue_, store_, timelines_, claimed->front(), kSource);
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_FALSE(released->held());
  EXPECT_EQ(released->local_recipients_size(), 0);
  EXPECT_EQ(released->lease_owner(), "frontend-1");  // still ours until handed on
  // While leased, neither the owner's cancel nor an admin's drop may touch it.
  auto refused = queue_.Withdraw(released->id(), [](const auto&) { return absl::OkStatus(); });
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  ASSERT_TRUE(queue_.Update(*released, *released).ok());
  EXPECT_EQ(relay_.RunOnce(), 1);
  EXPECT_EQ(Line("far@example.com").state(), kAccepted);
  EXPECT_EQ(store_.ListAll("bob", kInbox)->size(), 1u);
}

TEST_F(RelayTimelineTest, WithdrawnEntryIsNeverDelivered) {
  std::string id = Enqueue({"far@example.com"}, {"bob@penncloud.local"}, 5'000'000);
  auto undone = queue_.Withdraw(id, [&](const pb::QueuedMessage& e) {
    return e.held() && now_ < e.next_attempt_micros() ? absl::OkStatus()
                                                      : absl::FailedPreconditionError("late");
  });
  ASSERT_TRUE(undone.ok()) << undone.status();
  now_ += 10'000'000;
  EXPECT_EQ(relay_.RunOnce(), 0);
  EXPECT_TRUE(store_.ListAll("bob", kInbox)->empty());
  EXPECT_EQ(sent_["far@example.com"], 0);
  EXPECT_TRUE(
      absl::IsNotFound(queue_.Withdraw(id, [](const auto&) { return absl::OkStatus(); }).status()));
}

// A frontend's releaser, on the real clock, lets a held webmail send out once its window
// ends: bob's copy, then the remote part handed to the relay.
TEST(HeldMailReleaserTest, ReleasesAHeldSendOnceDue) {
  kvs::MemoryClient kvs;
  OutboundQueue queue(kvs);
  MailStore store(kvs);
  DeliveryStatusStore timelines(kvs);
  pb::QueuedMessage e;
  e.set_sender("alice@penncloud.local");
  e.set_user("alice");
  e.add_recipients("far@example.com");
  e.add_local_recipients("bob@penncloud.local");
  auto sent = Send(queue, store, timelines, e, kSource, 300'000);
  ASSERT_TRUE(sent.ok()) << sent.status();
  HeldMailReleaser releaser(kvs, "frontend-test", std::chrono::milliseconds(50));
  for (int i = 0; i < 200 && store.ListAll("bob", kInbox)->empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(store.ListAll("bob", kInbox)->size(), 1u);
  // The entry is handed to the relay after bob's copy is stored, so it is waited for too.
  auto left = queue.ListAll();
  for (int i = 0; i < 200 && left.ok() && left->size() == 1 &&
                  (left->front().held() || !left->front().lease_owner().empty());
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    left = queue.ListAll();
  }
  ASSERT_TRUE(left.ok()) << left.status();
  ASSERT_EQ(left->size(), 1u);
  EXPECT_FALSE(left->front().held());
  EXPECT_TRUE(left->front().lease_owner().empty());
  EXPECT_EQ(timelines.Load("alice", sent->id())->recipients(1).state(), kDelivered);
}

}  // namespace
}  // namespace penncloud::mail
