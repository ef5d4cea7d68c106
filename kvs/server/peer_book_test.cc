// The peer book: the flags, overruled by what the log said; addresses taken by members.
#include "kvs/server/peer_book.h"

#include <gtest/gtest.h>

namespace penncloud::kvs::server {
namespace {

pb::Member Member(uint64_t id, const std::string& peer, const std::string& client) {
  pb::Member m;
  m.set_id(id);
  m.set_peer_address(peer);
  m.set_address(client);
  return m;
}

TEST(PeerBookTest, TheLogOverrulesTheFlags) {
  PeerBook book;
  ASSERT_TRUE(book.Load({{1, "h:7011"}, {2, "h:7012"}}, {{2, "c:7002"}}, std::nullopt));
  EXPECT_EQ(book.ClientAddress(1), "h:7011") << "no client address: the peer address serves";
  EXPECT_EQ(book.ClientAddress(2), "c:7002");
  EXPECT_EQ(book.ClientAddress(3), "");

  PeerBook other;
  const std::string stored = other.Set(Member(2, "moved:7012", "moved:7002"));
  other.Set(Member(3, "h:7013", "h:7003"));
  ASSERT_TRUE(book.Load({{1, "h:7011"}, {2, "h:7012"}}, {}, stored));
  EXPECT_EQ(book.Find(2)->peer_address(), "moved:7012");
  EXPECT_FALSE(book.Knows(3)) << "only what was stored";
  EXPECT_EQ(book.All().size(), 2u);

  EXPECT_FALSE(book.Load({{1, "h:7011"}}, {}, std::string("\xff\xff garbage")));
  EXPECT_EQ(book.ClientAddress(1), "h:7011") << "unreadable: the flags stand";
}

TEST(PeerBookTest, SetReturnsTheWholeBook) {
  PeerBook book;
  book.Load({{1, "h:7011"}}, {}, std::nullopt);
  pb::PeerBook stored;
  ASSERT_TRUE(stored.ParseFromString(book.Set(Member(4, "h:7014", "h:7004"))));
  EXPECT_EQ(stored.members_size(), 2);
  EXPECT_TRUE(book.Knows(4));
}

TEST(PeerBookTest, AnAddressIsTakenOnlyByAnotherMember) {
  PeerBook book;
  book.Load({{1, "h:7011"}, {2, "h:7012"}}, {}, std::nullopt);
  paxos::Membership members;
  members.add_voters(1);
  EXPECT_EQ(book.AddressUsedBy(members, Member(5, "h:7011", "x:1")), 1u);
  EXPECT_EQ(book.AddressUsedBy(members, Member(5, "x:2", "h:7011")), 1u) << "client address";
  EXPECT_EQ(book.AddressUsedBy(members, Member(5, "h:7012", "x:1")), 0u)
      << "replica 2 is no member any more: its address may be reused";
  EXPECT_EQ(book.AddressUsedBy(members, Member(1, "h:7011", "h:7011")), 0u) << "itself";
}

}  // namespace
}  // namespace penncloud::kvs::server
