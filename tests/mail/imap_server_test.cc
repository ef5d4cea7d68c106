// The imap binary's connection handling at its edges (imap_edges.py): the line limit, a
// literal of megabytes each way over TLS, the caps per client address and per port, BYE
// to every connection on SIGTERM, and the idle timeout.
#include <sys/wait.h>

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/mail/mail_system.h"

namespace penncloud::testing {
namespace {

using ::testing::HasSubstr;

class ImapServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto system = MailSystem::Start();
    ASSERT_TRUE(system.ok()) << system.status();
    sys_ = std::move(*system);
  }

  void StartImap(std::vector<std::string> flags = {}) {
    imap_port_ = FreePort();
    imaps_port_ = FreePort();
    flags.insert(flags.end(), {"--port=" + std::to_string(imap_port_),
                               "--imaps_port=" + std::to_string(imaps_port_),
                               "--kvs=" + sys_->kvs_spec(), "--state_dir=" + sys_->dir()});
    auto imap = Process::Start(BinaryPath("imap"), flags, sys_->dir() + "/imap.log");
    ASSERT_TRUE(imap.ok()) << imap.status();
    imap_ = std::move(*imap);
    ASSERT_TRUE(WaitForPort(imap_port_) && WaitForPort(imaps_port_));
  }

  ShResult Edges(const std::string& scenario) {
    return Sh("/usr/bin/python3 " + MailSystem::Script("imap_edges.py") + " " + scenario + " " +
              std::to_string(imap_port_) + " " + std::to_string(imaps_port_) + " " +
              std::to_string(imap_.pid()) + " alice " + MailSystem::kAlicePassword);
  }

  std::unique_ptr<MailSystem> sys_;
  Process imap_;
  int imap_port_ = 0, imaps_port_ = 0;
};

TEST_F(ImapServerTest, ALineOverTheLimitIsRefusedAndTheSessionGoesOn) {
  StartImap();
  ShResult r = Edges("long_line");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("too_long * BAD [TOOBIG]"));
  EXPECT_THAT(r.output, HasSubstr("after x2 OK"));
}

TEST_F(ImapServerTest, MegabytesGoInAndOutWholeOverTls) {
  StartImap();
  ShResult r = Edges("big_literal");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("go_ahead +"));
  EXPECT_THAT(r.output, HasSubstr("append b OK [APPENDUID"));
  EXPECT_THAT(r.output, HasSubstr("size_equal True"));
  EXPECT_THAT(r.output, HasSubstr("same True"));
  EXPECT_THAT(r.output, HasSubstr("fetch d OK"));
}

TEST_F(ImapServerTest, CapsPerAddressAndPerPortRefuseWithByeAndFreeOnClose) {
  StartImap({"--max_connections=3", "--max_connections_per_address=2"});
  ShResult r = Edges("caps");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("first_two * OK * OK"));
  EXPECT_THAT(r.output, HasSubstr("third_same_address * BYE Too many connections"));
  EXPECT_THAT(r.output, HasSubstr("other_address * OK"));
  EXPECT_THAT(r.output, HasSubstr("over_port_cap * BYE Too many connections"));
  EXPECT_THAT(r.output, HasSubstr("after_close * OK"));
}

TEST_F(ImapServerTest, StopSaysByeToQuietAndIdlingConnectionsAndExits) {
  StartImap();
  ShResult r = Edges("stop");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("idle +"));
  EXPECT_THAT(r.output, HasSubstr("quiet_bye * BYE Server shutting down"));
  EXPECT_THAT(r.output, HasSubstr("quiet_then closed"));
  EXPECT_THAT(r.output, HasSubstr("idle_bye * BYE Server shutting down"));
  int status = imap_.Wait(std::chrono::seconds(15));
  ASSERT_NE(status, -1) << "still running 15 s after SIGTERM";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(ImapServerTest, AQuietConnectionIsClosedAfterTheIdleTimeout) {
  StartImap({"--idle_timeout_s=1"});
  ShResult r = Edges("idle_timeout");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("closed yes"));
  EXPECT_THAT(r.output, ::testing::ContainsRegex("after_s [0-9]\n"));
}

}  // namespace
}  // namespace penncloud::testing
