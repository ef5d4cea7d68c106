// What a webmail send without an undo window costs the store and leaves behind: the record
// of the send is written, the Sent copy and the local copies stored, the timeline written
// once as it ends up, and the record removed (delivery_intent.h). The crash safety of the
// same send is delivery_crash_test's.
#include "mail/delivery_intent.h"

#include <atomic>

#include "gtest/gtest.h"
#include "kvs/client/forwarding_client.h"
#include "kvs/client/memory_client.h"

namespace penncloud::mail {
namespace {

class CountingClient final : public kvs::ForwardingClient {
 public:
  using ForwardingClient::ForwardingClient;
  absl::StatusOr<std::string> Get(std::string_view row, std::string_view column) override {
    ++reads;
    return ForwardingClient::Get(row, column);
  }
  absl::StatusOr<kvs::ColumnPage> List(std::string_view row,
                                       const kvs::ListOptions& options) override {
    ++reads;
    return ForwardingClient::List(row, options);
  }
  absl::Status Put(std::string_view row, std::string_view column, std::string_view value) override {
    ++writes;
    return ForwardingClient::Put(row, column, value);
  }
  absl::StatusOr<bool> CPut(std::string_view row, std::string_view column,
                            std::optional<std::string_view> expected,
                            std::string_view value) override {
    ++writes;
    return ForwardingClient::CPut(row, column, expected, value);
  }
  absl::Status Delete(std::string_view row, std::string_view column) override {
    ++writes;
    return ForwardingClient::Delete(row, column);
  }
  absl::StatusOr<bool> CDelete(std::string_view row, std::string_view column,
                               std::string_view expected) override {
    ++writes;
    return ForwardingClient::CDelete(row, column, expected);
  }
  std::atomic<int> reads{0};
  std::atomic<int> writes{0};
};

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
  kvs.reads = 0;
  kvs.writes = 0;
  pb::QueuedMessage entry;
  entry.set_sender("alice@penncloud.local");
  entry.set_user("alice");
  entry.add_local_recipients("bob@penncloud.local");
  auto sent = Send(queue, store, timelines, entry, kSource, 0);
  ASSERT_TRUE(sent.ok()) << sent.status();

  // The record (source, due index, entry: 3), two stored messages (source, search document,
  // folder counter, entry: 4 each), the timeline (1), the record's removal (entry, due
  // index, source: 3). Before, the same send took 21 writes and 6 reads.
  EXPECT_LE(kvs.writes.load(), 15);
  EXPECT_LE(kvs.reads.load(), 6);

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
