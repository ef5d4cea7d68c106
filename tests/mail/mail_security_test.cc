// The mail tier's edges under attack (issue 16), with real clients against the real smtp
// and pop3 processes: no login in clear, the implicit-TLS ports, no spoofed local senders,
// no SMTP smuggling, parallel password guesses that each cost a back-off step, and caps
// per client address.
#include <string>

#include "absl/strings/numbers.h"
#include "accounts/accounts.h"
#include "accounts/sending_policy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/mail/mail_system.h"

namespace penncloud::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class MailSecurityTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> smtp_flags = {}, std::vector<std::string> pop3_flags = {}) {
    auto system = MailSystem::Start(std::move(smtp_flags), std::move(pop3_flags));
    ASSERT_TRUE(system.ok()) << system.status();
    sys_ = std::move(*system);
  }
  ShResult Client(const std::string& args) {
    return Sh("/usr/bin/python3 " + MailSystem::Script("security_client.py") + " " + args);
  }
  std::string Ports() {
    return std::to_string(sys_->smtp_port()) + " " + std::to_string(sys_->pop3_port());
  }
  std::string Swaks(int port, const std::string& args) {
    return Sh("swaks --server 127.0.0.1 --port " + std::to_string(port) + " --timeout 20 " + args)
        .output;
  }
  std::string Stat(const std::string& user, const std::string& password) {
    return Sh("/usr/bin/python3 " + MailSystem::Script("pop3_client.py") + " " +
              std::to_string(sys_->pop3_port()) + " " + user + " " + password + " stat")
        .output;
  }
  // The number after "`key` " at the start of a line of `output`; -1 if there is none.
  static int Field(const std::string& output, const std::string& key) {
    size_t at = ("\n" + output).find("\n" + key + " ");
    int value = -1;
    if (at == std::string::npos) return value;
    size_t start = at + key.size() + 1;
    if (!absl::SimpleAtoi(output.substr(start, output.find('\n', start) - start), &value))
      return -1;
    return value;
  }
  // The account's failure count as stored ("" if none).
  std::string FailCount(const std::string& user) {
    auto cell = sys_->kvs().Get("acct/" + user, "fail");
    if (!cell.ok()) return "";
    return cell->substr(0, cell->find(' '));
  }

  std::unique_ptr<MailSystem> sys_;
};

TEST_F(MailSecurityTest, NoLoginBeforeTls) {
  Start();
  ShResult r = Client("cleartext " + Ports() + " alice " + MailSystem::kAlicePassword);
  EXPECT_THAT(r.output, HasSubstr("smtp_ehlo_auth False"));
  EXPECT_THAT(r.output, HasSubstr("smtp_auth_reply 530"));
  EXPECT_THAT(r.output, HasSubstr("smtp_tls_ehlo_auth True"));
  EXPECT_THAT(r.output, HasSubstr("smtp_tls_login 235"));
  EXPECT_THAT(r.output, HasSubstr("pop3_capa_user False"));
  EXPECT_THAT(r.output, Not(HasSubstr("pop3_reply +OK")));
  EXPECT_THAT(r.output, HasSubstr("pop3_reply -ERR [AUTH] Plaintext authentication disallowed"));
  EXPECT_THAT(r.output, HasSubstr("pop3_tls_capa_user True"));
  EXPECT_THAT(r.output, HasSubstr("pop3_tls_login +OK"));
  // swaks: AUTH without TLS finds nothing to use; with --tls it logs in.
  std::string clear =
      Swaks(sys_->smtp_port(), std::string("--auth PLAIN --auth-user alice ") + "--auth-password " +
                                   MailSystem::kAlicePassword +
                                   " --from alice@penncloud.local --to bob@penncloud.local");
  EXPECT_THAT(clear, Not(HasSubstr("235 2.7.0")));
  std::string tls =
      Swaks(sys_->smtp_port(), std::string("--tls --auth PLAIN --auth-user alice ") +
                                   "--auth-password " + MailSystem::kAlicePassword +
                                   " --from alice@penncloud.local --to bob@penncloud.local");
  EXPECT_THAT(tls, HasSubstr("235 2.7.0"));
  // curl's POP3 client: refused in clear, fine with STLS.
  std::string url = "pop3://alice:" + std::string(MailSystem::kAlicePassword) +
                    "@127.0.0.1:" + std::to_string(sys_->pop3_port()) + "/";
  EXPECT_NE(Sh("curl -sS --max-time 20 " + url).exit_code, 0);
  EXPECT_EQ(Sh("curl -sS --max-time 20 --ssl-reqd -k " + url).exit_code, 0);
}

TEST_F(MailSecurityTest, ImplicitTlsPorts) {
  Start();
  ShResult r = Client("implicit " + std::to_string(sys_->smtps_port()) + " " +
                      std::to_string(sys_->pop3s_port()) + " alice " + MailSystem::kAlicePassword);
  EXPECT_THAT(r.output, HasSubstr("smtps_starttls_offered False"));
  EXPECT_THAT(r.output, HasSubstr("smtps_sent ok"));
  EXPECT_THAT(r.output, HasSubstr("pop3s_stls_offered False"));
  EXPECT_THAT(r.output, HasSubstr("pop3s_stat 0"));
  // swaks --tlsc: TLS on connect, AUTH inside.
  std::string swaks =
      Swaks(sys_->smtps_port(), std::string("--tlsc --auth LOGIN --auth-user alice ") +
                                    "--auth-password " + MailSystem::kAlicePassword +
                                    " --from alice@penncloud.local --to bob@penncloud.local");
  EXPECT_THAT(swaks, HasSubstr("TLS started"));
  EXPECT_THAT(swaks, HasSubstr("235 2.7.0"));
  EXPECT_THAT(swaks, HasSubstr("250 2.0.0"));
  EXPECT_THAT(Stat("bob", MailSystem::kBobPassword), HasSubstr("stat 2"));
  // A client that speaks clear text to the TLS port gets nothing it can use.
  EXPECT_NE(Sh("curl -sS --max-time 10 smtp://127.0.0.1:" + std::to_string(sys_->smtps_port()) +
               " --mail-from x@example.com --mail-rcpt bob@penncloud.local -T /dev/null")
                .exit_code,
            0);
}

TEST_F(MailSecurityTest, NobodySendsAsSomeoneElse) {
  Start();
  const std::string alice_auth =
      std::string("--tls --auth PLAIN --auth-user alice --auth-password ") +
      MailSystem::kAlicePassword;
  // Without logging in: not as a local envelope sender, nor with a local From: header.
  EXPECT_THAT(Swaks(sys_->smtp_port(), "--from admin@penncloud.local --to alice@penncloud.local"),
              HasSubstr("550 5.7.1"));
  EXPECT_THAT(Swaks(sys_->smtp_port(),
                    "--from mallory@example.com --to alice@penncloud.local "
                    "--header 'From: PennCloud Admin <admin@penncloud.local>'"),
              HasSubstr("550 5.7.1"));
  // Logged in as alice: only alice, in the envelope and in From:.
  EXPECT_THAT(Swaks(sys_->smtp_port(),
                    alice_auth + " --from bob@penncloud.local --to alice@penncloud.local"),
              HasSubstr("553 5.7.1"));
  EXPECT_THAT(
      Swaks(sys_->smtp_port(), alice_auth + " --from ceo@example.com --to carol@example.com"),
      HasSubstr("553 5.7.1"));
  EXPECT_THAT(
      Swaks(sys_->smtp_port(), alice_auth + " --from alice@penncloud.local --to bob@penncloud.local"
                                            " --header 'From: Bob <bob@penncloud.local>'"),
      HasSubstr("553 5.7.1"));
  EXPECT_THAT(Stat("alice", MailSystem::kAlicePassword), HasSubstr("stat 0"));
  EXPECT_THAT(Stat("bob", MailSystem::kBobPassword), HasSubstr("stat 0"));
  // The honest versions still go through.
  EXPECT_THAT(
      Swaks(sys_->smtp_port(), alice_auth + " --from alice@penncloud.local --to bob@penncloud.local"
                                            " --header 'From: Alice <alice@penncloud.local>'"),
      HasSubstr("250 2.0.0"));
  EXPECT_THAT(Swaks(sys_->smtp_port(), "--from friend@example.com --to bob@penncloud.local"),
              HasSubstr("250 2.0.0"));
  EXPECT_THAT(Stat("bob", MailSystem::kBobPassword), HasSubstr("stat 2"));
}

TEST_F(MailSecurityTest, SmugglingWithBareLfIsRefused) {
  Start();
  ShResult r = Client("smuggle " + std::to_string(sys_->smtp_port()));
  EXPECT_THAT(r.output, HasSubstr("521 5.5.2"));
  // Nothing after the bare-LF dot ran: no second MAIL/RCPT/DATA reply, no 250 for a message.
  EXPECT_THAT(r.output, Not(HasSubstr("250 2.0.0")));
  EXPECT_THAT(r.output, Not(HasSubstr("250 2.1.0 Sender OK |")));
  EXPECT_THAT(Stat("alice", MailSystem::kAlicePassword), HasSubstr("stat 0"));
  EXPECT_THAT(Stat("bob", MailSystem::kBobPassword), HasSubstr("stat 0"));
}

// 16 wrong passwords at once, over SMTP AUTH and POP3: each one that reaches the password
// check has taken a back-off step first, so they cannot all be checked in one window.
TEST_F(MailSecurityTest, ParallelGuessesEachCostABackoffStep) {
  Start();
  constexpr int kGuesses = 16;
  ShResult r = Client("guess " + Ports() + " bob " + std::to_string(kGuesses));
  ASSERT_THAT(r.output, HasSubstr("other []")) << r.output;
  int checked = Field(r.output, "checked"), throttled = Field(r.output, "throttled");
  EXPECT_EQ(checked + throttled, kGuesses) << r.output;
  EXPECT_LT(checked, kGuesses) << r.output;
  // One step per checked guess, none lost to a race.
  EXPECT_EQ(FailCount("bob"), std::to_string(checked)) << r.output;
}

TEST_F(MailSecurityTest, PerAddressCapsOnConnectionsAndLogins) {
  Start({"--max_connections_per_address=3", "--login_attempts_per_minute=4"},
        {"--max_connections_per_address=3", "--login_attempts_per_minute=4"});
  for (int port : {sys_->smtp_port(), sys_->pop3_port()}) {
    ShResult r = Client("connections " + std::to_string(port) + " 4");
    EXPECT_THAT(r.output, HasSubstr("greeting 2 " +
                                    std::string(port == sys_->smtp_port() ? "220 " : "+OK ")));
    EXPECT_THAT(r.output, ::testing::AnyOf(HasSubstr("greeting 3 421 4.3.2"),
                                           HasSubstr("greeting 3 -ERR [SYS/TEMP]")))
        << r.output;
  }
  ShResult r = Client("attempts " + Ports() + " 5");
  EXPECT_THAT(r.output, HasSubstr("smtp_attempt 3 535"));
  EXPECT_THAT(r.output, HasSubstr("smtp_attempt 4 454 4.7.0 too many login attempts from your"));
  EXPECT_THAT(r.output, HasSubstr("pop3_attempt 3 -ERR [AUTH] Invalid"));
  EXPECT_THAT(r.output, HasSubstr("pop3_attempt 4 -ERR [AUTH] too many login attempts from your"));
  // Delivery needs no login and is not held back.
  EXPECT_THAT(Swaks(sys_->smtp_port(), "--from friend@example.com --to bob@penncloud.local"),
              HasSubstr("250 2.0.0"));
}

// A fresh account may write to local users only, until an admin allows it or the site's
// wait (site/mail new_account_external_days) has passed.
TEST_F(MailSecurityTest, NewAccountsSendOutsideOnlyOnceAllowed) {
  Start();
  accounts::Accounts accounts(&sys_->kvs(),
                              accounts::Options{.hash_params = accounts::kTestHashParams});
  ASSERT_TRUE(accounts.SignUp("newbie", "newbie-secret-1").ok());
  const std::string send =
      "--tls --auth PLAIN --auth-user newbie --auth-password newbie-secret-1 "
      "--from newbie@penncloud.local --to ";
  EXPECT_THAT(Swaks(sys_->smtp_port(), send + "carol@example.com"), HasSubstr("550 5.7.1"));
  EXPECT_THAT(Swaks(sys_->smtp_port(), send + "bob@penncloud.local"), HasSubstr("250 2.0.0"));
  accounts::SendingPolicy sending(&sys_->kvs());
  ASSERT_TRUE(sending.SetAllowed("newbie", true).ok());
  EXPECT_THAT(Swaks(sys_->smtp_port(), send + "carol@example.com"), HasSubstr("250 2.0.0"));
  // Or no wait at all for anyone.
  ASSERT_TRUE(accounts.SignUp("fresh", "fresh-secret-12").ok());
  ASSERT_TRUE(sending.SetWaitDays(0).ok());
  EXPECT_THAT(Swaks(sys_->smtp_port(),
                    "--tls --auth PLAIN --auth-user fresh --auth-password "
                    "fresh-secret-12 --from fresh@penncloud.local --to "
                    "carol@example.com"),
              HasSubstr("250 2.0.0"));
}

}  // namespace
}  // namespace penncloud::testing
