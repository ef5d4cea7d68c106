#include "mail/thread.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"
#include "mail/mail_store.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

ThreadInput M(std::string id, std::string subject, std::vector<std::string> refs = {},
              int64_t t = 0) {
  ThreadInput m;
  m.id = id;
  m.message_id = id + "@x";
  for (auto& r : refs) m.references.push_back(r + "@x");
  m.subject = std::move(subject);
  m.received_micros = t;
  return m;
}

// The threads as sets of message ids, for comparisons that ignore order.
std::set<std::set<std::string>> Groups(const std::vector<Thread>& threads) {
  std::set<std::set<std::string>> out;
  for (const Thread& t : threads) out.insert({t.messages.begin(), t.messages.end()});
  return out;
}

TEST(Thread, BaseSubjects) {
  bool reply;
  EXPECT_EQ(BaseSubject("Re: RE[2]: fwd:  Hello   World ", &reply), "hello world");
  EXPECT_TRUE(reply);
  EXPECT_EQ(BaseSubject("Hello", &reply), "hello");
  EXPECT_FALSE(reply);
  EXPECT_EQ(BaseSubject("Regarding: x", &reply), "regarding: x");
  EXPECT_FALSE(reply);
  EXPECT_EQ(BaseSubject("Re[x]: y", &reply), "re[x]: y");
  EXPECT_EQ(BaseSubject("Re:", &reply), "");
}

TEST(Thread, ReferencesThenInReplyTo) {
  ParsedMessage m;
  m.message_id = "self@x";
  m.references = "<a@x> junk <b@x>";
  m.in_reply_to = "<c@x> (comment)";
  EXPECT_EQ(ThreadMessageId(m), "self@x");
  EXPECT_THAT(ThreadReferences(m), ElementsAre("a@x", "b@x", "c@x"));
  m.in_reply_to = "<b@x>";
  EXPECT_THAT(ThreadReferences(m), ElementsAre("a@x", "b@x"));
  std::string many;
  for (int i = 0; i < 150; ++i) many += Cat("<r", i, "@x> ");
  m.references = many;
  auto refs = ThreadReferences(m);
  EXPECT_EQ(refs.size(), kMaxThreadReferences);
  EXPECT_EQ(refs.back(), "b@x");
}

TEST(Thread, RepliesFollowTheirParents) {
  auto threads = BuildThreads({M("a", "Plan", {}, 1), M("b", "Re: Plan", {"a"}, 2),
                               M("c", "Re: Plan", {"a", "b"}, 3), M("d", "Other", {}, 4)});
  ASSERT_EQ(threads.size(), 2u);
  EXPECT_EQ(threads[0].id, "d");  // most recent activity first
  EXPECT_THAT(threads[1].messages, ElementsAre("a", "b", "c"));
  EXPECT_EQ(threads[1].subject, "Plan");
  EXPECT_EQ(threads[1].latest_micros, 3);
}

TEST(Thread, MissingParentsStillJoin) {
  // JWZ: two replies to a message we never received share its empty container.
  auto threads = BuildThreads({M("b", "Re: lost", {"gone"}, 1), M("c", "Re: lost", {"gone"}, 2),
                               M("d", "Re: lost", {"gone", "c"}, 3)});
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_THAT(threads[0].messages, ElementsAre("b", "c", "d"));
}

TEST(Thread, OnlyChildOfAMissingRootIsPromoted) {
  auto threads = BuildThreads({M("b", "Re: x", {"gone"}, 1)});
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_THAT(threads[0].messages, ElementsAre("b"));
}

TEST(Thread, LoopsAreBroken) {
  // a says its parent is b, b says its parent is a; and a self-reference.
  auto threads =
      BuildThreads({M("a", "loop", {"b"}, 1), M("b", "loop", {"a"}, 2), M("c", "self", {"c"}, 3)});
  EXPECT_EQ(Groups(threads), (std::set<std::set<std::string>>{{"a", "b"}, {"c"}}));
  // Chains that contradict each other.
  threads = BuildThreads({M("x", "s", {"p", "q"}, 1), M("y", "s", {"q", "p"}, 2)});
  EXPECT_EQ(Groups(threads).size(), 1u);
}

TEST(Thread, SubjectFallback) {
  // No references at all: "Re: Lunch" joins "Lunch"; an unrelated subject does not.
  auto threads = BuildThreads({M("a", "Lunch", {}, 1), M("b", "Re: lunch", {}, 2),
                               M("c", "RE: Re: LUNCH", {}, 3), M("d", "Dinner", {}, 4)});
  EXPECT_EQ(Groups(threads), (std::set<std::set<std::string>>{{"a", "b", "c"}, {"d"}}));
  // Two originals with one subject share an empty parent; replies stay under the original.
  threads = BuildThreads({M("a", "Hi", {}, 1), M("b", "Hi", {}, 2)});
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_THAT(threads[0].messages, UnorderedElementsAre("a", "b"));
  // Empty subjects never merge.
  threads = BuildThreads({M("a", "", {}, 1), M("b", "", {}, 2)});
  EXPECT_EQ(threads.size(), 2u);
}

TEST(Thread, DuplicateAndMissingMessageIds) {
  ThreadInput no_id = M("n", "solo", {}, 1);
  no_id.message_id.clear();
  auto threads = BuildThreads({M("a", "dup", {}, 1), M("a2", "dup", {}, 2), no_id});
  size_t total = 0;
  for (const Thread& t : threads) total += t.messages.size();
  EXPECT_EQ(total, 3u);  // nobody lost
}

TEST(Thread, CountsUnread) {
  auto a = M("a", "s", {}, 1);
  auto b = M("b", "Re: s", {"a"}, 2);
  b.unread = true;
  auto threads = BuildThreads({a, b});
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_EQ(threads[0].unread, 1);
}

// A generated mailing-list archive: 40 discussions of random shape (replies to random
// earlier posts, some quoting the whole chain, some only In-Reply-To), 1 in 10 posts missing
// from the archive, delivered in shuffled order. Each discussion must come out as one thread.
TEST(Thread, GeneratedMailingListArchive) {
  std::mt19937 rng(7);
  std::vector<ThreadInput> archive;
  std::map<std::string, int> discussion_of;
  for (int d = 0; d < 40; ++d) {
    std::vector<std::vector<std::string>> chain;  // ancestors of post i, itself last
    int posts = 1 + static_cast<int>(rng() % 30);
    for (int p = 0; p < posts; ++p) {
      std::string id = Cat("d", d, "p", p);
      std::vector<std::string> refs;
      if (p > 0) refs = chain[rng() % p];
      std::vector<std::string> own = refs;
      own.push_back(id);
      chain.push_back(own);
      bool missing = p > 0 && rng() % 10 == 0;
      if (missing) continue;
      ThreadInput m;
      m.id = id;
      m.message_id = id + "@list";
      if (!refs.empty() && rng() % 3 == 0) refs = {refs.back()};  // In-Reply-To only
      for (const auto& r : refs) m.references.push_back(r + "@list");
      m.subject = Cat(p > 0 ? "Re: " : "", "topic ", d);
      m.received_micros = d * 1000 + p;
      archive.push_back(m);
      discussion_of[id] = d;
    }
  }
  std::shuffle(archive.begin(), archive.end(), rng);
  auto threads = BuildThreads(archive);
  EXPECT_EQ(threads.size(), 40u);
  size_t total = 0;
  for (const Thread& t : threads) {
    total += t.messages.size();
    for (const auto& id : t.messages) EXPECT_EQ(discussion_of[id], discussion_of[t.messages[0]]);
  }
  EXPECT_EQ(total, archive.size());
}

TEST(Thread, DeepChainsStayBounded) {
  std::vector<ThreadInput> chain;
  for (int i = 0; i < 5000; ++i) {
    chain.push_back(M(Cat("m", i), "deep",
                      i ? std::vector<std::string>{Cat("m", i - 1)} : std::vector<std::string>{},
                      i));
  }
  auto threads = BuildThreads(chain);
  size_t total = 0;
  for (const Thread& t : threads) total += t.messages.size();
  EXPECT_EQ(total, 5000u);
}

// A folder larger than one listing page (1,000 entries) is threaded whole, across pages,
// with the entries' threading fields: a reply and its original in one thread, the reply
// read and the original not.
TEST(Thread, AFolderIsThreadedAcrossListingPages) {
  kvs::MemoryClient kvs;
  MailStore store(kvs);
  constexpr int kConversations = 1200;
  for (int i = 0; i < kConversations; ++i) {
    const std::string original =
        Cat("Message-ID: <m", i, "@x>\r\nSubject: topic ", i, "\r\nFrom: a@x\r\n\r\nbody\r\n");
    ASSERT_TRUE(store.Add("alice", kInbox, original, false).ok());
    const std::string reply = Cat("Message-ID: <r", i, "@x>\r\nIn-Reply-To: <m", i,
                                  ">\r\nSubject: Re: topic ", i, "\r\nFrom: b@x\r\n\r\nok\r\n");
    ASSERT_TRUE(store.Add("alice", kInbox, reply, true).ok());
  }
  auto threads = FolderThreads(store, "alice", kInbox);
  ASSERT_TRUE(threads.ok()) << threads.status();
  ASSERT_EQ(threads->size(), static_cast<size_t>(kConversations));
  size_t messages = 0;
  for (const Thread& t : *threads) {
    EXPECT_EQ(t.messages.size(), 2u) << t.subject;
    EXPECT_EQ(t.unread, 1) << t.subject;
    EXPECT_EQ(t.subject.rfind("topic ", 0), 0u) << t.subject;  // the original's
    messages += t.messages.size();
  }
  EXPECT_EQ(messages, 2u * kConversations);
}

}  // namespace
}  // namespace penncloud::mail
