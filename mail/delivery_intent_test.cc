// What a webmail send without an undo window costs the store and leaves behind: the record
// of the send is written, the Sent copy and the local copies stored, the timeline written
// once as it ends up, and the record removed (delivery_intent.h). The crash safety of the
// same send is delivery_crash_test's.
#include "mail/delivery_intent.h"

#include "gtest/gtest.h"
#include "kvs/client/counting_client.h"
#include "kvs/client/memory_client.h"

namespace penncloud::mail {
namespace {

using kvs::CountingClient;

constexpr char kSource[] =
    "From: alice@penncloud.local\r\nTo: bob@penncloud.local\r\nSubject: lunch\r\n"
    "Message-ID: <lunch-1@penncloud.local>\r\n\r\nnoon?\r\n";

TEST(DeliveryIntentTest, ALocalSendWithoutUndoWritesEachThingOnceAndLeavesNoRecord) {
  kvs::MemoryClient disk;
  CountingClient kvs(disk);
  OutboundQueue queue(kvs);
  MailStore store(kvs);
  DeliveryStatusStore timelines(kvs);
  // Both folders' counters exist already, as in any mailbox that has had mail.
  ASSERT_TRUE(store.State("alice", kSent).ok());
  ASSERT_TRUE(store.State("bob", kInbox).ok());
  const int64_t reads = kvs.reads(), writes = kvs.writes();
  pb::QueuedMessage entry;
  entry.set_sender("alice@penncloud.local");
  entry.set_user("alice");
  entry.add_local_recipients("bob@penncloud.local");
  auto sent = Send(queue, store, timelines, entry, kSource, 0);
  ASSERT_TRUE(sent.ok()) << sent.status();

  // The record (source, due index, entry: 3), two stored messages (source, search document,
  // folder counter, entry: 4 each), the timeline (1), the record's removal (entry, due
  // index, source: 3). Before, the same send took 21 writes and 6 reads.
  EXPECT_LE(kvs.writes() - writes, 15);
  EXPECT_LE(kvs.reads() - reads, 6);

  EXPECT_EQ(store.ListAll("bob", kInbox)->size(), 1u);
  EXPECT_EQ(store.ListAll("alice", kSent)->size(), 1u);
  EXPECT_TRUE(queue.ListAll()->empty());
  auto timeline = timelines.Load("alice", sent->id());
  ASSERT_TRUE(timeline.ok()) << timeline.status();
  EXPECT_TRUE(timeline->queue_id().empty());
  EXPECT_EQ(timeline->undo_until_micros(), 0);
  ASSERT_EQ(timeline->recipients_size(), 1);
  EXPECT_EQ(timeline->recipients(0).address(), "bob@penncloud.local");
  EXPECT_EQ(timeline->recipients(0).state(), kDelivered);
}

}  // namespace
}  // namespace penncloud::mail
