#include "tests/support/test_pki.h"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tests/support/process.h"

namespace penncloud::testing {
namespace {

absl::Status RunTlsScript(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> argv = {SourcePath("scripts/lib/tls.sh")};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<Process> p = Process::Start("/bin/bash", argv, log);
  if (!p.ok()) return p.status();
  const int status = p->Wait(std::chrono::seconds(30));
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("tls.sh ", args[0], " failed; see ", log));
  }
  return absl::OkStatus();
}

std::string FileName(const tls::Identity& identity) {
  return absl::StrReplaceAll(identity.Path(), {{"/", "-"}});
}

// The value of --name=... in args, or "".
std::string FlagValue(const std::vector<std::string>& args, absl::string_view name) {
  const std::string prefix = absl::StrCat("--", name, "=");
  for (const std::string& a : args) {
    if (absl::StartsWith(a, prefix)) return a.substr(prefix.size());
  }
  return "";
}

std::optional<tls::Identity> IdentityFor(const std::string& binary,
                                         const std::vector<std::string>& args) {
  const std::string program = std::filesystem::path(binary).filename();
  const std::string node_name = FlagValue(args, "node_name");
  auto named = [&](std::string fallback) { return node_name.empty() ? fallback : node_name; };
  if (program == "kvs_server") {
    uint64_t group = 0, id = 0;
    const std::string g = FlagValue(args, "group");
    if (!g.empty() && !absl::SimpleAtoi(g, &group)) return std::nullopt;
    if (!absl::SimpleAtoi(FlagValue(args, "id"), &id)) return std::nullopt;
    return tls::Identity::Replica(group, id);
  }
  if (program == "frontend") {
    const std::string port = FlagValue(args, "port");
    return tls::Identity::Service("frontend", named(absl::StrCat("frontend-", port.empty() ? "8001" : port)));
  }
  if (program == "smtp" || program == "pop3" || program == "imap") {
    return tls::Identity::Service(program, named(program));
  }
  if (program == "coordinator") return tls::Identity::Coordinator(named("coordinator"));
  if (program == "kvsctl") return tls::Identity::Admin("kvsctl");
  if (program == "kvs_bench") return tls::Identity::Admin("kvs-bench");
  return std::nullopt;
}

}  // namespace

TestPki& TestPki::Shared() {
  static std::once_flag once;
  static TestPki* pki = nullptr;
  std::call_once(once, [] {
    absl::StatusOr<TestPki> made = Create(TempDir("penncloud-pki"));
    absl::StatusOr<tls::Files> admin =
        made.ok() ? made->Issue(tls::Identity::Admin("test")) : made.status();
    absl::StatusOr<tls::CertificateInfo> installed =
        admin.ok() ? tls::Init(*admin, /*reload_s=*/1) : admin.status();
    if (!installed.ok()) {
      std::cerr << "test PKI: " << installed.status() << "\n";
      std::abort();
    }
    pki = new TestPki(*std::move(made));
  });
  return *pki;
}

absl::StatusOr<TestPki> TestPki::Create(const std::string& dir) {
  if (absl::Status s = RunTlsScript({"ca", dir}, dir + ".log"); !s.ok()) return s;
  return TestPki(dir);
}

absl::StatusOr<tls::Files> TestPki::Issue(const tls::Identity& identity, const std::string& ip) {
  const std::string name = FileName(identity);
  tls::Files files{.ca = ca_file(), .cert = dir_ + "/" + name + ".crt", .key = dir_ + "/" + name + ".key"};
  // Tests start processes from several threads; each certificate is made once.
  static std::mutex mu;
  static std::set<std::string>* issued = new std::set<std::string>;
  std::lock_guard lock(mu);
  if (issued->contains(files.cert)) return files;
  if (absl::Status s =
          RunTlsScript({"issue", dir_, name, identity.Path(), ip}, dir_ + "/issue.log");
      !s.ok()) {
    return s;
  }
  issued->insert(files.cert);
  return files;
}

absl::StatusOr<tls::Files> TestPki::SelfSigned(const tls::Identity& identity) {
  const std::string name = FileName(identity) + "-self-signed";
  if (absl::Status s =
          RunTlsScript({"self-signed", dir_, name, identity.Path()}, dir_ + "/issue.log");
      !s.ok()) {
    return s;
  }
  return tls::Files{.ca = ca_file(), .cert = dir_ + "/" + name + ".crt", .key = dir_ + "/" + name + ".key"};
}

absl::StatusOr<std::vector<std::string>> TestPki::Flags(const tls::Identity& identity) {
  absl::StatusOr<tls::Files> files = Issue(identity);
  if (!files.ok()) return files.status();
  return std::vector<std::string>{"--tls_ca_file=" + files->ca, "--tls_cert_file=" + files->cert,
                                  "--tls_key_file=" + files->key};
}

std::vector<std::string> WithTestTls(const std::string& binary, std::vector<std::string> args) {
  for (const std::string& a : args) {
    if (absl::StartsWith(a, "--tls_dir=") || absl::StartsWith(a, "--tls_cert_file=") ||
        a == "--insecure_plaintext") {
      return args;
    }
  }
  std::optional<tls::Identity> identity = IdentityFor(binary, args);
  if (!identity) return args;
  absl::StatusOr<std::vector<std::string>> flags = TestPki::Shared().Flags(*identity);
  if (!flags.ok()) {
    std::cerr << "test PKI: " << flags.status() << "\n";
    std::abort();
  }
  args.insert(args.end(), flags->begin(), flags->end());
  return args;
}

}  // namespace penncloud::testing
