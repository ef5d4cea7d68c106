// What an idle IMAP session costs the store, with the IDLE wakes from a KVS watch
// (--idle_watch, the default) and from the old 200 ms poll: the KVS calls the replicas
// count (Status.client_requests_total) while one session idles on an unchanged Inbox,
// less what the same system costs with no session at all.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "kvs/client/replica_group_client.h"
#include "tests/mail/mail_system.h"

namespace penncloud::testing {
namespace {

using Clock = std::chrono::steady_clock;

class ImapIdleCostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto system = MailSystem::Start();
    ASSERT_TRUE(system.ok()) << system.status();
    sys_ = std::move(*system);
  }

  // KVS calls per second received by the group over `window`.
  double RequestRate(std::chrono::seconds window) {
    auto total = [&] {
      uint64_t sum = 0;
      kvs::ReplicaGroupClient group(absl::StrSplit(sys_->kvs_spec(), ','));
      for (auto& [address, status] : group.StatusAll()) {
        if (status.ok()) sum += status->client_requests_total();
      }
      return sum;
    };
    const uint64_t before = total();
    std::this_thread::sleep_for(window);  // the measuring window itself
    return static_cast<double>(total() - before) / static_cast<double>(window.count());
  }

  // Starts imap with `flag`, idles one session on the Inbox and returns the extra KVS
  // calls per second that session causes.
  double IdleSessionCost(const std::string& flag) {
    const int port = FreePort();
    auto imap = Process::Start(BinaryPath("imap"),
                               {"--port=" + std::to_string(port), "--kvs=" + sys_->kvs_spec(),
                                "--state_dir=" + sys_->dir(), flag},
                               sys_->dir() + "/imap" + flag + ".log");
    EXPECT_TRUE(imap.ok()) << imap.status();
    EXPECT_TRUE(WaitForPort(port));
    const double quiet = RequestRate(std::chrono::seconds(4));
    const std::string log = sys_->dir() + "/idle" + flag + ".log";
    auto client = Process::Start("/usr/bin/python3",
                                 {MailSystem::Script("imap_client.py"), std::to_string(port),
                                  "alice", MailSystem::kAlicePassword, "idle_quietly", "8"},
                                 log);
    EXPECT_TRUE(client.ok()) << client.status();
    // Measure once the session is idling (bounded wait on its log).
    bool idling = false;
    for (const auto until = Clock::now() + std::chrono::seconds(15);
         !idling && Clock::now() < until;) {
      std::ifstream in(log);
      std::stringstream text;
      text << in.rdbuf();
      idling = text.str().find("idle_reply + idling") != std::string::npos;
      if (!idling) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(idling);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the first look settles
    const double idle = RequestRate(std::chrono::seconds(4));
    std::printf("imap %s: %.1f KVS calls/s with no session, %.1f with one idling\n", flag.c_str(),
                quiet, idle);
    return idle - quiet;
  }

  std::unique_ptr<MailSystem> sys_;
};

TEST_F(ImapIdleCostTest, AnIdleSessionCostsTheStoreAlmostNothingWithWatches) {
  const double polled = IdleSessionCost("--idle_watch=false");
  const double watched = IdleSessionCost("--idle_watch=true");
  std::printf("one idle IMAP session: %.1f KVS calls/s polled (200 ms), %.1f watched\n", polled,
              watched);
  // Polling reads the folder's cell five times a second; a watch parks one call per 10 s
  // fallback and reads once then. The other binaries' own traffic (the relay's queue
  // reads) moves the baseline by a call or two a second, hence the loose bound.
  EXPECT_GT(polled, 3.0);
  EXPECT_LT(watched, polled / 4);
}

}  // namespace
}  // namespace penncloud::testing
