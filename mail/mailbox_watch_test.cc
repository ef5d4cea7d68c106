#include "mail/mailbox_watch.h"

#include <thread>

#include "gtest/gtest.h"
#include "kvs/client/forwarding_client.h"
#include "kvs/client/memory_client.h"
#include "mail/mail_store.h"

namespace penncloud::mail {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Counts the calls of one subscription.
struct Counter {
  std::mutex mu;
  std::condition_variable cv;
  int calls = 0;
  std::function<void()> Callback() {
    return [this] {
      std::lock_guard lock(mu);
      ++calls;
      cv.notify_all();
    };
  }
  // Waits up to 5 s for `n` calls; returns how many there were.
  int WaitFor(int n) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(5), [&] { return calls >= n; });
    return calls;
  }
  int Now() {
    std::lock_guard lock(mu);
    return calls;
  }
};

class MailboxWatchTest : public ::testing::Test {
 protected:
  kvs::MemoryClient kvs_;
  MailStore store_{kvs_};
};

TEST_F(MailboxWatchTest, SubscribersOfAFolderShareOneWatchAndHearEachChangeQuickly) {
  MailboxWatch watch(kvs_, {.fallback = std::chrono::minutes(1)});
  Counter a, b;
  auto sa = watch.Subscribe("bob", "inbox", a.Callback());
  auto sb = watch.Subscribe("bob", "inbox", b.Callback());
  EXPECT_EQ(watch.watches(), 1u);
  // Called soon after subscribing (b, which joined a watch that may not have looked yet,
  // perhaps twice).
  ASSERT_GE(a.WaitFor(1), 1);
  ASSERT_GE(b.WaitFor(1), 1);
  const int a_before = a.Now(), b_before = b.Now();

  const auto delivered = Clock::now();
  ASSERT_TRUE(store_.Add("bob", "inbox", "Subject: hi\r\n\r\nbody\r\n", false).ok());
  EXPECT_GT(a.WaitFor(a_before + 1), a_before);
  EXPECT_LT(Clock::now() - delivered, milliseconds(1000));
  EXPECT_GT(b.WaitFor(b_before + 1), b_before);

  sa.reset();
  sb.reset();
  EXPECT_EQ(watch.watches(), 0u);
}

TEST_F(MailboxWatchTest, AChangeToAnotherFolderOrUserWakesNobody) {
  ASSERT_TRUE(store_.State("bob", "inbox").ok());  // so each Add below is one change
  MailboxWatch watch(kvs_, {.fallback = std::chrono::minutes(1)});
  Counter inbox;
  auto s = watch.Subscribe("bob", "inbox", inbox.Callback());
  ASSERT_EQ(inbox.WaitFor(1), 1);
  ASSERT_TRUE(store_.Add("bob", "sent", "Subject: a\r\n\r\nx\r\n", true).ok());
  ASSERT_TRUE(store_.Add("alice", "inbox", "Subject: b\r\n\r\nx\r\n", false).ok());
  ASSERT_TRUE(store_.Add("bob", "inbox", "Subject: c\r\n\r\nx\r\n", false).ok());
  EXPECT_EQ(inbox.WaitFor(2), 2);  // the inbox change only (each Add takes one number)
  EXPECT_EQ(inbox.WaitFor(3), 3);  // and once more when it has settled
}

TEST_F(MailboxWatchTest, AnyFolderOfTheUserWakesAWholeMailboxSubscriber) {
  ASSERT_TRUE(store_.CreateFolder("bob", "Work").ok());
  MailboxWatch watch(kvs_, {.fallback = std::chrono::minutes(1), .settle = milliseconds(0)});
  Counter all;
  auto s = watch.Subscribe("bob", "", all.Callback());
  ASSERT_EQ(all.WaitFor(1), 1);
  auto added = store_.Add("bob", "Work", "Subject: a\r\n\r\nx\r\n", true);
  ASSERT_TRUE(added.ok());
  EXPECT_GE(all.WaitFor(2), 2);
  const int before = all.Now();
  ASSERT_TRUE(store_.Move("bob", added->id(), "trash").ok());
  EXPECT_GT(all.WaitFor(before + 1), before);
}

TEST_F(MailboxWatchTest, TheFallbackCallsEvenWhenNothingChangesOrTheStoreCannotWatch) {
  MailboxWatch watch(kvs_, {.fallback = milliseconds(100)});
  Counter c;
  auto s = watch.Subscribe("bob", "inbox", c.Callback());
  EXPECT_GE(c.WaitFor(3), 3);

  // A store without watches (Client's default answer) is polled at the fallback.
  class NoWatch final : public kvs::ForwardingClient {
   public:
    using ForwardingClient::ForwardingClient;
    absl::StatusOr<std::vector<kvs::WatchedCell>> Watch(std::string_view r,
                                                        const std::vector<kvs::WatchedCell>& k,
                                                        milliseconds t,
                                                        kvs::WatchCancel* c) override {
      return kvs::Client::Watch(r, k, t, c);
    }
  } no_watch(kvs_);
  MailboxWatch polled(no_watch, {.fallback = milliseconds(100)});
  Counter p;
  auto sp = polled.Subscribe("bob", "inbox", p.Callback());
  EXPECT_GE(p.WaitFor(3), 3);
}

TEST_F(MailboxWatchTest, DroppingTheLastSubscriptionEndsTheWatchPromptly) {
  MailboxWatch watch(kvs_, {.fallback = std::chrono::minutes(1)});
  for (int i = 0; i < 20; ++i) {
    Counter c;
    auto s = watch.Subscribe("bob", "inbox", c.Callback());
    ASSERT_EQ(c.WaitFor(1), 1);
    s.reset();  // cancels a watch that would otherwise wait a minute
    EXPECT_EQ(watch.watches(), 0u);
  }
  // Every retired watch thread is joined by the destructor, at once (cancelled watches).
  const auto started = Clock::now();
  {
    MailboxWatch other(kvs_, {.fallback = std::chrono::minutes(1)});
    Counter c;
    auto s = other.Subscribe("carol", "inbox", c.Callback());
    s.reset();
  }
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(2));
}

}  // namespace
}  // namespace penncloud::mail
