// The SMTP and POP3 servers' input limits, from Python's smtplib/poplib against the real
// processes: each limit once exactly at the edge (taken) and once one byte or one item over
// (refused with a clear reply, the session going on, nothing stored). The edges are the
// constants in mail/protocols.h and SmtpConfig; limits_client.py names each step.
#include <map>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/mail/mail_system.h"

namespace penncloud::testing {
namespace {

constexpr int kMaxMessageBytes = 100000;  // small, so the test sends little

TEST(MailLimitsTest, EachLimitTakesItsEdgeAndRefusesOneMore) {
  auto sys = MailSystem::Start({"--max_message_bytes=" + std::to_string(kMaxMessageBytes)});
  ASSERT_TRUE(sys.ok()) << sys.status();
  ShResult r = Sh("/usr/bin/python3 " + MailSystem::Script("limits_client.py") + " " +
                  std::to_string((*sys)->smtp_port()) + " " + std::to_string((*sys)->pop3_port()) +
                  " " + std::to_string(kMaxMessageBytes) + " " + MailSystem::kAlicePassword);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::map<std::string, std::string> got;
  std::istringstream lines(r.output);
  for (std::string name, value; lines >> name >> value;) got[name] = value;
  ASSERT_EQ(got["done"], "1") << r.output;

  // SMTP commands: 4096 bytes with the CRLF.
  EXPECT_EQ(got["smtp_command_at_cap"], "250");
  EXPECT_EQ(got["smtp_command_over_cap"], "500");
  EXPECT_EQ(got["smtp_after_long_command"], "250");
  // Recipients: 100 per message.
  EXPECT_EQ(got["smtp_recipients_at_cap"], "250");
  EXPECT_EQ(got["smtp_recipient_over_cap"], "452");
  // Message size, announced and sent.
  EXPECT_EQ(got["smtp_size_param_at_cap"], "250");
  EXPECT_EQ(got["smtp_size_param_over_cap"], "552");
  EXPECT_EQ(got["smtp_message_at_cap"], "250");
  EXPECT_EQ(got["smtp_message_at_cap_then_noop"], "250");
  EXPECT_EQ(got["smtp_message_over_cap"], "552");
  EXPECT_EQ(got["smtp_message_over_cap_then_noop"], "250");
  // One DATA line: 64 KiB without its CRLF.
  EXPECT_EQ(got["smtp_data_line_at_cap"], "250");
  EXPECT_EQ(got["smtp_data_line_over_cap"], "552");
  EXPECT_EQ(got["smtp_data_line_over_cap_then_noop"], "250");
  // POP3 lines: 1024 bytes without the CRLF, whether the line came in one read or many.
  EXPECT_NE(got["pop3_line_at_cap"], "-ERR_Line_too_long");
  EXPECT_EQ(got["pop3_line_over_cap"], "-ERR_Line_too_long");
  EXPECT_EQ(got["pop3_line_far_over_cap"], "-ERR_Line_too_long");
  for (const char* step : {"pop3_line_at_cap", "pop3_line_over_cap", "pop3_line_far_over_cap"}) {
    EXPECT_EQ(got[std::string(step) + "_then_capa"], "+OK") << step;
  }
  // Only what was taken is in the mailbox, and whole.
  EXPECT_EQ(got["stored"], "at-line-cap,at-size-cap");
  EXPECT_EQ(got["stored_long_line"], std::to_string(64 << 10));
}

}  // namespace
}  // namespace penncloud::testing
