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

// The identity a binary started with `args` must present, and its node name (which names
// its certificate files in --tls_dir), derived as the binary derives them.
std::optional<std::pair<tls::Identity, std::string>> IdentityFor(
    const std::string& binary, const std::vector<std::string>& args) {
  const std::string program = std::filesystem::path(binary).filename();
  const std::string node_name = FlagValue(args, "node_name");
  auto named = [&](std::string fallback) { return node_name.empty() ? fallback : node_name; };
  if (program == "kvs_server") {
    uint64_t group = 0, id = 0;
    const std::string g = FlagValue(args, "group");
    if (!g.empty() && !absl::SimpleAtoi(g, &group)) return std::nullopt;
    if (!absl::SimpleAtoi(FlagValue(args, "id"), &id)) return std::nullopt;
    return std::pair{
        tls::Identity::Replica(group, id),
        named(group > 0 ? absl::StrCat("kvs-g", group, "-", id) : absl::StrCat("kvs-", id))};
  }
  if (program == "frontend") {
    const std::string port = FlagValue(args, "port");
    const std::string name = named(absl::StrCat("frontend-", port.empty() ? "8001" : port));
    return std::pair{tls::Identity::Service("frontend", name), name};
  }
  if (program == "smtp" || program == "pop3" || program == "imap") {
    return std::pair{tls::Identity::Service(program, named(program)), named(program)};
  }
  if (program == "coordinator") {
    return std::pair{tls::Identity::Coordinator(named("coordinator")), named("coordinator")};
  }
  if (program == "kvsctl") return std::pair{tls::Identity::Admin("kvsctl"), std::string("kvsctl")};
  if (program == "kvs_bench") {
    return std::pair{tls::Identity::Admin("kvs-bench"), std::string("kvs-bench")};
  }
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
    // Every test process makes its own CA; without this each left one behind in /tmp.
    std::atexit([] {
      RemoveTestDir(pki->dir_);
      RemoveTestDir(pki->dir_ + ".log");
    });
  });
  return *pki;
}

absl::StatusOr<TestPki> TestPki::Create(const std::string& dir) {
  if (absl::Status s = RunTlsScript({"ca", dir}, dir + ".log"); !s.ok()) return s;
  return TestPki(dir);
}

tls::Files TestPki::FilesOf(const std::string& name) const {
  return tls::Files{
      .ca = ca_file(), .cert = dir_ + "/" + name + ".crt", .key = dir_ + "/" + name + ".key"};
}

absl::StatusOr<tls::Files> TestPki::Issue(const tls::Identity& identity,
                                          const std::string& file_name) {
  const std::string name = file_name.empty() ? FileName(identity) : file_name;
  tls::Files files = FilesOf(name);
  // Tests start processes from several threads; each certificate is made once.
  static std::mutex mu;
  static std::set<std::string>* issued = new std::set<std::string>;
  std::lock_guard lock(mu);
  if (issued->contains(files.cert)) return files;
  if (absl::Status s =
          RunTlsScript({"issue", dir_, name, identity.Path(), "127.0.0.1"}, dir_ + "/issue.log");
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
  return tls::Files{
      .ca = ca_file(), .cert = dir_ + "/" + name + ".crt", .key = dir_ + "/" + name + ".key"};
}

absl::StatusOr<std::vector<std::string>> TestPki::Flags(const tls::Identity& identity,
                                                        const std::string& node_name) {
  absl::StatusOr<tls::Files> files = Issue(identity, node_name);
  if (!files.ok()) return files.status();
  return std::vector<std::string>{"--tls_dir=" + dir_};
}

std::vector<std::string> WithTestTls(const std::string& binary, std::vector<std::string> args) {
  for (const std::string& a : args) {
    if (absl::StartsWith(a, "--tls_dir=") || absl::StartsWith(a, "--tls_cert_file=") ||
        a == "--insecure_plaintext") {
      return args;
    }
  }
  std::optional<std::pair<tls::Identity, std::string>> identity = IdentityFor(binary, args);
  if (!identity) return args;
  absl::StatusOr<std::vector<std::string>> flags =
      TestPki::Shared().Flags(identity->first, identity->second);
  if (!flags.ok()) {
    std::cerr << "test PKI: " << flags.status() << "\n";
    std::abort();
  }
  args.insert(args.end(), flags->begin(), flags->end());
  return args;
}

}  // namespace penncloud::testing
