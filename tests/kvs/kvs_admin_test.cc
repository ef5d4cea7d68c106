// The admin read API of one real 3-replica group (kvs/client/group_admin.h): ListRows in
// store order with paging, columns and cells, bad input refused, and the status counters
// and member list, followed across a leader crash.
#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/grpc_tls.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kvs/client/group_admin.h"
#include "kvs/client/replica_group_client.h"
#include "tests/support/kvs_group.h"

namespace penncloud::testing {
namespace {

std::vector<std::string> Addresses(const KvsGroup& group) {
  std::vector<std::string> out;
  for (int i = 0; i < group.size(); ++i) out.push_back(group.address(i));
  return out;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(KvsAdminTest, ListRowsPagesThroughEveryRowOnceInStoreOrder) {
  const int64_t before_start = NowMs();
  auto group = KvsGroup::Start();
  ASSERT_TRUE(group.ok()) << group.status();
  kvs::ReplicaGroupClient client(Addresses(**group));
  kvs::GroupAdmin admin(Addresses(**group));

  // An empty group lists nothing.
  auto empty = admin.ListRows("", 10);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->rows.empty());
  EXPECT_FALSE(empty->more);

  // 57 rows with 1..3 columns each; rows that are prefixes of one another and a row that
  // ends in 0xff bytes (the "next row" seek must carry past them).
  std::set<std::string> written;
  for (int i = 0; i < 50; ++i) {
    const std::string row = absl::StrCat("user", i, "/inbox");
    for (int c = 0; c <= i % 3; ++c) {
      ASSERT_TRUE(client.Put(row, absl::StrCat("m", c), absl::StrCat("v", i)).ok());
    }
    written.insert(row);
  }
  for (const std::string& row :
       {std::string("a"), std::string("ab"), std::string("abc"), std::string("z\xff\xff"),
        std::string("z\xff\xff\xff"), std::string("\xff"), std::string("user1")}) {
    ASSERT_TRUE(client.Put(row, "c", "x").ok());
    ASSERT_TRUE(client.Put(row, "d", "y").ok());
    written.insert(row);
  }

  std::vector<std::string> listed;
  std::string after;
  int pages = 0;
  while (true) {
    auto page = admin.ListRows(after, 7);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_LE(page->rows.size(), 7u);
    ++pages;
    for (const std::string& row : page->rows) listed.push_back(row);
    if (!page->more) break;
    ASSERT_EQ(page->rows.size(), 7u);  // "more" only on a full page
    after = page->rows.back();
    ASSERT_LT(pages, 100);
  }
  EXPECT_EQ(pages, (57 + 6) / 7);
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), written);
  EXPECT_EQ(listed.size(), written.size());  // every row exactly once
  // Store order is stable: a second pass from the middle gives the same tail.
  auto tail = admin.ListRows(listed[20], 1000);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(tail->rows, std::vector<std::string>(listed.begin() + 21, listed.end()));
  // A deleted row disappears once its last cell does.
  ASSERT_TRUE(client.Delete("ab", "c").ok());
  auto all = admin.ListRows("", 1000);
  ASSERT_TRUE(all.ok());
  EXPECT_NE(std::find(all->rows.begin(), all->rows.end(), "ab"), all->rows.end());
  ASSERT_TRUE(client.Delete("ab", "d").ok());
  all = admin.ListRows("", 1000);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(std::find(all->rows.begin(), all->rows.end(), "ab"), all->rows.end());
  EXPECT_EQ(all->rows.size(), written.size() - 1);

  // Columns and cells of one row.
  kvs::ListOptions options;
  options.with_values = true;
  auto columns = admin.ListColumns("user5/inbox", options);
  ASSERT_TRUE(columns.ok()) << columns.status();
  ASSERT_EQ(columns->cells.size(), 3u);
  EXPECT_EQ(columns->cells[2].column, "m2");
  EXPECT_EQ(columns->cells[2].value, "v5");
  EXPECT_EQ(admin.GetCell("user5/inbox", "m1").value(), "v5");
  EXPECT_TRUE(absl::IsNotFound(admin.GetCell("user5/inbox", "nope").status()));

  // Bad input: a clear error, nothing sent for what the client can check itself, and the
  // server refuses the same on its own (raw RPC).
  EXPECT_TRUE(absl::IsInvalidArgument(admin.ListRows("", 0).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(admin.ListRows("", 1001).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      admin.ListRows(std::string(kvs::kMaxKeyBytes + 1, 'r'), 10).status()));
  auto leader = (*group)->Leader();
  ASSERT_TRUE(leader.ok());
  auto stub = kvs::pb::KvsService::NewStub(
      grpc::CreateChannel((*group)->address(*leader), tls::ChannelCredentials()));
  for (int limit : {0, -1, 1001}) {
    grpc::ClientContext context;
    kvs::pb::ListRowsRequest request;
    request.set_limit(limit);
    kvs::pb::ListRowsResponse response;
    grpc::Status s = stub->ListRows(&context, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << limit;
    EXPECT_NE(s.error_message().find("limit"), std::string::npos) << s.error_message();
  }

  // Status: when the process started, what it served and applied, and the members.
  auto status = admin.LeaderStatus();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->role(), "leader");
  EXPECT_GE(status->started_unix_ms(), before_start - 1000);
  EXPECT_LE(status->started_unix_ms(), NowMs());
  // 50 rows with 1..3 columns, 7 rows with 2, and 2 deletes went through this leader.
  const uint64_t writes = 17 * 1 + 17 * 2 + 16 * 3 + 7 * 2 + 2;
  EXPECT_GE(status->applied_commands_total(), writes);
  EXPECT_GE(status->client_requests_total(), writes);
  ASSERT_EQ(status->members_size(), 3);
  EXPECT_FALSE(status->membership_pending());
  std::set<std::string> member_addresses;
  for (const kvs::pb::Member& m : status->members()) {
    EXPECT_FALSE(m.learner());
    EXPECT_GE(m.id(), 1u);
    EXPECT_LE(m.id(), 3u);
    EXPECT_EQ(m.address(), (*group)->address(m.id() - 1));
    EXPECT_EQ(m.peer_address(), (*group)->address(m.id() - 1));
    member_addresses.insert(m.address());
  }
  EXPECT_EQ(member_addresses.size(), 3u);
  // The request counter counts requests, one per call.
  const uint64_t served = status->client_requests_total();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(admin.GetCell("a", "c").ok());
  status = admin.LeaderStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_GE(status->client_requests_total(), served + 5);
  EXPECT_LE(status->client_requests_total(), served + 5 + 8);  // + the Status calls, retries

  // Every follower applies the same commands (it learns the last commit with the next
  // heartbeat) and knows the same members.
  for (size_t i = 0; i < admin.StatusAll().size(); ++i) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (true) {
      auto [address, s] = admin.StatusAll()[i];
      ASSERT_TRUE(s.ok()) << address << ": " << s.status();
      EXPECT_EQ(s->members_size(), 3) << address;
      if (s->applied_commands_total() >= writes) break;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline)
          << address << " applied only " << s->applied_commands_total();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // The leader crashes: the admin reads follow the new one and see the same rows.
  (*group)->Kill(*leader);
  auto after_crash = admin.ListRows("", 1000);
  ASSERT_TRUE(after_crash.ok()) << after_crash.status();
  EXPECT_EQ(after_crash->rows, all->rows);
  auto new_status = admin.LeaderStatus();
  for (int i = 0; i < 50 && !new_status.ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    new_status = admin.LeaderStatus();
  }
  ASSERT_TRUE(new_status.ok()) << new_status.status();
  EXPECT_NE(new_status->id(), static_cast<uint64_t>(*leader + 1));
  EXPECT_EQ(new_status->members_size(), 3);  // a crash is not a membership change
}

}  // namespace
}  // namespace penncloud::testing
