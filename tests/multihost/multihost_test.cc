// PennCloud on four emulated hosts (network namespaces joined by a bridge) under a user_sim
// load that runs the whole time, through the faults a deployment on real machines meets:
//   - a host loses power (every process SIGKILLed at once) and comes back;
//   - a host is cut off by iptables inside its namespace, both directions, and heals;
//   - a host stops sending (one direction) and heals;
//   - a coordinator is SIGKILLed: the users move to the other one;
//   - a fifth host takes over a replica of the data group, then a host leaves for good;
//   - every host in turn is rolled to a new release (SIGTERM, drain, restart from another
//     binary folder), so old and new replicas serve in one group.
// No user request may fail except ones a retry saved; at the end user_sim re-reads every
// acknowledged mail and file, a mail delivered by SMTP on one host is read by IMAP and POP3
// on others, and the history an operator's client recorded on the store all along must be
// linearizable. Skips unless root with `ip netns` and iptables.
//
// MultiHostDelayTest (only with PENNCLOUD_MULTIHOST_DELAY=1) routes the links between hosts
// through delaying proxies and prints each user_sim step's latency against the round trip.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
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
#include "tests/support/fault_proxy.h"
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
    ASSERT_NO_FATAL_FAILURE(PrepareNetwork());
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

  // Runs between making the hosts and starting PennCloud on them.
  virtual void PrepareNetwork() {}

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

  // The users, on h4, through both coordinators, until FinishLoad; returns once they are
  // being served.
  void StartLoad() {
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
    served_ = std::make_unique<ServedRequests>(CoordinatorAddresses());
    ASSERT_TRUE(WaitFor([&] { return served_->Poll() >= 60; }, 60s))
        << "the load never got going; see " << dir_ << "/user_sim.log";
  }

  // Ends the load; user_sim re-reads everything it was told was stored, and no request may
  // have failed. Returns user_sim's summary.
  json FinishLoad() {
    ::kill(sim_.pid(), SIGINT);
    const int sim_status = sim_.Wait(120s);
    EXPECT_NE(sim_status, -1) << "user_sim did not finish; see " << dir_ << "/user_sim.log";
    std::ifstream summary_file(dir_ + "/summary.json");
    const json summary = json::parse(summary_file, nullptr, false);
    if (!summary.is_object()) {
      ADD_FAILURE() << "no summary; see " << dir_ << "/user_sim.log";
      return summary;
    }
    EXPECT_TRUE(WIFEXITED(sim_status) && WEXITSTATUS(sim_status) == 0) << summary.dump(2);
    EXPECT_EQ(summary["total"]["failed"], 0) << summary.dump(2);
    EXPECT_GT(summary["verify"]["mails_acked"].get<int64_t>(), 0);
    EXPECT_EQ(summary["verify"]["mails_missing"], 0) << summary["verify"].dump();
    EXPECT_GT(summary["verify"]["files_acked"].get<int64_t>(), 0);
    EXPECT_EQ(summary["verify"]["files_bad"], 0) << summary["verify"].dump();
    return summary;
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
  std::unique_ptr<ServedRequests> served_;  // from StartLoad on
};

// The host of group 1's leader, unless that is the load host: then `fallback`.
int LeaderOrElse(HostCluster& cluster, int fallback) {
  absl::StatusOr<int> leader = cluster.LeaderHost(1);
  return leader.ok() && *leader != kLoadHost ? *leader : fallback;
}

TEST_F(MultiHostTest, PowerLossCutsMovesAndARollingUpgradeCostUsersNothing) {
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

  ASSERT_NO_FATAL_FAILURE(StartLoad());
  ServedRequests& served = *served_;

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

  // A rolling upgrade, one host at a time, each healthy again before the next. No other
  // commit's build is at hand, so the new release is a copy of these binaries in a folder of
  // its own: what is proven is the procedure (drain, restart, rejoin) with processes of two
  // releases serving together, not compatibility between two versions of the code.
  const std::string release = dir_ + "/release-2";
  std::filesystem::create_directories(release);
  for (const char* binary :
       {"kvs_server", "coordinator", "frontend", "thumbnailer", "smtp", "pop3", "imap"}) {
    std::filesystem::copy_file(BinaryPath(binary), absl::StrCat(release, "/", binary));
  }
  bool mixed = false;  // a data group whose replicas ran both releases, serving
  for (int h : cluster_->ActiveHosts()) {
    step(absl::StrCat("h", h + 1, " rolled to the new release"),
         [&] { return cluster_->Upgrade(h, release); });
    ASSERT_FALSE(HasFatalFailure());
    std::set<std::string> releases;
    std::vector<std::string> running;
    for (int m : cluster_->Members(1)) {
      absl::StatusOr<std::string> exe = cluster_->RunningBinary(m, "kvs-g1");
      ASSERT_TRUE(exe.ok()) << exe.status();
      const std::string folder = std::filesystem::path(*exe).parent_path().string();
      releases.insert(folder);
      running.push_back(absl::StrCat("h", m + 1, (folder == release ? " new" : " old")));
    }
    mixed = mixed || releases.size() == 2;
    std::cout << "data group 1 now runs: " << absl::StrJoin(running, ", ") << "\n";
  }
  EXPECT_TRUE(mixed) << "no step had old and new replicas serving in one group";
  for (int group : {0, 1}) {
    for (int m : cluster_->Members(group)) {
      absl::StatusOr<std::string> exe =
          cluster_->RunningBinary(m, group == 0 ? "kvs-config" : "kvs-g1");
      ASSERT_TRUE(exe.ok()) << exe.status();
      EXPECT_EQ(std::filesystem::path(*exe).parent_path(), release) << "h" << m + 1;
    }
  }

  const json summary = FinishLoad();
  ASSERT_TRUE(summary.is_object());

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

// Latencies (us) of the ok requests of each user_sim step that started in [begin, end).
using StepLatencies = std::map<std::string, std::vector<int64_t>>;

StepLatencies LatenciesByStep(const std::string& csv_path, int64_t begin_us, int64_t end_us) {
  StepLatencies out;
  std::ifstream csv(csv_path);
  std::string line;
  std::getline(csv, line);  // header: start_us,latency_us,user,level,op,status,outcome,attempts
  while (std::getline(csv, line)) {
    std::vector<std::string> f = absl::StrSplit(line, ',');
    if (f.size() != 8 || f[6] != "ok") continue;
    const int64_t start = std::stoll(f[0]);
    if (start >= begin_us && start < end_us) out[f[4]].push_back(std::stoll(f[1]));
  }
  for (auto& [step, latencies] : out) std::ranges::sort(latencies);
  return out;
}

double QuantileMs(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const size_t i = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return static_cast<double>(sorted[std::min(i, sorted.size() - 1)]) / 1000.0;
}

// Every connection a host opens to another host's replicas, frontend or coordinator gRPC
// goes through a proxy of its own in the test process, which holds the bytes half the pair's
// round trip in each direction. The users' own link to :8000 is not delayed: the figures are
// what the distance between hosts adds.
class MultiHostDelayTest : public MultiHostTest {
 protected:
  static constexpr int kDelayedPorts[] = {HostCluster::kConfigPort, HostCluster::kDataPort,
                                          HostCluster::kFrontendPort,
                                          HostCluster::kCoordinatorGrpcPort};

  void SetUp() override {
    if (getenv("PENNCLOUD_MULTIHOST_DELAY") == nullptr) {
      GTEST_SKIP() << "a benchmark, not run in CI: set PENNCLOUD_MULTIHOST_DELAY=1 to run the "
                      "hosts 2-20 ms apart through delaying proxies";
    }
    MultiHostTest::SetUp();
  }

  void PrepareNetwork() override {
    const unsigned seed = std::random_device{}();
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int64_t> rtt_us(2000, 20000);
    std::cout << "round trips drawn with seed " << seed << "\n";
    for (int a = 0; a < kHosts; ++a) {
      for (int b = a + 1; b < kHosts; ++b) rtt_us_[{a, b}] = rtt_us_[{b, a}] = rtt_us(rng);
    }
    for (int from = 0; from < kHosts; ++from) {
      for (int to = 0; to < kHosts; ++to) {
        if (from == to) continue;
        for (int port : kDelayedPorts) {
          auto proxy = std::make_unique<FaultProxy>(net_->own_address(), net_->address(to), port);
          absl::Status detoured = net_->Detour(from, to, port, proxy->port());
          ASSERT_TRUE(detoured.ok()) << detoured;
          links_[{from, to, port}] = std::move(proxy);
        }
      }
    }
  }

  // Each pair of hosts its drawn round trip apart, or no delay at all.
  void SetDelays(bool on) {
    for (const auto& [link, proxy] : links_) {
      const auto [from, to, port] = link;
      proxy->SetDelay(std::chrono::microseconds(on ? rtt_us_.at({from, to}) / 2 : 0));
    }
  }

  // The round trip from host `from` to host `to` as a program on `from` sees it: the median
  // of a few /healthz exchanges with `to`'s frontend through the link that carries them.
  double MeasuredRttMs(int from, int to) {
    std::vector<int64_t> samples;
    const int port = links_.at({from, to, HostCluster::kFrontendPort})->port();
    for (int i = 0; i < 7; ++i) {
      const auto began = Clock::now();
      if (HttpProbe(net_->own_address(), port, "GET", "/healthz").status != 200) continue;
      samples.push_back(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - began).count());
    }
    std::ranges::sort(samples);
    return QuantileMs(samples, 0.5);
  }

  std::map<std::pair<int, int>, int64_t> rtt_us_;  // drawn, per pair of hosts (both orders)
  std::map<std::tuple<int, int, int>, std::unique_ptr<FaultProxy>> links_;  // from, to, port
};

TEST_F(MultiHostDelayTest, LatencyPerStepAgainstTheRoundTripBetweenHosts) {
  constexpr auto kWindow = 40s;
  ASSERT_NO_FATAL_FAILURE(StartLoad());

  // The users run kWindow with the delays on or off; the window is on user_sim's clock.
  struct Window {
    std::map<std::pair<int, int>, double> rtt_ms;  // measured, per ordered pair of hosts
    double mean_rtt_ms = 0;
    int64_t begin_us = 0;
    int64_t end_us = 0;
  };
  auto run = [&](bool delayed) {
    Window w;
    SetDelays(delayed);
    std::this_thread::sleep_for(2s);  // requests in flight still see the old delays
    for (int from = 0; from < kHosts; ++from) {
      for (int to = 0; to < kHosts; ++to) {
        if (from != to) w.mean_rtt_ms += w.rtt_ms[{from, to}] = MeasuredRttMs(from, to);
      }
    }
    w.mean_rtt_ms /= static_cast<double>(w.rtt_ms.size());
    w.begin_us = SimMicros();
    std::this_thread::sleep_for(kWindow);
    w.end_us = SimMicros();
    return w;
  };
  std::this_thread::sleep_for(10s);  // past the users' sign-ups and first logins
  const Window plain = run(false);
  const Window delayed = run(true);

  double drawn_ms = 0;
  std::printf("%-10s %10s %16s %16s\n", "link", "drawn ms", "measured ms", "without delay");
  for (const auto& [pair, rtt] : delayed.rtt_ms) {
    const double drawn = static_cast<double>(rtt_us_.at(pair)) / 1000.0;
    drawn_ms += drawn / static_cast<double>(delayed.rtt_ms.size());
    std::printf("h%d -> h%d %10.1f %16.1f %16.1f\n", pair.first + 1, pair.second + 1, drawn, rtt,
                plain.rtt_ms.at(pair));
  }
  std::printf("%-10s %10.1f %16.1f %16.1f\n", "mean", drawn_ms, delayed.mean_rtt_ms,
              plain.mean_rtt_ms);

  // user_sim writes its CSV when it ends.
  const json summary = FinishLoad();
  ASSERT_TRUE(summary.is_object());
  const std::string csv = dir_ + "/requests.csv";
  const StepLatencies before = LatenciesByStep(csv, plain.begin_us, plain.end_us);
  const StepLatencies after = LatenciesByStep(csv, delayed.begin_us, delayed.end_us);
  std::printf("%-12s %6s %8s %8s | %6s %8s %8s   (without | with delay)\n", "step", "n", "p50 ms",
              "p99 ms", "n", "p50 ms", "p99 ms");
  for (const auto& [step, latencies] : after) {
    const std::vector<int64_t> none;
    const std::vector<int64_t>& was = before.contains(step) ? before.at(step) : none;
    std::printf("%-12s %6zu %8.1f %8.1f | %6zu %8.1f %8.1f\n", step.c_str(), was.size(),
                QuantileMs(was, 0.5), QuantileMs(was, 0.99), latencies.size(),
                QuantileMs(latencies, 0.5), QuantileMs(latencies, 0.99));
  }
  EXPECT_GT(delayed.mean_rtt_ms, plain.mean_rtt_ms + 1.0) << "the proxies added no delay";
  EXPECT_FALSE(after.empty()) << "no request was answered while delayed";
}

}  // namespace
}  // namespace penncloud::testing
