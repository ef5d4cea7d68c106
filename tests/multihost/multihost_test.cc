// PennCloud on four emulated hosts (network namespaces joined by a bridge) under a user_sim
// load that runs the whole time, through the faults a deployment on real machines meets:
//   - a host loses power (every process SIGKILLed at once) and comes back;
//   - a host is cut off by iptables inside its namespace, both directions, and heals;
//   - a host stops sending (one direction) and heals;
//   - a coordinator is SIGKILLed: the users move to the other one;
//   - a fifth host takes over a replica of the data group, then a host leaves for good.
// No user request may fail except ones a retry saved; at the end user_sim re-reads every
// acknowledged mail and file, a mail delivered by SMTP on one host is read by IMAP and POP3
// on others, and the history an operator's client recorded on the store all along must be
// linearizable. Skips unless root with `ip netns` and iptables.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "kvs/client/connect.h"
#include "kvs/lincheck/history.h"
#include "nlohmann/json.hpp"
#include "tests/kvs/history_recorder.h"
#include "tests/multihost/host_cluster.h"
#include "tests/multihost/http_probe.h"
#include "tests/multihost/virtual_network.h"
#include "tests/support/process.h"

namespace penncloud::testing {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using json = nlohmann::json;

constexpr int kHosts = 4;
constexpr int kLoadHost = 3;  // h4 runs user_sim and is never broken
constexpr int kMailHost = 2;  // h3: the SMTP server the probe mail enters through
constexpr char kProbeUser[] = "mhprobe";
constexpr char kProbePassword[] = "multihost probe pw 1!";
constexpr char kProbeSubject[] = "across four hosts";

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(200ms);
  }
  return done();
}

// Requests the coordinators answered since the start, from their /metrics. Only increases
// count, so a coordinator that cannot be reached (or restarted, its counters at zero) never
// moves the sum back.
class ServedRequests {
 public:
  explicit ServedRequests(std::vector<std::string> coordinators)
      : coordinators_(std::move(coordinators)),
        last_(coordinators_.size(), 0),
        served_(coordinators_.size(), 0) {}
  int64_t Poll() {
    int64_t total = 0;
    for (size_t i = 0; i < coordinators_.size(); ++i) {
      const double now = MetricSum(coordinators_[i], HostCluster::kCoordinatorMetricsPort,
                                   "coordinator_http_requests_total");
      if (now >= 0) {
        if (now >= last_[i]) served_[i] += static_cast<int64_t>(now - last_[i]);
        last_[i] = now;
      }
      total += served_[i];
    }
    return total;
  }
  // Requests coordinator i answered so far.
  int64_t By(size_t i) const { return served_.at(i); }

 private:
  const std::vector<std::string> coordinators_;
  std::vector<double> last_;
  std::vector<int64_t> served_;
};

// What the users saw while a fault lasted: every request whose time in flight overlapped
// the window, from user_sim's CSV.
struct Phase {
  std::string name;
  int64_t begin_us = 0;  // on user_sim's clock (from its start)
  int64_t end_us = 0;
  int64_t requests = 0;
  int64_t retried = 0;  // answered after more than one attempt
  int64_t failed = 0;
  int64_t max_latency_us = 0;
};

void Tally(const std::string& csv_path, std::vector<Phase>& phases) {
  std::ifstream csv(csv_path);
  std::string line;
  std::getline(csv, line);  // header: start_us,latency_us,user,level,op,status,outcome,attempts
  while (std::getline(csv, line)) {
    std::vector<std::string> f = absl::StrSplit(line, ',');
    if (f.size() != 8) continue;
    const int64_t start = std::stoll(f[0]), latency = std::stoll(f[1]);
    for (Phase& p : phases) {
      if (start >= p.end_us || start + latency < p.begin_us) continue;
      ++p.requests;
      if (std::stoi(f[7]) > 1) ++p.retried;
      if (f[6] != "ok") ++p.failed;
      p.max_latency_us = std::max(p.max_latency_us, latency);
    }
  }
}

class MultiHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (absl::Status available = VirtualNetwork::Available(); !available.ok()) {
      GTEST_SKIP() << "no emulated hosts here: " << available.message();
    }
    started_ = Clock::now();
    dir_ = TempDir("penncloud-multihost");
    auto net = VirtualNetwork::Create(kHosts, dir_ + "/network.log");
    ASSERT_TRUE(net.ok()) << net.status();
    net_ = std::move(*net);
    auto cluster = HostCluster::Start(net_.get(), dir_);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
    std::cout << "4 hosts on " << net_->address(0) << "/24 up in " << Seconds(started_) << " s\n";
  }

  void TearDown() override {
    if (sim_.running()) sim_.Kill();
    cluster_.reset();
    net_.reset();
    if (!dir_.empty() && !HasFailure() && getenv("PENNCLOUD_KEEP_TEST_DIRS") == nullptr) {
      RemoveTree(dir_);
    } else if (!dir_.empty()) {
      std::cout << "logs kept in " << dir_ << "\n";
    }
  }

  static double Seconds(Clock::time_point since) {
    return std::chrono::duration<double>(Clock::now() - since).count();
  }
  int64_t SimMicros() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sim_started_)
        .count();
  }
  std::vector<std::string> CoordinatorAddresses() const {
    std::vector<std::string> out;
    for (int c : cluster_->options().coordinator_hosts) out.push_back(net_->address(c));
    return out;
  }

  // Runs a program inside host h; true if it exits 0.
  bool RunOn(int h, const std::vector<std::string>& command, const std::string& log) {
    std::vector<std::string> argv = net_->Exec(h);
    argv.insert(argv.end(), command.begin(), command.end());
    auto p = Process::Start(argv[0], std::vector<std::string>(argv.begin() + 1, argv.end()),
                            dir_ + "/" + log);
    return p.ok() && p->Wait(60s) == 0;
  }

  std::vector<std::string> MailProbe(const std::string& command, int h, int port) {
    std::vector<std::string> argv = {"/usr/bin/python3",
                                     SourcePath("tests/multihost/mail_probe.py"), command,
                                     net_->address(h), std::to_string(port)};
    if (command == "send") {
      argv.insert(argv.end(), {std::string(kProbeUser) + "@penncloud.local", kProbeSubject});
    } else {
      argv.insert(argv.end(), {kProbeUser, kProbePassword, kProbeSubject});
    }
    return argv;
  }

  // Holds a fault until the fleet has noticed it and users were served through it: every
  // coordinator the test can reach lists none of `gone` as healthy, the store acknowledged
  // more of the recorder's writes, and the coordinators answered more user requests after.
  void RideOut(const std::vector<std::string>& gone, HistoryRecorder& recorder,
               ServedRequests& served) {
    EXPECT_TRUE(WaitFor(
        [&] {
          for (int c = 0; c < static_cast<int>(cluster_->options().coordinator_hosts.size()); ++c) {
            auto healthy = cluster_->HealthyAt(c);
            if (!healthy.ok()) continue;  // cut off from the test too
            for (const std::string& name : gone) {
              if (healthy->contains(name)) return false;
            }
          }
          return true;
        },
        30s))
        << absl::StrJoin(gone, ",") << " still listed healthy";
    EXPECT_TRUE(recorder.WaitForMoreWrites(20, 30s)) << "the store took no writes";
    const int64_t target = served.Poll() + 40;
    EXPECT_TRUE(WaitFor([&] { return served.Poll() >= target; }, 40s)) << "no user was served";
  }

  Clock::time_point started_;
  Clock::time_point sim_started_;
  std::string dir_;
  std::unique_ptr<VirtualNetwork> net_;
  std::unique_ptr<HostCluster> cluster_;
  Process sim_;
};

// The host of group 1's leader, unless that is the load host: then `fallback`.
int LeaderOrElse(HostCluster& cluster, int fallback) {
  absl::StatusOr<int> leader = cluster.LeaderHost(1);
  return leader.ok() && *leader != kLoadHost ? *leader : fallback;
}

TEST_F(MultiHostTest, PowerLossCutsAndACoordinatorCrashCostUsersNothing) {
  // A user for the mail probe, and one message into it through SMTP on h3, sent from h4.
  const json signup = {{"username", kProbeUser}, {"password", kProbePassword}};
  const ProbeReply made =
      HttpProbe(net_->address(0), HostCluster::kHttpPort, "POST", "/api/signup", signup.dump());
  ASSERT_TRUE(made.status == 200 || made.status == 201) << made.status << " " << made.body;
  ASSERT_TRUE(
      RunOn(kLoadHost, MailProbe("send", kMailHost, HostCluster::kSmtpPort), "probe-send.log"))
      << "see " << dir_ << "/probe-send.log";

  // An operator's client on the store, from the test's own address, all along.
  auto client = kvs::Connect(cluster_->kvs_spec());
  ASSERT_TRUE(client.ok()) << client.status();
  HistoryRecorder recorder(client->get(), 2, 6, /*spread_rows=*/true);
  recorder.Start();

  // The users, on h4, through both coordinators.
  std::vector<std::string> targets;
  for (const std::string& a : CoordinatorAddresses()) {
    targets.push_back(absl::StrCat(a, ":", HostCluster::kHttpPort));
  }
  std::vector<std::string> argv = net_->Exec(kLoadHost);
  argv.insert(argv.end(),
              {BinaryPath("user_sim"), "--target=" + absl::StrJoin(targets, ","), "--threads=1",
               "--levels=6", "--stage_s=240", "--max_requests=30000", "--think_ms=200",
               "--accounts=6", "--retries=8", "--timeout_ms=5000", "--verify",
               "--csv=" + dir_ + "/requests.csv", "--summary_json=" + dir_ + "/summary.json"});
  sim_started_ = Clock::now();
  auto sim = Process::Start(argv[0], std::vector<std::string>(argv.begin() + 1, argv.end()),
                            dir_ + "/user_sim.log");
  ASSERT_TRUE(sim.ok()) << sim.status();
  sim_ = std::move(*sim);
  ServedRequests served(CoordinatorAddresses());
  ASSERT_TRUE(WaitFor([&] { return served.Poll() >= 60; }, 60s))
      << "the load never got going; see " << dir_ << "/user_sim.log";

  std::vector<Phase> phases;
  auto fault = [&](const std::string& name, const std::function<void()>& inject,
                   const std::function<void()>& repair, const std::vector<std::string>& gone) {
    const auto began = Clock::now();
    phases.push_back({.name = name, .begin_us = SimMicros()});
    inject();
    RideOut(gone, recorder, served);
    repair();
    ASSERT_TRUE(cluster_->WaitHealthy(60s).ok()) << name << ": " << cluster_->WaitHealthy(1s);
    phases.back().end_us = SimMicros();
    std::cout << name << ": " << Seconds(began) << " s from fault to healthy\n";
  };

  const int unplugged = LeaderOrElse(*cluster_, 2);
  fault(
      absl::StrCat("power loss of h", unplugged + 1), [&] { cluster_->PowerOff(unplugged); },
      [&] { ASSERT_TRUE(cluster_->PowerOn(unplugged).ok()); },
      cluster_->RegisteredNames(unplugged));
  ASSERT_FALSE(HasFatalFailure());

  // h1 holds a coordinator: users on it wait out a timeout, then move to the other.
  fault(
      "h1 cut off, both directions",
      [&] { ASSERT_TRUE(net_->CutOff(0, VirtualNetwork::Cut::kBoth).ok()); },
      [&] { ASSERT_TRUE(net_->Heal(0).ok()); }, cluster_->RegisteredNames(0));
  ASSERT_FALSE(HasFatalFailure());

  const int muted = LeaderOrElse(*cluster_, 1);
  fault(
      absl::StrCat("h", muted + 1, " sends nothing (one direction)"),
      [&] { ASSERT_TRUE(net_->CutOff(muted, VirtualNetwork::Cut::kOutgoing).ok()); },
      [&] { ASSERT_TRUE(net_->Heal(muted).ok()); }, cluster_->RegisteredNames(muted));
  ASSERT_FALSE(HasFatalFailure());

  // The coordinator that serves most users now (they stay where the cuts sent them).
  const int64_t before[2] = {served.By(0), served.By(1)};
  const int64_t until = served.Poll() + 30;
  ASSERT_TRUE(WaitFor([&] { return served.Poll() >= until; }, 30s));
  const int busiest = served.By(1) - before[1] > served.By(0) - before[0] ? 1 : 0;
  const int doomed = cluster_->options().coordinator_hosts[busiest];
  fault(
      absl::StrCat("coordinator on h", doomed + 1, " killed"),
      [&] { cluster_->Kill(doomed, "coordinator"); },
      [&] { ASSERT_TRUE(cluster_->Restart(doomed, "coordinator").ok()); }, {});
  ASSERT_FALSE(HasFatalFailure());

  // A fifth host takes over h3's replica of data group 1; then h3 leaves for good (its
  // config replica removed, every process stopped). Users must not notice either.
  auto step = [&](const std::string& name, const std::function<absl::Status()>& change) {
    const auto began = Clock::now();
    phases.push_back({.name = name, .begin_us = SimMicros()});
    absl::Status changed = change();
    ASSERT_TRUE(changed.ok()) << name << ": " << changed;
    ASSERT_TRUE(cluster_->WaitHealthy(60s).ok()) << name << ": " << cluster_->WaitHealthy(1s);
    EXPECT_TRUE(recorder.WaitForMoreWrites(20, 30s)) << name << ": the store took no writes";
    const int64_t target = served.Poll() + 20;
    EXPECT_TRUE(WaitFor([&] { return served.Poll() >= target; }, 30s)) << name;
    phases.back().end_us = SimMicros();
    std::cout << name << ": " << Seconds(began) << " s\n";
  };
  step("h5 added, takes over h3's data replica", [&]() -> absl::Status {
    absl::StatusOr<int> h5 = net_->AddHost();
    if (!h5.ok()) return h5.status();
    return cluster_->MoveDataReplica(kMailHost, *h5);
  });
  ASSERT_FALSE(HasFatalFailure());
  step("h3 removed for good", [&] { return cluster_->Retire(kMailHost); });
  ASSERT_FALSE(HasFatalFailure());

  // The load ends; user_sim re-reads everything it was told was stored.
  ::kill(sim_.pid(), SIGINT);
  const int sim_status = sim_.Wait(120s);
  ASSERT_NE(sim_status, -1) << "user_sim did not finish; see " << dir_ << "/user_sim.log";
  std::ifstream summary_file(dir_ + "/summary.json");
  const json summary = json::parse(summary_file, nullptr, false);
  ASSERT_TRUE(summary.is_object()) << "see " << dir_ << "/user_sim.log";
  EXPECT_TRUE(WIFEXITED(sim_status) && WEXITSTATUS(sim_status) == 0) << summary.dump(2);
  EXPECT_EQ(summary["total"]["failed"], 0) << summary.dump(2);
  EXPECT_GT(summary["verify"]["mails_acked"].get<int64_t>(), 0);
  EXPECT_EQ(summary["verify"]["mails_missing"], 0) << summary["verify"].dump();
  EXPECT_GT(summary["verify"]["files_acked"].get<int64_t>(), 0);
  EXPECT_EQ(summary["verify"]["files_bad"], 0) << summary["verify"].dump();

  Tally(dir_ + "/requests.csv", phases);
  json report = json::array();
  for (const Phase& p : phases) {
    std::cout << p.name << ": " << p.requests << " requests in flight during it, " << p.retried
              << " answered after a retry, " << p.failed << " failed, slowest "
              << p.max_latency_us / 1000 << " ms\n";
    report.push_back({{"phase", p.name},
                      {"seconds", (p.end_us - p.begin_us) / 1e6},
                      {"requests", p.requests},
                      {"retried", p.retried},
                      {"failed", p.failed},
                      {"max_latency_ms", p.max_latency_us / 1000}});
    EXPECT_GT(p.requests, 0) << p.name;
    EXPECT_EQ(p.failed, 0) << p.name;
  }
  std::ofstream(dir_ + "/phases.json") << report.dump(2) << "\n";
  std::cout << "user_sim: " << summary["total"].dump() << "\nverify: " << summary["verify"].dump()
            << "\n";

  // The mail that entered through h3's SMTP (h3 is gone now), read by IMAP and POP3 on h4
  // from h1 and h2.
  EXPECT_TRUE(RunOn(0, MailProbe("imap", 3, HostCluster::kImapPort), "probe-imap.log"))
      << "see " << dir_ << "/probe-imap.log";
  EXPECT_TRUE(RunOn(1, MailProbe("pop3", 3, HostCluster::kPop3Port), "probe-pop3.log"))
      << "see " << dir_ << "/probe-pop3.log";

  std::vector<lincheck::Operation> history = recorder.FinishWithFinalReads();
  EXPECT_TRUE(recorder.final_reads_ok());
  const lincheck::CheckResult checked = lincheck::CheckKv(history, 60s);
  EXPECT_TRUE(checked.ok()) << history.size() << " operations: " << checked.explanation;
  std::cout << "store history: " << history.size() << " operations (" << recorder.failed_ops()
            << " with unknown outcome), " << (checked.ok() ? "linearizable" : "NOT linearizable")
            << "\n"
            << "whole test: " << Seconds(started_) << " s\n";
}

}  // namespace
}  // namespace penncloud::testing
