// Queue-length metrics on real binaries (docs/operations.md): the KVS leader's proposal
// queue fills under concurrent writers and empties after them; its outbound queue to a
// SIGSTOPped follower grows while the others' stays short, and drains after SIGCONT; the
// SMTP outbound queue holds exactly the mail an unreachable smarthost could not take, and
// empties once the smarthost is back and has it all.
#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kvs/client/connect.h"
#include "tests/mail/mail_system.h"
#include "tests/ops/prom_text.h"
#include "tests/support/kvs_group.h"
#include "tests/support/process.h"
#include "tests/web/http_client.h"

namespace penncloud::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

PromSamples Scrape(int port) {
  HttpClient client(port);
  auto res = client.Send("GET", "/metrics");
  if (!res.ok() || res->status != 200) return {};
  auto parsed = ParsePromText(res->body);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : PromSamples{};
}

// Scrapes `ports` every 50 ms until `done` holds of one round of scrapes (in the order of
// `ports`) or `limit` passes; returns whether it held.
template <typename Pred>
bool ScrapeUntil(const std::vector<int>& ports, std::chrono::milliseconds limit, Pred done) {
  const auto deadline = Clock::now() + limit;
  do {
    std::vector<PromSamples> round;
    for (int port : ports) round.push_back(Scrape(port));
    if (done(round)) return true;
    std::this_thread::sleep_for(50ms);
  } while (Clock::now() < deadline);
  return false;
}
template <typename Pred>
bool ScrapeUntil(int port, std::chrono::milliseconds limit, Pred done) {
  return ScrapeUntil(std::vector<int>{port}, limit,
                     [&](const std::vector<PromSamples>& round) { return done(round[0]); });
}

// The sum of a metric over several replicas' scrapes.
double Sum(const std::vector<PromSamples>& round, const std::string& name,
           const std::vector<std::string>& labels = {}) {
  double sum = 0;
  for (const PromSamples& s : round) sum += SumSeries(s, name, labels);
  return sum;
}

// `threads` clients writing distinct keys until Stop() (or 20 s, or 2,000 writes each).
class Writers {
 public:
  Writers(const std::string& spec, int threads, const std::string& prefix) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, spec, t, prefix] {
        auto client = kvs::Connect(spec);
        if (!client.ok()) return;
        const auto deadline = Clock::now() + 20s;
        for (int i = 0; i < 2000 && !stop_ && Clock::now() < deadline; ++i) {
          if ((*client)->Put(absl::StrCat(prefix, t, "-", i), "c", "v").ok()) ++acked_;
        }
      });
    }
  }
  ~Writers() { Stop(); }
  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  int acked() const { return acked_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> acked_{0};
  std::vector<std::thread> threads_;
};

std::string Peer(int index) { return absl::StrCat("peer=\"", index + 1, "\""); }

// The leader's messages to replica `index` not yet answered: queued plus in flight.
double Outbound(const PromSamples& s, int index) {
  return SumSeries(s, "kvs_peer_queue_length", {Peer(index)}) +
         SumSeries(s, "kvs_peer_in_flight_messages", {Peer(index)});
}

class KvsQueueMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KvsGroupOptions options;
    options.serve_metrics = true;
    auto group = KvsGroup::Start(options);
    ASSERT_TRUE(group.ok()) << group.status();
    group_ = std::move(*group);
    auto leader = group_->Leader();
    ASSERT_TRUE(leader.ok()) << leader.status();
    leader_ = *leader;
    ASSERT_TRUE(WaitForPort(group_->metrics_port(leader_)));
  }
  std::unique_ptr<KvsGroup> group_;
  int leader_ = 0;
};

// Followers propose nothing, so the sum over the group is the leader's queue, even if a
// loaded machine makes another replica leader during the test.
TEST_F(KvsQueueMetricsTest, ProposalQueueFillsUnderConcurrentWritersAndEmptiesAfter) {
  const std::vector<int> ports = {group_->metrics_port(0), group_->metrics_port(1),
                                  group_->metrics_port(2)};
  PromSamples idle = Scrape(group_->metrics_port(leader_));
  ASSERT_EQ(idle.count("kvs_proposal_queue_length{stage=\"waiting\"}"), 1u);
  ASSERT_EQ(idle.count("kvs_proposal_queue_length{stage=\"proposed\"}"), 1u);
  EXPECT_EQ(SumSeries(idle, "kvs_proposal_queue_length"), 0);
  ASSERT_EQ(idle.count("kvs_apply_backlog_slots"), 1u);

  double most = 0;
  {
    Writers writers(group_->spec(), 24, "pq");
    // Each write waits a disk sync and a round to a follower: with 24 writers some are
    // always proposed and not yet chosen.
    ScrapeUntil(ports, 5s, [&](const std::vector<PromSamples>& round) {
      most = std::max(most, Sum(round, "kvs_proposal_queue_length"));
      return most >= 2;
    });
    writers.Stop();
    EXPECT_GT(writers.acked(), 0);
  }
  EXPECT_GE(most, 2) << "the proposal queue never showed the writes in flight";
  EXPECT_TRUE(ScrapeUntil(ports, 3s, [](const std::vector<PromSamples>& round) {
    return Sum(round, "kvs_proposal_queue_length") == 0 &&
           Sum(round, "kvs_apply_backlog_slots") == 0;
  })) << "the proposal queue did not empty after the writers stopped";
}

// Both running replicas are watched: on a loaded machine the healthy follower may take over
// the lead, and then its queue to the stopped one is the one that grows.
TEST_F(KvsQueueMetricsTest, PeerQueueGrowsForAStoppedFollowerAndDrainsAfterContinue) {
  const int stopped = (leader_ + 1) % 3;
  const int healthy = (leader_ + 2) % 3;
  const std::vector<int> ports = {group_->metrics_port(leader_), group_->metrics_port(healthy)};
  PromSamples before = Scrape(ports[0]);
  for (int i : {stopped, healthy}) {
    ASSERT_EQ(before.count(absl::StrCat("kvs_peer_queue_length{", Peer(i), "}")), 1u);
    ASSERT_EQ(before.count(absl::StrCat("kvs_peer_in_flight_messages{", Peer(i), "}")), 1u);
  }
  const std::vector<std::string> failed_to_stopped = {Peer(stopped), "result=\"failed\""};
  const double failed_before =
      SumSeries(before, "kvs_peer_batches_total", failed_to_stopped) +
      SumSeries(Scrape(ports[1]), "kvs_peer_batches_total", failed_to_stopped);

  group_->Stop(stopped);
  double stopped_most = 0, healthy_most = 0;
  {
    Writers writers(group_->spec(), 4, "peer");
    // The stopped follower's batch in flight hangs until its 500 ms deadline (then fails);
    // whatever the leader sends meanwhile waits behind it.
    double failed = failed_before;
    ScrapeUntil(ports, 4s, [&](const std::vector<PromSamples>& round) {
      stopped_most =
          std::max({stopped_most, Outbound(round[0], stopped), Outbound(round[1], stopped)});
      healthy_most =
          std::max({healthy_most, Outbound(round[0], healthy), Outbound(round[1], leader_)});
      failed = Sum(round, "kvs_peer_batches_total", failed_to_stopped);
      return stopped_most >= 20 && writers.acked() >= 100 && failed > failed_before;
    });
    EXPECT_GT(failed, failed_before) << "no batch to the stopped follower failed";
    writers.Stop();
    EXPECT_GE(writers.acked(), 100) << "writes must go on with one follower stopped";
  }
  EXPECT_GE(stopped_most, 20) << "the queue to the stopped follower did not grow";
  EXPECT_GT(stopped_most, 2 * healthy_most);
  std::cout << "outbound messages at most: stopped follower " << stopped_most << ", healthy "
            << healthy_most << "\n";

  group_->Continue(stopped);
  EXPECT_TRUE(ScrapeUntil(ports, 5s, [&](const std::vector<PromSamples>& round) {
    return Sum(round, "kvs_peer_queue_length", {Peer(stopped)}) == 0 &&
           Outbound(round[0], stopped) + Outbound(round[1], stopped) <= 1;
  })) << "the queue to the continued follower did not drain";
  EXPECT_EQ(SumSeries(Scrape(ports[0]), "kvs_peer_dropped_messages_total", {Peer(stopped)}), 0);
}

// The smarthost (MailSystem's sink port) refuses connections until the sink starts.
TEST(SmtpQueueMetricsTest, OutboundQueueHoldsWhatTheSmarthostCouldNotTakeThenEmpties) {
  const int metrics_port = FreePort();
  auto system = MailSystem::Start({absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port),
                                   "--relay_retry_base_ms=200", "--relay_retry_max_ms=400",
                                   "--relay_max_attempts=1000"});
  ASSERT_TRUE(system.ok()) << system.status();
  MailSystem& sys = **system;
  ASSERT_TRUE(WaitForPort(metrics_port));
  EXPECT_TRUE(ScrapeUntil(metrics_port, 3s, [](const PromSamples& s) {
    return s.count("smtp_outbound_queue_length") == 1 &&
           SumSeries(s, "smtp_outbound_queue_length") == 0 &&
           s.count("smtp_relay_messages_total{outcome=\"retry\"}") == 1 &&
           s.count("smtp_relay_recipients_total{result=\"delivered\"}") == 1;
  })) << "no empty outbound queue gauge at the start";

  constexpr int kMessages = 3;
  for (int i = 0; i < kMessages; ++i) {
    ShResult r =
        Sh(absl::StrCat("swaks --server 127.0.0.1 --port ", sys.smtp_port(),
                        " --tls --auth PLAIN --auth-user alice --auth-password ",
                        MailSystem::kAlicePassword, " --from alice@penncloud.local --to carol", i,
                        "@example.com --header 'Subject: q", i, "'"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  PromSamples queued;
  EXPECT_TRUE(ScrapeUntil(metrics_port, 5s,
                          [&](const PromSamples& s) {
                            queued = s;
                            return SumSeries(s, "smtp_outbound_queue_length") == kMessages &&
                                   SumSeries(s, "smtp_relay_messages_total",
                                             {"outcome=\"retry\""}) >= kMessages;
                          }))
      << "queue length " << SumSeries(queued, "smtp_outbound_queue_length");
  EXPECT_GE(SumSeries(queued, "smtp_relay_recipients_total", {"result=\"temporary_failure\""}),
            kMessages);
  EXPECT_EQ(SumSeries(queued, "smtp_relay_recipients_total", {"result=\"delivered\""}), 0);
  EXPECT_GT(SumSeries(queued, "smtp_outbound_queue_oldest_seconds"), 0);

  const std::string sink_dir = sys.dir() + "/sink";
  auto sink = Process::Start(
      "/usr/bin/python3",
      {MailSystem::Script("sink.py"), std::to_string(sys.sink_port()), sink_dir, "accept"},
      sys.dir() + "/sink.log");
  ASSERT_TRUE(sink.ok()) << sink.status();
  PromSamples drained;
  EXPECT_TRUE(ScrapeUntil(metrics_port, 10s,
                          [&](const PromSamples& s) {
                            drained = s;
                            return SumSeries(s, "smtp_outbound_queue_length") == 0 &&
                                   SumSeries(s, "smtp_relay_messages_total",
                                             {"outcome=\"delivered\""}) == kMessages;
                          }))
      << "queue length " << SumSeries(drained, "smtp_outbound_queue_length");
  EXPECT_EQ(SumSeries(drained, "smtp_relay_recipients_total", {"result=\"delivered\""}), kMessages);
  EXPECT_EQ(SumSeries(drained, "smtp_outbound_queue_oldest_seconds"), 0);
  int delivered = 0;
  for (const auto& e : std::filesystem::directory_iterator(sink_dir)) {
    delivered += e.is_regular_file();
  }
  EXPECT_EQ(delivered, kMessages);
}

// SMTP and POP3 have no queue (a thread per session); what they turn away over
// --max_connections is counted instead.
TEST(MailRefusalMetricsTest, ConnectionsOverTheCapAreRefusedAndCounted) {
  KvsGroupOptions options;
  options.replicas = 1;
  auto group = KvsGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  const std::string dir = (*group)->dir();
  struct Server {
    std::string binary, busy, extra;
    int port = FreePort(), metrics = FreePort();
  };
  std::vector<Server> servers = {{"smtp", "421 ", "--relay=false"},
                                 {"pop3", "-ERR ", "--tls=false"}};
  std::vector<Process> processes;
  for (const Server& s : servers) {
    auto p = Process::Start(BinaryPath(s.binary),
                            {absl::StrCat("--port=", s.port), "--kvs=" + (*group)->spec(),
                             "--tls=false", s.extra, "--state_dir=" + dir, "--max_connections=1",
                             absl::StrCat("--metrics_listen=127.0.0.1:", s.metrics)},
                            dir + "/" + s.binary + ".log");
    ASSERT_TRUE(p.ok()) << p.status();
    processes.push_back(std::move(*p));
  }
  namespace net = boost::asio;
  net::io_context ioc;
  std::vector<std::unique_ptr<net::ip::tcp::socket>> open;
  auto first_line = [&](int port) {
    open.push_back(std::make_unique<net::ip::tcp::socket>(ioc));
    open.back()->connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    net::streambuf buf;
    boost::system::error_code ec;
    size_t n = net::read_until(*open.back(), buf, "\r\n", ec);
    return std::string(net::buffers_begin(buf.data()), net::buffers_begin(buf.data()) + n);
  };
  for (const Server& s : servers) {
    ASSERT_TRUE(WaitForPort(s.port)) << s.binary << " never listened; logs in " << dir;
    ASSERT_TRUE(WaitForPort(s.metrics));
    const std::string refused = s.binary + "_connections_refused_total";
    PromSamples start = Scrape(s.metrics);
    ASSERT_EQ(start.count(refused), 1u) << s.binary;
    const double before = SumSeries(start, refused);
    // WaitForPort's probe is a session too until the server sees it closed: on a loaded
    // machine the one allowed session may still be the probe's for a moment.
    std::string greeting;
    int probe_busy = 0;
    for (int i = 0; i < 40; ++i) {
      greeting = first_line(s.port);
      if (!greeting.starts_with(s.busy)) break;
      ++probe_busy;
      open.pop_back();
      std::this_thread::sleep_for(50ms);
    }
    EXPECT_FALSE(greeting.starts_with(s.busy)) << s.binary << ": " << greeting;
    for (int i = 0; i < 2; ++i) {
      std::string line = first_line(s.port);
      EXPECT_TRUE(line.starts_with(s.busy)) << s.binary << ": " << line;
    }
    EXPECT_TRUE(ScrapeUntil(
        s.metrics, 2s,
        [&](const PromSamples& m) { return SumSeries(m, refused) == before + probe_busy + 2; }))
        << s.binary << ": " << SumSeries(Scrape(s.metrics), refused) << " refusals counted";
  }
}

}  // namespace
}  // namespace penncloud::testing
