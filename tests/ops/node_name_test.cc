// --node_name on every long-running binary: each started with --node_name=X writes node=X
// on every log line (and nothing else), a frontend reports X in its heartbeats, and without
// the flag a data-group replica derives kvs-g<group>-<id>.
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/grpc_tls.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/coordinator.grpc.pb.h"
#include "tests/support/kvs_group.h"
#include "tests/support/process.h"

namespace penncloud::testing {
namespace {

using namespace std::chrono_literals;

// The structured log lines of `path` (those that start with a timestamp); other output,
// e.g. gRPC's own, is not ours to name.
std::vector<std::string> LogLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.size() > 20 && line[4] == '-' && line[10] == 'T' &&
        line.find(" event=") != line.npos) {
      lines.push_back(line);
    }
  }
  return lines;
}

// Waits until `path` holds a line with `event`, then checks every line names `node`.
void ExpectEveryLineNames(const std::string& path, const std::string& event,
                          const std::string& node) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  std::vector<std::string> lines;
  auto has_event = [&] {
    for (const std::string& l : lines) {
      if (l.find(" event=" + event) != l.npos) return true;
    }
    return false;
  };
  while ((lines = LogLines(path), !has_event()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(has_event()) << path << " never logged event=" << event;
  for (const std::string& l : lines) {
    EXPECT_NE(l.find(" node=" + node + " "), l.npos) << path << ": " << l;
  }
}

TEST(NodeNameTest, EveryBinaryLogsTheNameItWasGiven) {
  KvsGroupOptions options;
  options.replicas = 1;
  options.extra_flags = {"--node_name=store-one"};
  auto group = KvsGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  const std::string dir = (*group)->dir();
  const std::string spec = (*group)->spec();

  const int http = FreePort(), grpc_port = FreePort(), fe = FreePort();
  const int smtp = FreePort(), pop3 = FreePort();
  auto coordinator =
      Process::Start(BinaryPath("coordinator"),
                     {absl::StrCat("--http_port=", http), absl::StrCat("--grpc_port=", grpc_port),
                      "--kvs=" + spec, "--io_threads=1", "--node_name=front-door"},
                     dir + "/coordinator.log");
  ASSERT_TRUE(coordinator.ok()) << coordinator.status();
  auto frontend = Process::Start(
      BinaryPath("frontend"),
      {absl::StrCat("--port=", fe), "--kvs=" + spec,
       absl::StrCat("--coordinator=127.0.0.1:", grpc_port), "--web_root=" + SourcePath("web"),
       "--io_threads=1", "--workers=2", "--node_name=web-a"},
      dir + "/frontend.log");
  ASSERT_TRUE(frontend.ok()) << frontend.status();
  auto smtp_p = Process::Start(BinaryPath("smtp"),
                               {absl::StrCat("--port=", smtp), "--kvs=" + spec, "--tls=false",
                                "--relay=false", "--state_dir=" + dir, "--node_name=mx-a"},
                               dir + "/smtp.log");
  ASSERT_TRUE(smtp_p.ok()) << smtp_p.status();
  auto pop3_p = Process::Start(BinaryPath("pop3"),
                               {absl::StrCat("--port=", pop3), "--kvs=" + spec, "--tls=false",
                                "--state_dir=" + dir, "--node_name=inbox-a"},
                               dir + "/pop3.log");
  ASSERT_TRUE(pop3_p.ok()) << pop3_p.status();

  ExpectEveryLineNames(dir + "/replica-1.log", "kvs.serving", "store-one");
  ExpectEveryLineNames(dir + "/frontend.log", "frontend.listening", "web-a");
  ExpectEveryLineNames(dir + "/smtp.log", "smtp.listening", "mx-a");
  ExpectEveryLineNames(dir + "/pop3.log", "pop3.listening", "inbox-a");
  // The coordinator logs the frontend's first heartbeat, under its own name.
  ExpectEveryLineNames(dir + "/coordinator.log", "coordinator.node_up", "front-door");

  // The frontend's heartbeats carry the same name to the coordinator (the admin console).
  auto stub = coordinator::pb::Coordinator::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port), tls::ChannelCredentials()));
  std::string reported;
  for (int i = 0; i < 50 && reported.empty(); ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 1s);
    coordinator::pb::ListNodesRequest req;
    req.set_kind("frontend");
    coordinator::pb::ListNodesResponse res;
    if (stub->ListNodes(&ctx, req, &res).ok() && res.nodes_size() == 1) {
      reported = res.nodes(0).name();
    }
    if (reported.empty()) std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(reported, "web-a");
}

TEST(NodeNameTest, ADataGroupReplicaDerivesItsNameFromGroupAndId) {
  KvsGroupOptions options;
  options.replicas = 1;
  options.extra_flags = {"--group=7"};
  auto group = KvsGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  ExpectEveryLineNames((*group)->dir() + "/replica-1.log", "kvs.serving", "kvs-g7-1");
}

}  // namespace
}  // namespace penncloud::testing
