// What an idle IMAP connection costs the real imap binary: a thousand connections that sit
// after the greeting, and a thousand logged in and waiting in IDLE, may each grow the
// server's memory (Rss, Pss, Private_Dirty) by at most 64 KiB; and with the thousand
// idling, one more IDLE client still hears of an SMTP delivery within a second
// (imap_crowd.py).
#include <sys/resource.h>

#include <map>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/mail/mail_system.h"

namespace penncloud::testing {
namespace {

constexpr int kCrowd = 1000;
constexpr int64_t kMaxBytesPerConnection = 64 << 10;

class ImapMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Both ends of every connection live on this machine: the client and the server each
    // need kCrowd descriptors and then some.
    rlimit files{};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &files), 0);
    files.rlim_cur = files.rlim_max;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &files), 0);
    ASSERT_GE(files.rlim_cur, static_cast<rlim_t>(2 * kCrowd + 200)) << "raise the hard limit";

    auto system = MailSystem::Start();
    ASSERT_TRUE(system.ok()) << system.status();
    sys_ = std::move(*system);
    imap_port_ = FreePort();
    imaps_port_ = FreePort();
    auto imap = Process::Start(
        BinaryPath("imap"),
        {"--port=" + std::to_string(imap_port_), "--imaps_port=" + std::to_string(imaps_port_),
         "--kvs=" + sys_->kvs_spec(), "--state_dir=" + sys_->dir(),
         "--max_connections=" + std::to_string(2 * kCrowd), "--max_connections_per_address=0",
         "--login_attempts_per_minute=0"},
        sys_->dir() + "/imap.log");
    ASSERT_TRUE(imap.ok()) << imap.status();
    imap_ = std::move(*imap);
    ASSERT_TRUE(WaitForPort(imap_port_) && WaitForPort(imaps_port_));
  }

  // Runs imap_crowd.py; returns its "key value" lines.
  std::map<std::string, std::string> Crowd(const std::string& mode, int port) {
    ShResult r = Sh("/usr/bin/python3 " + MailSystem::Script("imap_crowd.py") + " " + mode + " " +
                    std::to_string(port) + " " + std::to_string(imap_.pid()) + " alice " +
                    MailSystem::kAlicePassword + " " + std::to_string(kCrowd) + " " +
                    std::to_string(sys_->smtp_port()));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::cout << r.output;  // the figures, for the log
    std::map<std::string, std::string> result;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
      if (size_t space = line.find(' '); space != std::string::npos) {
        result[line.substr(0, space)] = line.substr(space + 1);
      }
    }
    EXPECT_EQ(result["done"], "ok") << r.output;
    return result;
  }

  static void ExpectSmall(std::map<std::string, std::string>& figures) {
    for (const char* key : {"Rss", "Pss", "Private_Dirty"}) {
      std::string name = std::string("per_connection_") + key + "_bytes";
      ASSERT_FALSE(figures[name].empty()) << name;
      EXPECT_LE(std::stoll(figures[name]), kMaxBytesPerConnection) << name;
    }
  }

  std::unique_ptr<MailSystem> sys_;
  Process imap_;
  int imap_port_ = 0, imaps_port_ = 0;
};

TEST_F(ImapMemoryTest, AThousandConnectionsAfterTheGreetingCostAtMost64KiBEach) {
  auto figures = Crowd("greeting", imap_port_);
  ExpectSmall(figures);
}

TEST_F(ImapMemoryTest, AThousandIdlingSessionsCostAtMost64KiBEachAndPushStillTakesUnderASecond) {
  auto figures = Crowd("idle", imaps_port_);
  ExpectSmall(figures);
  EXPECT_THAT(figures["pushed"], ::testing::MatchesRegex("\\* [0-9]+ EXISTS"));
  ASSERT_FALSE(figures["push_ms"].empty());
  EXPECT_LT(std::stoi(figures["push_ms"]), 1000);
  EXPECT_THAT(figures["done_reply"], ::testing::HasSubstr("OK IDLE terminated"));
}

}  // namespace
}  // namespace penncloud::testing
