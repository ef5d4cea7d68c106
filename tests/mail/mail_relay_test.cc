// Outbound relay through the durable queue to a local sink server: delivered when the sink
// is up, retried while it is down, bounced to the sender when it refuses.
#include <chrono>
#include <filesystem>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/mail/mail_system.h"

namespace penncloud::testing {
namespace {

using ::testing::HasSubstr;

class MailRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto system = MailSystem::Start({"--relay_max_attempts=30"});
    ASSERT_TRUE(system.ok()) << system.status();
    sys_ = std::move(*system);
    sink_dir_ = sys_->dir() + "/sink";
  }
  absl::StatusOr<Process> StartSink(const std::string& mode) {
    auto p = Process::Start(
        "/usr/bin/python3",
        {MailSystem::Script("sink.py"), std::to_string(sys_->sink_port()), sink_dir_, mode},
        sys_->dir() + "/sink-" + mode + ".log");
    if (p.ok() && !WaitForPort(sys_->sink_port())) return absl::UnavailableError("sink");
    return p;
  }
  ShResult SendAuthenticated(const std::string& to) {
    return Sh("swaks --server 127.0.0.1 --port " + std::to_string(sys_->smtp_port()) +
              " --tls --auth PLAIN --auth-user alice --auth-password " +
              MailSystem::kAlicePassword + " --from alice@penncloud.local --to " + to +
              " --header 'Subject: outbound'");
  }
  int SinkCount() {
    if (!std::filesystem::exists(sink_dir_)) return 0;
    int n = 0;
    for (auto& e : std::filesystem::directory_iterator(sink_dir_)) n += e.is_regular_file();
    return n;
  }
  ShResult AliceStat() {
    return Sh("/usr/bin/python3 " + MailSystem::Script("pop3_client.py") + " " +
              std::to_string(sys_->pop3_port()) + " alice " + MailSystem::kAlicePassword + " stat");
  }

  std::unique_ptr<MailSystem> sys_;
  std::string sink_dir_;
};

TEST_F(MailRelayTest, RetriesWhileSinkIsDownThenDelivers) {
  ShResult r = SendAuthenticated("carol@example.com");
  ASSERT_EQ(r.exit_code, 0) << r.output;                 // queued durably although the sink is down
  std::this_thread::sleep_for(std::chrono::seconds(2));  // a few failed attempts
  EXPECT_EQ(SinkCount(), 0);
  auto sink = StartSink("accept");
  ASSERT_TRUE(sink.ok()) << sink.status();
  for (int i = 0; i < 100 && SinkCount() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(SinkCount(), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(SinkCount(), 1);                             // delivered once, not again
  EXPECT_THAT(AliceStat().output, HasSubstr("stat 0"));  // and no bounce
}

TEST_F(MailRelayTest, RefusalBouncesToTheSender) {
  auto sink = StartSink("reject");
  ASSERT_TRUE(sink.ok()) << sink.status();
  ShResult r = SendAuthenticated("nobody@example.com");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string stat;
  for (int i = 0; i < 100; ++i) {
    stat = AliceStat().output;
    if (stat.find("stat 1") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_THAT(stat, HasSubstr("stat 1"));
  ShResult bounce =
      Sh("curl -sS --ssl-reqd -k pop3://alice:" + std::string(MailSystem::kAlicePassword) +
         "@127.0.0.1:" + std::to_string(sys_->pop3_port()) + "/1");
  EXPECT_THAT(bounce.output, HasSubstr("Undelivered Mail Returned to Sender"));
  EXPECT_THAT(bounce.output, HasSubstr("<nobody@example.com>: 550 5.1.1"));
  EXPECT_THAT(bounce.output, HasSubstr("Subject: outbound"));
  EXPECT_EQ(SinkCount(), 0);
}

}  // namespace
}  // namespace penncloud::testing
