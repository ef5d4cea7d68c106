// A whole mail system for process tests: a real 3-replica KVS group, the smtp and pop3
// binaries on free loopback ports (each with its implicit-TLS port too), and two accounts (alice,
// bob) made through the accounts library. Clients under test (curl, swaks, smtplib, poplib,
// fetchmail) are run as shell commands with Sh().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"
#include "tests/support/kvs_group.h"
#include "tests/support/process.h"

namespace penncloud::testing {

struct ShResult {
  int exit_code;
  std::string output;  // stdout and stderr together
};
// Runs `command` under bash (with a 120 s `timeout`).
ShResult Sh(const std::string& command);

class MailSystem {
 public:
  static absl::StatusOr<std::unique_ptr<MailSystem>> Start(
      std::vector<std::string> extra_smtp_flags = {},
      std::vector<std::string> extra_pop3_flags = {});
  ~MailSystem();

  absl::Status StartSmtp();
  void KillSmtp() { smtp_.Kill(); }

  int smtp_port() const { return smtp_port_; }
  int pop3_port() const { return pop3_port_; }
  int smtps_port() const { return smtps_port_; }  // implicit TLS (RFC 8314)
  int pop3s_port() const { return pop3s_port_; }
  int sink_port() const { return sink_port_; }
  const std::string& dir() const { return dir_; }
  kvs::Client& kvs() { return *kvs_; }
  // The replica group's --kvs flag, for starting more processes on the same store.
  std::string kvs_spec() const { return group_->spec(); }
  // The helper scripts beside this file.
  static std::string Script(const std::string& name);

  // One fetchmail run as alice against 127.0.0.1 over implicit TLS, keeping the messages on
  // the server; `poll_options` name the protocol and port ("protocol pop3 port 995 uidl").
  struct Fetched {
    ShResult run;
    std::string mbox;  // what it delivered, as an mbox
  };
  Fetched FetchmailAsAlice(const std::string& poll_options) const;

  static constexpr const char* kAlicePassword = "alice-secret-1";
  static constexpr const char* kBobPassword = "bob-secret-12";

 private:
  std::unique_ptr<KvsGroup> group_;
  std::unique_ptr<kvs::Client> kvs_;
  std::vector<std::string> extra_smtp_flags_;
  Process smtp_, pop3_;
  int smtp_port_ = 0, pop3_port_ = 0, smtps_port_ = 0, pop3s_port_ = 0, sink_port_ = 0;
  std::string dir_;
};

}  // namespace penncloud::testing
