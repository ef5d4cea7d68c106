#include "tests/mail/mail_system.h"

#include <cstdio>
#include <fstream>
#include <iterator>

#include "accounts/accounts.h"
#include "accounts/sending_policy.h"
#include "kvs/client/connect.h"

namespace penncloud::testing {

ShResult Sh(const std::string& command) {
  std::string wrapped = "timeout 120 bash -c '";
  for (char c : command) {
    if (c == '\'') {
      wrapped += "'\\''";
    } else {
      wrapped += c;
    }
  }
  wrapped += "' 2>&1";
  ShResult result{-1, ""};
  FILE* pipe = popen(wrapped.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

MailSystem::Fetched MailSystem::FetchmailAsAlice(const std::string& poll_options) const {
  const std::string rc = dir_ + "/fetchmailrc";
  const std::string mbox = dir_ + "/fetched.mbox";
  std::ofstream(rc) << "set no syslog\npoll 127.0.0.1 " << poll_options
                    << "\n  user \"alice\" password \"" << kAlicePassword
                    << "\" keep ssl no sslcertck mda \"cat >> " << mbox << "\"\n";
  Fetched out;
  out.run = Sh("chmod 600 " + rc + " && HOME=" + dir_ + " fetchmail -f " + rc + " -i " + dir_ +
               "/fetchids -v 2>&1");
  std::ifstream in(mbox);
  out.mbox.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return out;
}

std::string MailSystem::Script(const std::string& name) { return SourcePath("tests/mail/" + name); }

absl::StatusOr<std::unique_ptr<MailSystem>> MailSystem::Start(
    std::vector<std::string> extra_smtp_flags, std::vector<std::string> extra_pop3_flags) {
  auto system = std::unique_ptr<MailSystem>(new MailSystem());
  system->extra_smtp_flags_ = std::move(extra_smtp_flags);
  auto group = KvsGroup::Start();
  if (!group.ok()) return group.status();
  system->group_ = std::move(*group);
  auto kvs = kvs::Connect(system->group_->spec());
  if (!kvs.ok()) return kvs.status();
  system->kvs_ = std::move(*kvs);
  accounts::Options options;
  options.hash_params = accounts::kTestHashParams;
  accounts::Accounts accounts(system->kvs_.get(), options);
  // Both may send to other domains at once (an admin's allowance; new accounts wait).
  accounts::SendingPolicy sending(system->kvs_.get());
  for (auto [user, password] : {std::pair{"alice", kAlicePassword}, {"bob", kBobPassword}}) {
    auto s = accounts.SignUp(user, password);
    if (!s.ok()) return s.status();
    if (auto allowed = sending.SetAllowed(user, true); !allowed.ok()) return allowed;
  }
  system->dir_ = TempDir("penncloud-mail");
  system->smtp_port_ = FreePort();
  system->smtps_port_ = FreePort();
  system->sink_port_ = FreePort();
  if (auto s = system->StartSmtp(); !s.ok()) return s;
  system->pop3_port_ = FreePort();
  system->pop3s_port_ = FreePort();
  std::vector<std::string> pop3_args = {"--port=" + std::to_string(system->pop3_port_),
                                        "--pop3s_port=" + std::to_string(system->pop3s_port_),
                                        "--kvs=" + system->group_->spec(),
                                        "--state_dir=" + system->dir_};
  for (const auto& f : extra_pop3_flags) pop3_args.push_back(f);
  auto pop3 = Process::Start(BinaryPath("pop3"), pop3_args, system->dir_ + "/pop3.log");
  if (!pop3.ok()) return pop3.status();
  system->pop3_ = std::move(*pop3);
  if (!WaitForPort(system->pop3_port_) || !WaitForPort(system->pop3s_port_)) {
    return absl::UnavailableError("pop3 did not start");
  }
  return system;
}

MailSystem::~MailSystem() {
  smtp_.Kill();
  pop3_.Kill();
  RemoveTestDir(dir_);
}

absl::Status MailSystem::StartSmtp() {
  std::vector<std::string> args = {"--port=" + std::to_string(smtp_port_),
                                   "--smtps_port=" + std::to_string(smtps_port_),
                                   "--kvs=" + group_->spec(),
                                   "--state_dir=" + dir_,
                                   "--smarthost=127.0.0.1:" + std::to_string(sink_port_),
                                   "--relay_poll_ms=100",
                                   "--relay_retry_base_ms=300",
                                   "--relay_timeout_ms=3000"};
  for (const auto& f : extra_smtp_flags_) args.push_back(f);
  auto smtp = Process::Start(BinaryPath("smtp"), args, dir_ + "/smtp.log");
  if (!smtp.ok()) return smtp.status();
  smtp_ = std::move(*smtp);
  if (!WaitForPort(smtp_port_) || !WaitForPort(smtps_port_)) {
    return absl::UnavailableError("smtp did not start");
  }
  return absl::OkStatus();
}

}  // namespace penncloud::testing
