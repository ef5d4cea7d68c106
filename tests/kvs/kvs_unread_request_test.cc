// Calls whose request a replica never read (issue 22). gRPC 1.51's callback unary handler
// answered such a call UNIMPLEMENTED by itself (the missing request fails to parse), which
// replicas logged under load. The replica now serves its calls from its loop's completion
// queue (docs/kvs.md "Threads"), where gRPC drops a call whose request never arrived before
// it reaches the replica: a caller that sends no request at all gets INTERNAL "Unable to
// parse request", one that cancelled gets CANCELLED, and the replica counts neither. Under
// load, on a real replica, no caller ever sees UNIMPLEMENTED.
#include <atomic>
#include <fstream>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/grpc_tls.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kvs/client/replica_group_client.h"
#include "proto/kvs.grpc.pb.h"
#include "tests/support/kvs_group.h"

namespace penncloud::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kStatusMethod[] = "/penncloud.kvs.pb.KvsService/Status";

int CountInLog(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) ++n;
  }
  return n;
}

// Waits up to 10 s for `done` (the replica writes its log as it answers).
template <typename Pred>
bool WaitLogged(Pred done) {
  const auto until = Clock::now() + std::chrono::seconds(10);
  for (int i = 0; i < 1000 && Clock::now() < until; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return done();
}

std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address) {
  return grpc::CreateChannel(address, tls::ChannelCredentials());
}

enum class Then { kCancel, kHalfClose, kSendEmptyRequest };

// One generic call to `method` that sends its headers, then cancels, half-closes without a
// request, or sends an empty request. Returns the status the caller sees.
grpc::Status GenericCall(grpc::GenericStub& stub, const char* method, Then then) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&context, method, &cq);
  void* tag = nullptr;
  bool ok = false;
  call->StartCall(reinterpret_cast<void*>(1));
  cq.Next(&tag, &ok);
  if (then == Then::kCancel) {
    context.TryCancel();
  } else {
    if (then == Then::kSendEmptyRequest) {
      call->Write(grpc::ByteBuffer(), reinterpret_cast<void*>(2));
      cq.Next(&tag, &ok);
    }
    call->WritesDone(reinterpret_cast<void*>(3));
    cq.Next(&tag, &ok);
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  cq.Next(&tag, &ok);
  cq.Shutdown();
  for (int drained = 0; drained < 16 && cq.Next(&tag, &ok); ++drained) {
  }
  return status;
}

class KvsUnreadRequestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KvsGroupOptions options;
    options.replicas = 1;
    // Every failed RPC is logged, so the replica's log counts what it answered.
    options.extra_flags = {"--slow_rpc_ms=100000"};
    auto group = KvsGroup::Start(options);
    ASSERT_TRUE(group.ok()) << group.status();
    group_ = std::move(*group);
  }
  std::string Log() const { return group_->dir() + "/replica-1.log"; }
  int LoggedUnimplemented() const { return CountInLog(Log(), "code=UNIMPLEMENTED"); }
  int LoggedUnread(const std::string& method) const {
    return CountInLog(Log(), absl::StrCat("event=rpc.request_unread method=", method));
  }
  // The replica's count of KvsService calls that reached it (this Status call included).
  uint64_t CallsReceived() const {
    auto stub = kvs::pb::KvsService::NewStub(ChannelTo(group_->address(0)));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    kvs::pb::StatusResponse response;
    const grpc::Status s = stub->Status(&context, kvs::pb::StatusRequest(), &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.client_requests_total();
  }
  std::unique_ptr<KvsGroup> group_;
};

// A caller that sends no request at all is refused by gRPC (INTERNAL, not UNIMPLEMENTED),
// and the call never reaches the replica: it counts only the two Status calls around it.
TEST_F(KvsUnreadRequestTest, ACallWithoutARequestIsRefusedBeforeTheReplica) {
  grpc::GenericStub stub(ChannelTo(group_->address(0)));
  const uint64_t before = CallsReceived();
  grpc::Status status = GenericCall(stub, kStatusMethod, Then::kHalfClose);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL) << status.error_message();
  EXPECT_EQ(CallsReceived(), before + 1);
  EXPECT_EQ(LoggedUnimplemented(), 0);
  EXPECT_EQ(LoggedUnread("KvsService/Status"), 0);
}

// A caller that cancels before sending its request sees CANCELLED; none of those calls
// reaches the replica, and it answers (and logs) nothing for them.
TEST_F(KvsUnreadRequestTest, ACallCancelledBeforeItsRequestNeverReachesTheReplica) {
  grpc::GenericStub stub(ChannelTo(group_->address(0)));
  const uint64_t before = CallsReceived();
  constexpr int kCalls = 200;
  for (int i = 0; i < kCalls; ++i) {
    grpc::Status status = GenericCall(stub, kStatusMethod, Then::kCancel);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED) << status.error_message();
  }
  EXPECT_EQ(CallsReceived(), before + 1);
  EXPECT_EQ(LoggedUnimplemented(), 0);
  EXPECT_EQ(LoggedUnread("KvsService/Status"), 0);
}

// A method the replica really lacks is still answered, and logged, UNIMPLEMENTED.
TEST_F(KvsUnreadRequestTest, AMethodTheReplicaLacksIsStillUnimplemented) {
  grpc::GenericStub stub(ChannelTo(group_->address(0)));
  grpc::Status status =
      GenericCall(stub, "/penncloud.kvs.pb.KvsService/NoSuchMethod", Then::kSendEmptyRequest);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << status.error_message();
  EXPECT_TRUE(WaitLogged([&] { return LoggedUnimplemented() == 1; }));
  EXPECT_EQ(LoggedUnread("KvsService/NoSuchMethod"), 0);
}

// Many callers with deadlines too short for a loaded machine: some of their calls reach the
// replica with the request still unread. The callers see only DEADLINE_EXCEEDED (or an
// answer), never UNIMPLEMENTED.
TEST_F(KvsUnreadRequestTest, CallersPastTheirDeadlineNeverSeeUnimplemented) {
  constexpr int kThreads = 16;
  constexpr int kCallsPerThread = 400;
  std::atomic<int> unimplemented{0}, deadline{0}, ok{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto stub = kvs::pb::KvsService::NewStub(ChannelTo(group_->address(0)));
      const auto until = Clock::now() + std::chrono::seconds(60);
      for (int i = 0; i < kCallsPerThread && Clock::now() < until; ++i) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::microseconds(200 + 300 * ((t + i) % 8)));
        grpc::Status status;
        if (i % 2 == 0) {
          kvs::pb::StatusResponse response;
          status = stub->Status(&context, kvs::pb::StatusRequest(), &response);
        } else {
          kvs::pb::WriteRequest request;
          kvs::pb::Command* c = request.mutable_command();
          c->set_op(kvs::pb::OP_PUT);
          c->set_row(absl::StrCat("row", t));
          c->set_column(absl::StrCat("c", i));
          c->set_value(std::string(4096, 'v'));
          c->set_session(1000 + t);
          c->set_seq(i + 1);
          kvs::pb::WriteResponse response;
          status = stub->Write(&context, request, &response);
        }
        switch (status.error_code()) {
          case grpc::StatusCode::UNIMPLEMENTED:
            ++unimplemented;
            break;
          case grpc::StatusCode::DEADLINE_EXCEEDED:
            ++deadline;
            break;
          case grpc::StatusCode::OK:
            ++ok;
            break;
          default:
            ++other;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::cout << "callers saw: ok " << ok << ", deadline " << deadline << ", unimplemented "
            << unimplemented << ", other " << other << "; the replica logged "
            << LoggedUnread("KvsService/Status") + LoggedUnread("KvsService/Write")
            << " unread requests, " << LoggedUnimplemented() << " UNIMPLEMENTED\n";
  EXPECT_EQ(unimplemented, 0);
  EXPECT_EQ(LoggedUnimplemented(), 0);
}

// The KVS client under the same pressure: attempts time out and are retried, and none of
// them is ever answered UNIMPLEMENTED.
TEST_F(KvsUnreadRequestTest, TheClientNeverSeesUnimplementedUnderLoad) {
  kvs::ReplicaGroupOptions options;
  options.attempt_timeout = milliseconds(1);
  options.deadline = milliseconds(400);
  kvs::ReplicaGroupClient client({group_->address(0)}, options);
  constexpr int kThreads = 16;
  constexpr int kCallsPerThread = 100;
  std::atomic<int> unimplemented{0}, ok{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const auto until = Clock::now() + std::chrono::seconds(60);
      for (int i = 0; i < kCallsPerThread && Clock::now() < until; ++i) {
        absl::Status s = i % 2 == 0 ? client.Put(absl::StrCat("row", t), absl::StrCat("c", i),
                                                 std::string(4096, 'v'))
                                    : client.Get(absl::StrCat("row", t), "c0").status();
        if (absl::IsUnimplemented(s)) {
          ++unimplemented;
        } else if (s.ok() || absl::IsNotFound(s)) {
          ++ok;
        } else {
          ++failed;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::cout << "client calls: ok " << ok << ", failed " << failed << ", unimplemented "
            << unimplemented << "; the replica logged "
            << LoggedUnread("KvsService/Write") + LoggedUnread("KvsService/Get")
            << " unread requests, " << LoggedUnimplemented() << " UNIMPLEMENTED\n";
  EXPECT_EQ(unimplemented, 0);
  EXPECT_EQ(LoggedUnimplemented(), 0);
}

}  // namespace
}  // namespace penncloud::testing
