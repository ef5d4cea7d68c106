// The fixture of the IMAP process tests: a MailSystem (KVS group, smtp, pop3) plus the
// imap binary on free loopback ports (STARTTLS and implicit TLS), and helpers to deliver
// mail into alice's Inbox and run the Python client scenarios.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mail/mail_store.h"
#include "tests/mail/mail_system.h"

namespace penncloud::testing {

class ImapSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto system = MailSystem::Start();
    ASSERT_TRUE(system.ok()) << system.status();
    sys_ = std::move(*system);
    imap_port_ = FreePort();
    imaps_port_ = FreePort();
    std::vector<std::string> args = {
        "--port=" + std::to_string(imap_port_), "--imaps_port=" + std::to_string(imaps_port_),
        "--kvs=" + sys_->kvs_spec(), "--state_dir=" + sys_->dir(), "--idle_poll_ms=100"};
    for (std::string& flag : ExtraImapFlags()) args.push_back(std::move(flag));
    auto imap = Process::Start(BinaryPath("imap"), args, sys_->dir() + "/imap.log");
    ASSERT_TRUE(imap.ok()) << imap.status();
    imap_ = std::move(*imap);
    ASSERT_TRUE(WaitForPort(imap_port_) && WaitForPort(imaps_port_));
  }
  // Flags for the imap binary beyond the ports, the store and a 100 ms IDLE poll.
  virtual std::vector<std::string> ExtraImapFlags() const { return {}; }
  ShResult Imap(const std::string& scenario, const std::string& extra = "", int port = 0) {
    return Sh("/usr/bin/python3 " + MailSystem::Script("imap_client.py") + " " +
              std::to_string(port ? port : imap_port_) + " alice " + MailSystem::kAlicePassword +
              " " + scenario + " " + extra);
  }
  void Deliver(const std::string& subject) {
    mail::MailStore store(sys_->kvs());
    auto added =
        store.Add("alice", mail::kInbox,
                  "From: bob@example.com\r\nTo: alice@penncloud.local\r\nSubject: " + subject +
                      "\r\n\r\nbody of " + subject + "\r\n",
                  false);
    ASSERT_TRUE(added.ok()) << added.status();
  }

  std::unique_ptr<MailSystem> sys_;
  Process imap_;
  int imap_port_ = 0, imaps_port_ = 0;
};

}  // namespace penncloud::testing
