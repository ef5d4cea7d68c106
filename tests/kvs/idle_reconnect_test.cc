// A client channel connects to a server that came up after its first try with no call in
// flight (common/grpc_tls.cc, SetGrpcProcessDefaults). A sync client's sockets make
// progress only while some thread polls them; between the attempts of a retry loop nobody
// did but gRPC's backup poller, every 5 s, so a reconnect took one handshake step per 5 s
// and ran into its connect timeout: `kvsctl cluster init` against a group just started
// failed in about one try of three.
#include <chrono>
#include <thread>

#include "common/grpc_tls.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/support/kvs_group.h"
#include "tests/support/test_pki.h"

namespace penncloud::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Waits, without polling the channel's sockets itself, until `channel` is in `state`.
bool ReachesState(grpc::Channel& channel, grpc_connectivity_state state,
                  std::chrono::milliseconds within) {
  for (auto end = Clock::now() + within; Clock::now() < end;) {
    if (channel.GetState(/*try_to_connect=*/false) == state) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return channel.GetState(false) == state;
}

TEST(IdleReconnectTest, AChannelReachesALateServerWithNoCallInFlight) {
  TestPki::Shared();
  KvsGroupOptions options;
  options.replicas = 1;
  auto group = KvsGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  (*group)->Kill(0);
  // Tries every 200 ms whatever failed before, so the time to READY is the handshake's alone
  // (the default back-off grows past a second while the replica restarts on a busy machine).
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel((*group)->address(0), tls::ChannelCredentials(), args);
  channel->GetState(/*try_to_connect=*/true);
  ASSERT_TRUE(ReachesState(*channel, GRPC_CHANNEL_TRANSIENT_FAILURE, std::chrono::seconds(10)))
      << "nothing listens: the first try is refused";

  ASSERT_TRUE((*group)->Restart(0).ok());
  const auto listening = Clock::now();
  // The channel tries again within 200 ms and then needs a few handshake steps, each waiting
  // for a poll: well under a second with the 50 ms backup poll, about 5 s per step with
  // gRPC's default.
  EXPECT_TRUE(ReachesState(*channel, GRPC_CHANNEL_READY, std::chrono::seconds(3)))
      << "state " << channel->GetState(false) << " after "
      << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - listening).count()
      << " ms";
}

}  // namespace
}  // namespace penncloud::testing
