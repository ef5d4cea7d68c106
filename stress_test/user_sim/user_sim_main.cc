// user_sim: simulated webmail/drive users against PennCloud's :8000. See simulation.h.
//
//   user_sim --levels=100,1000,10000 --stage_s=20 --think_ms=1000 --csv=/tmp/r.csv
//
// Prints a table per level and per step; --csv writes every request, --summary_json the
// table. SIGINT or SIGTERM ends the load early; verification and the reports follow. Exit status: 0
// when every request succeeded (and --verify found everything), 1 when some failed, 2 on bad flags
// or when the accounts could not be set up.
#include <signal.h>

#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <fstream>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "stress_test/user_sim/simulation.h"

ABSL_FLAG(std::string, target, "127.0.0.1:8000",
          "the coordinators' HTTP addresses (host:port, comma-separated): users are spread "
          "over them and move to the next when one fails to answer");
ABSL_FLAG(int, threads, 0, "I/O threads (0: one per core)");
ABSL_FLAG(std::string, levels, "100", "concurrent users per stage, e.g. 100,1000,10000");
ABSL_FLAG(double, stage_s, 10, "seconds each level is measured (after its users arrived)");
ABSL_FLAG(double, ramp_per_s, 1000, "new users per second while a level's users arrive");
ABSL_FLAG(int, think_ms, 1000, "mean think time between a user's steps (exponential)");
ABSL_FLAG(double, rate, 0, "offered steps/s in all (open loop); overrides --think_ms");
ABSL_FLAG(bool, open_loop, false, "keep each user's schedule however slow the answers");
ABSL_FLAG(int, accounts, 50, "accounts the users share (each signs up or logs in once)");
ABSL_FLAG(std::string, prefix, "sim", "account name prefix");
ABSL_FLAG(std::string, password, "sim-password-1", "the accounts' password");
ABSL_FLAG(std::string, domain, "penncloud.local", "mail domain");
ABSL_FLAG(int, file_bytes, 4096, "size of each user's file");
ABSL_FLAG(int, timeout_ms, 10000, "per-attempt request timeout");
ABSL_FLAG(int, retries, 0, "extra attempts after 503/502/504, timeouts, broken connections");
ABSL_FLAG(int64_t, max_requests, 10'000'000, "stop once this many steps were issued");
ABSL_FLAG(bool, login_per_user, false, "every user logs in itself (Argon2id per user)");
ABSL_FLAG(bool, verify, false, "re-read every acknowledged mail and file at the end");
ABSL_FLAG(std::string, steps, "list_inbox,read_mail,send_mail,list_drive,upload,download",
          "the steps of a visit, in order (a subset measures what some kinds cost)");
ABSL_FLAG(std::string, server_pids, "",
          "name=pid,...: server processes whose CPU each level reports (server_cpu_ms)");
ABSL_FLAG(std::string, csv, "", "write every request here");
ABSL_FLAG(std::string, summary_json, "", "write the summary here");

namespace {

int Fail(const std::string& message) {
  std::cerr << "user_sim: " << message << "\n";
  return 2;
}

std::atomic<bool> interrupted{false};  // lock-free, so the handler may store to it

void OnInterrupt(int) { interrupted.store(true); }

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Simulated PennCloud users through :8000; see simulation.h");
  absl::ParseCommandLine(argc, argv);
  using namespace penncloud::sim;
  SimOptions o;
  o.targets.clear();
  for (absl::string_view t : absl::StrSplit(absl::GetFlag(FLAGS_target), ',')) {
    std::vector<std::string> hp = absl::StrSplit(t, ':');
    Target target{hp[0], 0};
    boost::system::error_code ec;
    boost::asio::ip::make_address(target.host, ec);
    if (hp.size() != 2 || ec || !absl::SimpleAtoi(hp[1], &target.port) || target.port < 1 ||
        target.port > 65535) {
      return Fail("--target wants ip:port[,ip:port...], got '" + std::string(t) + "'");
    }
    o.targets.push_back(target);
  }
  if (o.targets.size() > 16) return Fail("at most 16 targets");
  o.levels.clear();
  for (absl::string_view l : absl::StrSplit(absl::GetFlag(FLAGS_levels), ',')) {
    int users = 0;
    if (!absl::SimpleAtoi(l, &users) || users < 1 || users > 100000) {
      return Fail("--levels wants user counts 1..100000, got '" + std::string(l) + "'");
    }
    o.levels.push_back(users);
  }
  if (o.levels.size() > 250) return Fail("at most 250 levels");
  o.threads = absl::GetFlag(FLAGS_threads);
  o.stage = std::chrono::milliseconds(static_cast<int64_t>(absl::GetFlag(FLAGS_stage_s) * 1000));
  o.think = std::chrono::milliseconds(absl::GetFlag(FLAGS_think_ms));
  o.ramp_per_s = absl::GetFlag(FLAGS_ramp_per_s);
  o.rate = absl::GetFlag(FLAGS_rate);
  o.open_loop = absl::GetFlag(FLAGS_open_loop);
  o.accounts = absl::GetFlag(FLAGS_accounts);
  o.prefix = absl::GetFlag(FLAGS_prefix);
  o.password = absl::GetFlag(FLAGS_password);
  o.domain = absl::GetFlag(FLAGS_domain);
  o.file_bytes = absl::GetFlag(FLAGS_file_bytes);
  o.timeout = std::chrono::milliseconds(absl::GetFlag(FLAGS_timeout_ms));
  o.retries = absl::GetFlag(FLAGS_retries);
  o.max_requests = absl::GetFlag(FLAGS_max_requests);
  o.login_per_user = absl::GetFlag(FLAGS_login_per_user);
  o.verify = absl::GetFlag(FLAGS_verify);
  o.steps.clear();
  const std::vector<std::string> step_names = absl::StrSplit(absl::GetFlag(FLAGS_steps), ',');
  for (const std::string& name : step_names) {
    Op op = Op::kListInbox;
    while (op <= Op::kDownload && OpName(op) != name) {
      op = static_cast<Op>(static_cast<int>(op) + 1);
    }
    if (op > Op::kDownload) {
      return Fail(
          "--steps wants list_inbox, read_mail, send_mail, list_drive, upload or "
          "download, got '" +
          name + "'");
    }
    o.steps.push_back(op);
  }
  auto servers = ParseServerProcesses(absl::GetFlag(FLAGS_server_pids));
  if (!servers.ok()) return Fail("--server_pids: " + std::string(servers.status().message()));
  o.servers = *std::move(servers);
  if (o.stage.count() <= 0 || o.think.count() < 0 || o.rate < 0 || o.ramp_per_s <= 0) {
    return Fail("--stage_s and --ramp_per_s must be > 0, --think_ms and --rate >= 0");
  }
  if (o.accounts < 2 || o.file_bytes < 32 || o.timeout.count() <= 0 || o.retries < 0) {
    return Fail("--accounts >= 2, --file_bytes >= 32, --timeout_ms > 0, --retries >= 0");
  }

  o.interrupted = &interrupted;
  struct sigaction on_interrupt {};
  on_interrupt.sa_handler = OnInterrupt;
  sigaction(SIGINT, &on_interrupt, nullptr);
  sigaction(SIGTERM, &on_interrupt, nullptr);
  SimResult r = RunSimulation(o);
  nlohmann::json summary = Summarize(r.records, r.levels);
  if (!r.setup_error.empty()) summary["setup_error"] = r.setup_error;
  if (!r.first_error.empty()) summary["first_error"] = r.first_error;
  if (r.verify.ran) {
    summary["verify"] = {{"mails_acked", r.verify.mails_acked},
                         {"mails_missing", r.verify.mails_missing},
                         {"files_acked", r.verify.files_acked},
                         {"files_bad", r.verify.files_bad},
                         {"problems", r.verify.problems}};
  }
  if (auto path = absl::GetFlag(FLAGS_csv); !path.empty()) {
    std::ofstream out(path);
    WriteCsv(r.records, out);
    if (!out) return Fail("cannot write " + path);
  }
  if (auto path = absl::GetFlag(FLAGS_summary_json); !path.empty()) {
    std::ofstream out(path);
    out << summary.dump(2) << "\n";
    if (!out) return Fail("cannot write " + path);
  }
  PrintSummary(summary, std::cout);
  if (!r.first_error.empty()) std::cout << "first error: " << r.first_error << "\n";
  if (r.verify.ran) std::cout << "verify: " << summary["verify"].dump() << "\n";
  if (!r.setup_error.empty()) return Fail("setup failed: " + r.setup_error);
  bool clean = summary["total"]["failed"] == 0 &&
               (!r.verify.ran || (r.verify.mails_missing == 0 && r.verify.files_bad == 0));
  return clean ? 0 : 1;
}
