// Whole-system tests of a real 3-replica group: the client API end to end, bad input,
// durability across a crash of every replica, and catch-up by snapshot.
#include "tests/support/kvs_group.h"

#include <sys/wait.h>

#include <fstream>
#include <iterator>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/grpc_tls.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kvs/client/connect.h"
#include "proto/kvs.grpc.pb.h"
#include "tests/support/test_pki.h"

namespace penncloud::testing {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<kvs::Client> ConnectTo(const KvsGroup& group) {
  auto client = kvs::Connect(group.spec());
  EXPECT_TRUE(client.ok()) << client.status();
  return std::move(*client);
}

TEST(KvsGroupTest, ClientOperationsEndToEnd) {
  auto group = KvsGroup::Start();
  ASSERT_TRUE(group.ok()) << group.status();
  auto client = ConnectTo(**group);
  ASSERT_TRUE(client->Put("user/alice", "name", "Alice").ok());
  EXPECT_EQ(client->Get("user/alice", "name").value(), "Alice");
  EXPECT_TRUE(absl::IsNotFound(client->Get("user/alice", "nope").status()));
  EXPECT_FALSE(client->CPut("user/alice", "name", "Bob", "X").value());
  EXPECT_TRUE(client->CPut("user/alice", "name", "Alice", "Alicia").value());
  EXPECT_FALSE(client->CPut("user/alice", "name", std::nullopt, "Y").value());
  EXPECT_TRUE(client->CPut("user/alice", "new", std::nullopt, "Z").value());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client->Put("user/alice", absl::StrCat("m", i), absl::StrCat("v", i)).ok());
  }
  kvs::ListOptions list;
  list.limit = 3;
  list.with_values = true;
  auto page = client->List("user/alice", list);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->cells.size(), 3u);
  EXPECT_EQ(page->cells[0].column, "m0");
  EXPECT_EQ(page->cells[0].value, "v0");
  EXPECT_TRUE(page->more);
  list.after = page->cells.back().column;
  list.limit = 100;
  page = client->List("user/alice", list);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->cells.size(), 4u);  // m3 m4 name new
  EXPECT_EQ(page->cells[3].column, "new");
  EXPECT_FALSE(page->more);
  ASSERT_TRUE(client->Delete("user/alice", "name").ok());
  ASSERT_TRUE(client->Delete("user/alice", "name").ok());
  EXPECT_TRUE(absl::IsNotFound(client->Get("user/alice", "name").status()));
  EXPECT_FALSE(client->CDelete("user/alice", "new", "not Z").value());
  EXPECT_EQ(client->Get("user/alice", "new").value(), "Z");
  EXPECT_TRUE(client->CDelete("user/alice", "new", "Z").value());
  EXPECT_TRUE(absl::IsNotFound(client->Get("user/alice", "new").status()));
  EXPECT_FALSE(client->CDelete("user/alice", "new", "Z").value());
  // A value at the limit is accepted; one byte more is refused before it is sent.
  std::string big(kvs::kMaxValueBytes, 'x');
  ASSERT_TRUE(client->Put("big", "c", big).ok());
  EXPECT_EQ(client->Get("big", "c").value().size(), big.size());
  big.push_back('x');
  EXPECT_TRUE(absl::IsInvalidArgument(client->Put("big", "c", big)));
}

// A replica started by mistake on a port another replica holds must exit. Were the port
// shared (SO_REUSEPORT), the kernel would hand each of them part of the group's traffic.
TEST(KvsGroupTest, AReplicaStartedOnATakenPortExitsInsteadOfSharingIt) {
  auto group = KvsGroup::Start();
  ASSERT_TRUE(group.ok()) << group.status();
  const std::string taken = (*group)->address(0);
  auto intruder = (*group)->StartJoining(std::stoi(taken.substr(taken.rfind(':') + 1)));
  ASSERT_TRUE(intruder.ok()) << intruder.status();  // the port answers: replica 1 holds it
  const int status = (*group)->Wait(*intruder, std::chrono::seconds(10));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  std::ifstream log((*group)->dir() + "/replica-" + std::to_string(*intruder + 1) + ".log");
  const std::string text{std::istreambuf_iterator<char>(log), {}};
  EXPECT_NE(text.find("cannot listen on " + taken), std::string::npos) << text;
  auto client = ConnectTo(**group);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(client->Put("row", absl::StrCat("c", i), "v").ok());
    EXPECT_EQ(client->Get("row", absl::StrCat("c", i)).value(), "v");
  }
}

TEST(KvsGroupTest, BadRequestsGetClearErrorsAndNoCrash) {
  auto group = KvsGroup::Start();
  ASSERT_TRUE(group.ok()) << group.status();
  const int leader = (*group)->Leader().value();
  auto stub = kvs::pb::KvsService::NewStub(
      grpc::CreateChannel((*group)->address(leader), tls::ChannelCredentials()));
  auto write = [&](kvs::pb::Command c) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    kvs::pb::WriteRequest request;
    *request.mutable_command() = std::move(c);
    kvs::pb::WriteResponse response;
    return stub->Write(&context, request, &response);
  };
  kvs::pb::Command c;
  c.set_session(1);
  c.set_seq(1);
  c.set_row("r");
  c.set_op(static_cast<kvs::pb::Op>(77));
  grpc::Status s = write(c);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("op"), std::string::npos) << s.error_message();
  c.set_op(kvs::pb::OP_PUT);
  c.set_value(std::string(kvs::kMaxValueBytes + 1, 'v'));
  s = write(c);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  c.set_value("v");
  c.set_row("");
  EXPECT_EQ(write(c).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  c.set_row(std::string(kvs::kMaxKeyBytes + 1, 'r'));
  EXPECT_EQ(write(c).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  c.set_row("r");
  c.set_op(kvs::pb::OP_CDELETE);
  c.set_expect_absent(true);
  EXPECT_EQ(write(c).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  c.set_expect_absent(false);
  c.set_op(kvs::pb::OP_PUT);
  c.set_session(0);
  EXPECT_EQ(write(c).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Garbage bytes where a Paxos message belongs, from a peer's own certificate.
  const int other = (leader + 1) % (*group)->size();
  absl::StatusOr<tls::Files> peer_files =
      TestPki::Shared().Issue(tls::Identity::Replica(0, other + 1));
  ASSERT_TRUE(peer_files.ok()) << peer_files.status();
  auto peer = kvs::pb::KvsPeer::NewStub(
      grpc::CreateChannel((*group)->address(leader), tls::MakeChannelCredentials(*peer_files)));
  kvs::pb::PeerBatch batch;
  batch.set_from(other + 1);
  batch.add_messages("\xff\xff\xff garbage");
  grpc::ClientContext context;
  kvs::pb::PeerAck ack;
  EXPECT_EQ(peer->Send(&context, batch, &ack).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // The group still works.
  auto client = ConnectTo(**group);
  EXPECT_TRUE(client->Put("r", "c", "fine").ok());
  EXPECT_EQ(client->Get("r", "c").value(), "fine");
}

TEST(KvsGroupTest, RetriedWriteIsAppliedOnce) {
  auto group = KvsGroup::Start();
  ASSERT_TRUE(group.ok()) << group.status();
  const int leader = (*group)->Leader().value();
  auto stub = kvs::pb::KvsService::NewStub(
      grpc::CreateChannel((*group)->address(leader), tls::ChannelCredentials()));
  auto cput = [&](uint64_t seq, std::string expected, std::string value) {
    kvs::pb::WriteRequest request;
    kvs::pb::Command* c = request.mutable_command();
    c->set_op(kvs::pb::OP_CPUT);
    c->set_session(42);
    c->set_seq(seq);
    c->set_row("r");
    c->set_column("c");
    c->set_expected(expected);
    c->set_value(value);
    grpc::ClientContext context;
    kvs::pb::WriteResponse response;
    EXPECT_TRUE(stub->Write(&context, request, &response).ok());
    EXPECT_FALSE(response.hint().not_leader());
    return response.cput_succeeded();
  };
  auto client = ConnectTo(**group);
  ASSERT_TRUE(client->Put("r", "c", "a").ok());
  EXPECT_TRUE(cput(1, "a", "b"));
  // The same request again (a client retry): it reports the original outcome and does
  // not apply again, although the cell no longer holds "a".
  EXPECT_TRUE(cput(1, "a", "b"));
  ASSERT_TRUE(client->Put("r", "c", "a").ok());
  EXPECT_TRUE(cput(1, "a", "b"));
  EXPECT_EQ(client->Get("r", "c").value(), "a");
  EXPECT_TRUE(cput(2, "a", "c"));
  EXPECT_EQ(client->Get("r", "c").value(), "c");
}

// The at-most-once table expires idle sessions (docs/kvs.md): many clients that write once
// and go away leave no lasting trace on any replica, while a session that keeps writing is
// still remembered (a retry of its last write gets the first answer, not a second apply).
TEST(KvsGroupTest, IdleSessionsExpireAndTheTableStaysBounded) {
  KvsGroupOptions options;
  options.extra_flags = {"--session_idle_ms=3000"};
  auto group = KvsGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  auto records = [&](int i) -> uint64_t {
    auto stub = kvs::pb::KvsService::NewStub(
        grpc::CreateChannel((*group)->address(i), tls::ChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    kvs::pb::StatusResponse status;
    EXPECT_TRUE(stub->Status(&context, kvs::pb::StatusRequest(), &status).ok());
    return status.session_records();
  };
  constexpr int kShortLived = 60;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kShortLived; ++i) {
    auto once = ConnectTo(**group);  // a client process with a session pool of its own
    ASSERT_TRUE(once->Put("short", absl::StrCat("c", i), "x").ok());
  }
  const int leader = (*group)->Leader().value();
  // All of them are in the table, unless the machine was so slow that the first ones
  // were already idle for longer than the bound (then sweeps may have begun).
  if (std::chrono::steady_clock::now() - started < std::chrono::seconds(1)) {
    EXPECT_GE(records(leader), static_cast<uint64_t>(kShortLived));
  } else {
    EXPECT_GT(records(leader), 1u);
  }

  // One live session (fixed id, raw requests so the test controls its sequence numbers)
  // keeps writing: CPUT v<k-1> -> v<k> under sequence k. Its writes also move the log's
  // clock, which is what lets the leader's sweeps drop the others.
  // Sent to each replica in turn until the leader answers (leadership may move on a
  // loaded machine); resending one (session, seq) is what a client retry does anyway.
  std::vector<std::unique_ptr<kvs::pb::KvsService::Stub>> stubs;
  for (int i = 0; i < (*group)->size(); ++i) {
    stubs.push_back(kvs::pb::KvsService::NewStub(
        grpc::CreateChannel((*group)->address(i), tls::ChannelCredentials())));
  }
  auto cput = [&](uint64_t k) {
    kvs::pb::WriteRequest request;
    kvs::pb::Command* c = request.mutable_command();
    c->set_op(kvs::pb::OP_CPUT);
    c->set_session(4242);
    c->set_seq(k);
    c->set_row("live");
    c->set_column("c");
    if (k == 1) {
      c->set_expect_absent(true);
    } else {
      c->set_expected(absl::StrCat("v", k - 1));
    }
    c->set_value(absl::StrCat("v", k));
    grpc::Status s;
    for (int attempt = 0; attempt < 60; ++attempt) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
      kvs::pb::WriteResponse response;
      s = stubs[attempt % stubs.size()]->Write(&context, request, &response);
      if (s.ok() && !response.hint().not_leader()) return response.cput_succeeded();
      if (!s.ok() && s.error_code() != grpc::StatusCode::UNAVAILABLE &&
          s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
        break;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    ADD_FAILURE() << "live write " << k << " not answered: " << s.error_message();
    return false;
  };
  uint64_t k = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline && records(leader) > 1) {
    ASSERT_TRUE(cput(++k)) << "live session write " << k;
    std::this_thread::sleep_for(milliseconds(200));
  }
  EXPECT_LE(records(leader), 1u) << "after " << k << " live writes";
  ASSERT_TRUE(cput(++k));
  // Every replica applied the same sweeps (the followers may be a moment behind).
  for (int i = 0; i < (*group)->size(); ++i) {
    uint64_t n = records(i);
    for (int tries = 0; tries < 50 && n > 1; ++tries) {
      std::this_thread::sleep_for(milliseconds(100));
      n = records(i);
    }
    EXPECT_LE(n, 1u) << "replica " << i;
  }
  // The live session survived every sweep: its last write, sent again, is answered from
  // the table (succeeded) instead of being applied again (it would fail: the cell moved on).
  EXPECT_TRUE(cput(k));
  auto client = ConnectTo(**group);
  EXPECT_EQ(client->Get("live", "c").value(), absl::StrCat("v", k));
  // The short-lived clients' data is untouched by the expiry of their sessions.
  kvs::ListOptions list;
  list.limit = 1000;
  EXPECT_EQ(client->List("short", list)->cells.size(), static_cast<size_t>(kShortLived));
}

TEST(KvsGroupTest, AcknowledgedWritesSurviveCrashOfEveryReplica) {
  auto group = KvsGroup::Start();
  ASSERT_TRUE(group.ok()) << group.status();
  {
    auto client = ConnectTo(**group);
    std::vector<std::thread> writers;
    for (int t = 0; t < 8; ++t) {
      writers.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) {
          ASSERT_TRUE(client->Put(absl::StrCat("row", t), absl::StrCat("c", i), "v").ok());
        }
      });
    }
    for (auto& w : writers) w.join();
  }
  for (int i = 0; i < 3; ++i) (*group)->Kill(i);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*group)->Restart(i).ok());
  ASSERT_TRUE((*group)->Leader().ok());
  auto client = ConnectTo(**group);
  for (int t = 0; t < 8; ++t) {
    kvs::ListOptions list;
    list.limit = 1000;
    auto page = client->List(absl::StrCat("row", t), list);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_EQ(page->cells.size(), 50u) << "row" << t;
  }
}

TEST(KvsGroupTest, ReplicaDownDuringCompactionCatchesUpBySnapshot) {
  KvsGroupOptions options;
  options.extra_flags = {"--snapshot_interval=40", "--log_keep_slots=5"};
  auto group = KvsGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  const int leader = (*group)->Leader().value();
  const int lagger = (leader + 1) % 3;
  const int other = (leader + 2) % 3;
  (*group)->Kill(lagger);
  auto client = ConnectTo(**group);
  // 2.4 MB of large values: the snapshot spans several 1 MiB chunks, which the returning
  // replica writes to disk as they arrive (kvs/storage/snapshot_file.h).
  auto big = [](int i) { return std::string(200 << 10, static_cast<char>('A' + i)); };
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(client->Put("snapbig", absl::StrCat("c", i), big(i)).ok());
  }
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(client->Put("snap", absl::StrCat("c", 1000 + i), absl::StrCat("v", i)).ok());
  }
  std::this_thread::sleep_for(milliseconds(300));  // let the compaction sweep run
  ASSERT_TRUE((*group)->Restart(lagger).ok());
  // Wait until the returning replica has applied what the leader committed.
  auto stub = kvs::pb::KvsService::NewStub(
      grpc::CreateChannel((*group)->address(lagger), tls::ChannelCredentials()));
  uint64_t applied = 0;
  uint64_t snapshot = 0;
  for (int i = 0; i < 200 && (applied < 312 || snapshot == 0); ++i) {
    grpc::ClientContext context;
    kvs::pb::StatusResponse status;
    if (stub->Status(&context, kvs::pb::StatusRequest(), &status).ok()) {
      applied = status.applied_slot();
      snapshot = status.snapshot_slot();
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_GE(applied, 312u);
  EXPECT_GT(snapshot, 0u);
  // It came back by snapshot, not by log: the leader had compacted the log it missed.
  std::ifstream log_file(absl::StrCat((*group)->dir(), "/replica-", lagger + 1, ".log"));
  std::string log_text((std::istreambuf_iterator<char>(log_file)),
                       std::istreambuf_iterator<char>());
  EXPECT_NE(log_text.find("event=kvs.snapshot_install"), std::string::npos) << log_text;
  // ... received in several chunks, streamed to disk.
  const size_t fetched = log_text.find("event=kvs.snapshot_fetched");
  ASSERT_NE(fetched, std::string::npos) << log_text;
  const size_t at = log_text.find("chunks=", fetched);
  ASSERT_NE(at, std::string::npos);
  EXPECT_GE(std::stoi(log_text.substr(at + 7)), 3) << log_text.substr(fetched, 200);
  // It restarts from the installed snapshot (a crash-safe install leaves no marker behind).
  absl::Status restarted = (*group)->Restart(lagger);
  ASSERT_TRUE(restarted.ok()) << restarted;
  // Only the returned replica and one other remain: the data must be complete there.
  (*group)->Kill(leader);
  ASSERT_TRUE((*group)->Leader().ok());
  kvs::ListOptions list;
  list.limit = 1000;
  list.with_values = true;
  auto page = client->List("snap", list);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->cells.size(), 300u);
  EXPECT_EQ(page->cells[299].value, "v299");
  for (int i = 0; i < 12; ++i) {
    auto value = client->Get("snapbig", absl::StrCat("c", i));
    ASSERT_TRUE(value.ok()) << value.status();
    EXPECT_TRUE(*value == big(i)) << "big value " << i << " differs";
  }
  (void)other;
}

}  // namespace
}  // namespace penncloud::testing
