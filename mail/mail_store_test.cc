#include "mail/mail_store.h"

#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
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
  EXPECT_EQ(kvs_.CellCount(), 0u);  // index cell and every chunk are gone
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
  EXPECT_TRUE(absl::IsInvalidArgument(store_.Add("alice", "spam", Message("x"), false).status()));
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
  auto all = store.ListAll("alice", kInbox);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 400u);
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

TEST_F(MailStoreTest, StoreDownIsAnErrorNotALoss) {
  kvs_.SetUnavailable(true);
  EXPECT_FALSE(store_.Add("alice", kInbox, Message("x"), false).ok());
  kvs_.SetUnavailable(false);
  EXPECT_TRUE(store_.ListAll("alice", kInbox)->empty());
}

}  // namespace
}  // namespace penncloud::mail
