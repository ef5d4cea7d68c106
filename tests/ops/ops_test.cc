// Operations, on real binaries over loopback: every binary's /metrics is valid Prometheus
// text whose counters move with traffic; a request id given to :8000 reaches the
// frontend's and the replica's logs; SIGTERM drains (an upload in flight finishes, the
// process exits 0 in bounded time); SIGTERM on a KVS leader loses no acknowledged write.
#include <sys/wait.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/grpc_tls.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kvs/client/connect.h"
#include "proto/coordinator.grpc.pb.h"
#include "proto/kvs.grpc.pb.h"
#include "tests/ops/prom_text.h"
#include "tests/support/kvs_group.h"
#include "tests/support/process.h"
#include "tests/web/http_client.h"

namespace penncloud::testing {
namespace {

using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Polls `path` until it contains `needle` (logs are written as events happen).
bool WaitForLog(const std::string& path, const std::string& needle, std::chrono::seconds t) {
  auto deadline = std::chrono::steady_clock::now() + t;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ReadFile(path).find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

PromSamples Scrape(int port) {
  HttpClient client(port);
  auto res = client.Send("GET", "/metrics");
  EXPECT_TRUE(res.ok()) << res.status();
  if (!res.ok()) return {};
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->Header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  auto parsed = ParsePromText(res->body);
  EXPECT_TRUE(parsed.ok()) << parsed.status() << "\n" << res->body;
  return parsed.ok() ? *parsed : PromSamples{};
}

bool ExitedZero(int status) {
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// One replica group (1 replica), the coordinator and one frontend, every one serving
// /metrics on its own port.
class OpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kvs_metrics_ = FreePort();
    KvsGroupOptions options;
    options.replicas = 1;
    options.extra_flags = {"--slow_rpc_ms=0",
                           absl::StrCat("--metrics_listen=127.0.0.1:", kvs_metrics_)};
    auto group = KvsGroup::Start(options);
    ASSERT_TRUE(group.ok()) << group.status();
    kvs_ = std::move(*group);
    dir_ = kvs_->dir();
    http_ = FreePort();
    grpc_ = FreePort();
    coord_metrics_ = FreePort();
    auto coord =
        Process::Start(BinaryPath("coordinator"),
                       {absl::StrCat("--http_port=", http_), absl::StrCat("--grpc_port=", grpc_),
                        "--kvs=" + kvs_->spec(), "--io_threads=1",
                        absl::StrCat("--metrics_listen=127.0.0.1:", coord_metrics_)},
                       dir_ + "/coordinator.log");
    ASSERT_TRUE(coord.ok()) << coord.status();
    coordinator_ = std::move(*coord);
    fe_ = FreePort();
    fe_metrics_ = FreePort();
    auto fe = Process::Start(
        BinaryPath("frontend"),
        {absl::StrCat("--port=", fe_), "--kvs=" + kvs_->spec(),
         absl::StrCat("--coordinator=127.0.0.1:", grpc_), "--web_root=" + SourcePath("web"),
         "--io_threads=1", "--workers=8", absl::StrCat("--metrics_listen=127.0.0.1:", fe_metrics_)},
        dir_ + "/frontend.log");
    ASSERT_TRUE(fe.ok()) << fe.status();
    frontend_ = std::move(*fe);
    for (int port : {http_, fe_, kvs_metrics_, coord_metrics_, fe_metrics_}) {
      ASSERT_TRUE(WaitForPort(port)) << "port " << port << " never listened; logs in " << dir_;
    }
  }

  // Signs `user` up on `port`; returns the CSRF token (the client keeps the cookie).
  std::string SignUp(HttpClient& client, const std::string& user,
                     std::map<std::string, std::string> headers = {}) {
    headers["Content-Type"] = "application/json";
    absl::StatusOr<HttpResponse> res;
    // The frontend may need a moment to see the store's leader.
    for (int i = 0; i < 50; ++i) {
      res = client.Send(
          "POST", "/api/signup",
          absl::StrCat(R"({"username":")", user, R"(","password":"correct-horse-7"})"), headers);
      if (res.ok() && res->status < 500) break;
      std::this_thread::sleep_for(200ms);
    }
    EXPECT_TRUE(res.ok()) << res.status();
    if (!res.ok()) return "";
    EXPECT_LT(res->status, 300) << res->body;
    last_signup_ = *res;
    size_t at = res->body.find("\"csrf\":\"");
    if (at == std::string::npos) return "";
    at += 8;
    return res->body.substr(at, res->body.find('"', at) - at);
  }

  std::unique_ptr<KvsGroup> kvs_;
  std::string dir_;
  Process coordinator_, frontend_;
  int http_ = 0, grpc_ = 0, fe_ = 0;
  int kvs_metrics_ = 0, coord_metrics_ = 0, fe_metrics_ = 0;
  HttpResponse last_signup_;
};

TEST_F(OpsTest, MetricsParseAndMoveAndRequestIdsReachEveryLog) {
  // Wait for the frontend to be routable through :8000.
  HttpClient web(http_);
  std::string csrf = SignUp(web, "opsuser", {{"X-Request-Id", "ops-req-4711"}});
  ASSERT_FALSE(csrf.empty());
  EXPECT_EQ(last_signup_.Header("X-Request-Id"), "ops-req-4711");
  EXPECT_TRUE(WaitForLog(dir_ + "/frontend.log", "req=ops-req-4711", 5s))
      << "frontend log: " << dir_ << "/frontend.log";
  EXPECT_TRUE(WaitForLog(dir_ + "/replica-1.log", "req=ops-req-4711", 5s))
      << "replica log: " << dir_ << "/replica-1.log";

  PromSamples fe_before = Scrape(fe_metrics_);
  PromSamples coord_before = Scrape(coord_metrics_);
  PromSamples kvs_before = Scrape(kvs_metrics_);
  const int kRequests = 7;
  for (int i = 0; i < kRequests; ++i) {
    auto me = web.Send("GET", "/api/me");
    ASSERT_TRUE(me.ok()) << me.status();
    EXPECT_EQ(me->status, 200) << me->body;
  }
  PromSamples fe_after = Scrape(fe_metrics_);
  PromSamples coord_after = Scrape(coord_metrics_);
  PromSamples kvs_after = Scrape(kvs_metrics_);

  // Servers count a request once its response is written, which can be just after the
  // client read it: a counter is polled briefly until it shows what was sent.
  auto count_since = [](int port, PromSamples& after, const PromSamples& before,
                        const std::string& name, const std::vector<std::string>& labels,
                        double want) {
    for (int i = 0;
         i < 20 && SumSeries(after, name, labels) - SumSeries(before, name, labels) < want; ++i) {
      std::this_thread::sleep_for(100ms);
      after = Scrape(port);
    }
    return SumSeries(after, name, labels) - SumSeries(before, name, labels);
  };
  const std::vector<std::string> me_ok = {"route=\"/api/me\"", "status=\"200\""};
  EXPECT_EQ(count_since(fe_metrics_, fe_after, fe_before, "frontend_http_requests_total", me_ok,
                        kRequests),
            kRequests);
  EXPECT_GE(
      SumSeries(fe_after, "frontend_http_request_duration_seconds_count", {"route=\"/api/me\""}),
      kRequests);
  EXPECT_GE(SumSeries(fe_after, "frontend_http_requests_total", {"route=\"/api/signup\""}), 1);
  const std::vector<std::string> proxied = {"kind=\"proxied\"", "status=\"200\""};
  EXPECT_GE(count_since(coord_metrics_, coord_after, coord_before,
                        "coordinator_http_requests_total", proxied, kRequests),
            kRequests);
  // Frontends beat to the coordinator; its gRPC server counts the beats.
  EXPECT_GE(SumSeries(coord_after, "grpc_server_handled_total",
                      {"method=\"Coordinator/Heartbeat\"", "code=\"OK\""}),
            1);
  EXPECT_GE(SumSeries(fe_after, "heartbeats_sent_total", {"result=\"ok\""}), 1);
  // The next beats carry the p99 of those requests (over one interval) to the coordinator.
  auto coord = coordinator::pb::Coordinator::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_), tls::ChannelCredentials()));
  double p99 = 0;
  for (int i = 0; i < 40 && p99 <= 0; ++i) {
    for (int j = 0; j < 3; ++j) ASSERT_TRUE(web.Send("GET", "/api/me").ok());
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 1s);
    coordinator::pb::ListNodesRequest req;
    req.set_kind("frontend");
    coordinator::pb::ListNodesResponse res;
    if (coord->ListNodes(&ctx, req, &res).ok() && res.nodes_size() == 1) {
      p99 = res.nodes(0).load().p99_ms();
    }
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GT(p99, 0) << "no heartbeat carried a p99";
  EXPECT_LT(p99, 10000);
  // Each /api/me reads the session from the KVS: a Get, or a Batch when the client sends
  // calls issued together in one RPC. The requests were sent one after another, so each
  // made at least one RPC of its own.
  auto kvs_calls = [](const PromSamples& s, const std::string& single) {
    return SumSeries(s, "grpc_server_handled_total", {"method=\"KvsService/" + single + "\""}) +
           SumSeries(s, "grpc_server_handled_total", {"method=\"KvsService/Batch\""});
  };
  for (int i = 0; i < 20 && kvs_calls(kvs_after, "Get") - kvs_calls(kvs_before, "Get") < kRequests;
       ++i) {
    std::this_thread::sleep_for(100ms);
    kvs_after = Scrape(kvs_metrics_);
  }
  EXPECT_GE(kvs_calls(kvs_after, "Get") - kvs_calls(kvs_before, "Get"), kRequests);
  EXPECT_GE(kvs_calls(kvs_after, "Write"), 1);
  EXPECT_EQ(SumSeries(kvs_after, "kvs_paxos_is_leader"), 1);
  EXPECT_EQ(SumSeries(kvs_after, "kvs_paxos_role", {"role=\"leader\""}), 1);
  EXPECT_GE(SumSeries(kvs_after, "kvs_paxos_applied_slot"), 1);
  EXPECT_GE(SumSeries(kvs_after, "kvs_paxos_ballot_round"), 1);
  EXPECT_GE(SumSeries(kvs_after, "kvs_log_slots"), 1);
  EXPECT_GT(SumSeries(kvs_after, "kvs_log_bytes"), 0);
}

TEST_F(OpsTest, SigtermLetsAnUploadInFlightFinishThenExitsZero) {
  HttpClient direct(fe_);
  std::string csrf = SignUp(direct, "drainer");
  ASSERT_FALSE(csrf.empty());
  std::vector<std::string> cookies;
  for (const auto& [k, v] : direct.jar()) cookies.push_back(k + "=" + v);

  namespace net = boost::asio;
  net::io_context ioc;
  net::ip::tcp::socket sock(ioc);
  sock.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(fe_)});
  const size_t kBody = 4 << 20;
  std::string head =
      absl::StrCat("PUT /api/files/content?path=/drain.bin HTTP/1.1\r\nHost: x\r\n",
                   "Cookie: ", absl::StrJoin(cookies, "; "), "\r\n", "X-CSRF-Token: ", csrf,
                   "\r\nContent-Length: ", kBody, "\r\n\r\n");
  net::write(sock, net::buffer(head));
  std::string body(kBody, 'd');
  net::write(sock, net::buffer(body.data(), kBody / 4));
  // The handler is running, reading the body.
  bool in_flight = false;
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       !in_flight && std::chrono::steady_clock::now() < deadline;) {
    in_flight = SumSeries(Scrape(fe_metrics_), "frontend_http_in_flight_requests") >= 1;
    if (!in_flight) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(in_flight) << "the upload never reached its handler";

  auto sigterm_at = std::chrono::steady_clock::now();
  frontend_.Terminate();
  // Draining: no new connections, soon after the signal.
  bool refused = false;
  for (auto deadline = std::chrono::steady_clock::now() + 5s;
       !refused && std::chrono::steady_clock::now() < deadline;) {
    net::ip::tcp::socket probe(ioc);
    boost::system::error_code ec;
    probe.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(fe_)}, ec);
    refused = static_cast<bool>(ec);
    if (!refused) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(refused) << "a draining frontend still accepts connections";
  net::write(sock, net::buffer(body.data() + kBody / 4, kBody - kBody / 4));
  std::string reply;
  boost::system::error_code ec;
  char buf[4096];
  while (reply.find("\r\n\r\n") == std::string::npos) {
    size_t n = sock.read_some(net::buffer(buf), ec);
    if (ec) break;
    reply.append(buf, n);
  }
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 201")) << reply;
  EXPECT_NE(reply.find("Connection: close"), std::string::npos) << reply;

  int status = frontend_.Wait(15s);
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - sigterm_at).count();
  EXPECT_TRUE(ExitedZero(status)) << "wait status " << status;
  EXPECT_LT(secs, 12);  // within --drain_ms (10 s) and some slack
  EXPECT_TRUE(WaitForLog(dir_ + "/frontend.log", "event=frontend.stopped", 1s));
}

TEST_F(OpsTest, CoordinatorExitsZeroOnSigterm) {
  auto start = std::chrono::steady_clock::now();
  coordinator_.Terminate();
  int status = coordinator_.Wait(15s);
  EXPECT_TRUE(ExitedZero(status)) << "wait status " << status;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);  // nothing in flight: at once
}

// Sends `lines` (CRLF added) one by one after the greeting, the last being QUIT, and
// returns everything the server said until it closed the connection.
std::string Converse(int port, const std::vector<std::string>& lines) {
  namespace net = boost::asio;
  net::io_context ioc;
  net::ip::tcp::socket sock(ioc);
  sock.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  net::streambuf buf;
  boost::system::error_code ec;
  net::read_until(sock, buf, "\r\n", ec);  // greeting
  for (const auto& l : lines) {
    net::write(sock, net::buffer(l + "\r\n"));
    std::this_thread::sleep_for(50ms);
  }
  net::read(sock, buf, ec);  // to EOF: QUIT closes
  return std::string(net::buffers_begin(buf.data()), net::buffers_end(buf.data()));
}

TEST_F(OpsTest, MailServersServeMetricsAndExitZeroOnSigterm) {
  int smtp_port = FreePort(), smtp_metrics = FreePort();
  int pop3_port = FreePort(), pop3_metrics = FreePort();
  auto smtp = Process::Start(
      BinaryPath("smtp"),
      {absl::StrCat("--port=", smtp_port), "--kvs=" + kvs_->spec(), "--tls=false", "--relay=false",
       "--state_dir=" + dir_, absl::StrCat("--metrics_listen=127.0.0.1:", smtp_metrics)},
      dir_ + "/smtp.log");
  ASSERT_TRUE(smtp.ok()) << smtp.status();
  auto pop3 = Process::Start(
      BinaryPath("pop3"),
      {absl::StrCat("--port=", pop3_port), "--kvs=" + kvs_->spec(), "--tls=false",
       "--state_dir=" + dir_, absl::StrCat("--metrics_listen=127.0.0.1:", pop3_metrics)},
      dir_ + "/pop3.log");
  ASSERT_TRUE(pop3.ok()) << pop3.status();
  for (int port : {smtp_port, smtp_metrics, pop3_port, pop3_metrics}) {
    ASSERT_TRUE(WaitForPort(port)) << "port " << port << " never listened; logs in " << dir_;
  }
  std::string smtp_talk = Converse(smtp_port, {"EHLO test", "NOOP", "NOOP", "QUIT"});
  EXPECT_NE(smtp_talk.find("221"), std::string::npos) << smtp_talk;
  std::string pop3_talk = Converse(pop3_port, {"CAPA", "QUIT"});
  EXPECT_NE(pop3_talk.find("+OK"), std::string::npos) << pop3_talk;

  PromSamples s = Scrape(smtp_metrics);
  EXPECT_GE(SumSeries(s, "smtp_sessions_total"), 1);
  EXPECT_EQ(SumSeries(s, "smtp_commands_total", {"verb=\"NOOP\""}), 2);
  EXPECT_EQ(SumSeries(s, "smtp_commands_total", {"verb=\"EHLO\""}), 1);
  PromSamples p = Scrape(pop3_metrics);
  EXPECT_GE(SumSeries(p, "pop3_sessions_total"), 1);
  EXPECT_EQ(SumSeries(p, "pop3_commands_total", {"verb=\"CAPA\""}), 1);

  for (Process* proc : {&*smtp, &*pop3}) {
    proc->Terminate();
    int status = proc->Wait(15s);
    EXPECT_TRUE(ExitedZero(status)) << "wait status " << status;
  }
}

// Three replicas started here (the test needs each one's process to send SIGTERM to).
TEST(KvsDrainTest, SigtermOnTheLeaderLosesNoAcknowledgedWrite) {
  std::string dir = TempDir("ops-kvs");
  std::vector<int> ports = {FreePort(), FreePort(), FreePort()};
  std::vector<int> metrics = {FreePort(), FreePort(), FreePort()};
  std::vector<std::string> members;
  for (int i = 0; i < 3; ++i) members.push_back(absl::StrCat(i + 1, "=127.0.0.1:", ports[i]));
  std::vector<Process> replicas;
  for (int i = 0; i < 3; ++i) {
    auto p = Process::Start(BinaryPath("kvs_server"),
                            {absl::StrCat("--id=", i + 1), "--peers=" + absl::StrJoin(members, ","),
                             absl::StrCat("--data_dir=", dir, "/r", i + 1),
                             absl::StrCat("--metrics_listen=127.0.0.1:", metrics[i])},
                            absl::StrCat(dir, "/replica-", i + 1, ".log"));
    ASSERT_TRUE(p.ok()) << p.status();
    replicas.push_back(std::move(*p));
  }
  std::string spec =
      absl::StrCat("127.0.0.1:", ports[0], ",127.0.0.1:", ports[1], ",127.0.0.1:", ports[2]);
  auto client = kvs::Connect(spec);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Put("warm", "c", "up").ok());

  // Asked until one answers "leader": a loaded machine can take over a second for a fresh
  // channel's TLS handshake, or hold an election just after the warm-up write.
  auto leader = [&]() -> int {
    for (auto deadline = std::chrono::steady_clock::now() + 20s;
         std::chrono::steady_clock::now() < deadline;) {
      for (int i = 0; i < 3; ++i) {
        auto stub = kvs::pb::KvsService::NewStub(
            grpc::CreateChannel(absl::StrCat("127.0.0.1:", ports[i]), tls::ChannelCredentials()));
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + 5s);
        kvs::pb::StatusResponse res;
        if (stub->Status(&ctx, kvs::pb::StatusRequest(), &res).ok() && res.role() == "leader") {
          return i;
        }
      }
    }
    return -1;
  };
  int lead = leader();
  ASSERT_GE(lead, 0);
  // Paxos traffic is on /metrics: the leader's heartbeats and accepts out, a follower's in.
  PromSamples from_leader = Scrape(metrics[lead]);
  PromSamples at_follower = Scrape(metrics[(lead + 1) % 3]);
  EXPECT_GT(SumSeries(from_leader, "kvs_paxos_messages_total",
                      {"direction=\"sent\"", "type=\"HEARTBEAT\""}),
            0);
  EXPECT_GT(SumSeries(from_leader, "kvs_paxos_messages_total",
                      {"direction=\"sent\"", "type=\"MSG_ACCEPT\""}),
            0);
  EXPECT_GT(SumSeries(at_follower, "kvs_paxos_messages_total",
                      {"direction=\"received\"", "type=\"HEARTBEAT\""}),
            0);

  std::vector<int> acked;  // read once the writer has joined
  std::atomic<int> acked_count{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    // Outlasts the waits below (writes before, the drain of up to 7 s, writes after), so the
    // writer is still writing when the test looks for writes after the leader left.
    auto deadline = std::chrono::steady_clock::now() + 90s;
    for (int i = 0; i < 3000 && !stop && std::chrono::steady_clock::now() < deadline; ++i) {
      if ((*client)->Put(absl::StrCat("k", i), "c", absl::StrCat("v", i)).ok()) {
        acked.push_back(i);
        ++acked_count;
      }
    }
  });
  auto wait_for_writes = [&](int more, std::chrono::seconds within) {
    const int target = acked_count + more;
    for (auto deadline = std::chrono::steady_clock::now() + within;
         acked_count < target && std::chrono::steady_clock::now() < deadline;) {
      std::this_thread::sleep_for(10ms);
    }
    return acked_count >= target;
  };
  if (!wait_for_writes(20, 15s)) {
    stop = true;
    writer.join();
    FAIL() << "no writes before the SIGTERM";
  }
  auto sigterm_at = std::chrono::steady_clock::now();
  replicas[lead].Terminate();
  int status = replicas[lead].Wait(10s);
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - sigterm_at).count();
  EXPECT_TRUE(ExitedZero(status)) << "wait status " << status;
  EXPECT_LT(secs, 7);  // --drain_ms defaults to 5 s
  // The others elect a leader and take more writes. The bound is generous: under a full
  // parallel ctest another test may bind the departed leader's free port, and the client's
  // calls to that address then wait out a TLS handshake before it moves on.
  EXPECT_TRUE(wait_for_writes(20, 45s)) << "no writes after the leader left";
  stop = true;
  writer.join();
  ASSERT_GT(acked.size(), 10u);
  for (int i : acked) {
    auto got = (*client)->Get(absl::StrCat("k", i), "c");
    ASSERT_TRUE(got.ok()) << "acknowledged write k" << i << " lost: " << got.status();
    EXPECT_EQ(*got, absl::StrCat("v", i));
  }
  RemoveTree(dir);
}

// SIGTERM while one client is in the middle of DATA and another sits idle: the idle one is
// told 421 at once, the message in flight is still taken (250: stored), then that session
// gets its 421 too and the server exits 0.
TEST_F(OpsTest, SmtpSigtermFinishesTheMessageInFlightAndSays421ToIdleSessions) {
  namespace net = boost::asio;
  HttpClient web(fe_);
  SignUp(web, "drain");
  int smtp_port = FreePort();
  auto smtp = Process::Start(BinaryPath("smtp"),
                             {absl::StrCat("--port=", smtp_port), "--kvs=" + kvs_->spec(),
                              "--tls=false", "--relay=false", "--state_dir=" + dir_},
                             dir_ + "/smtp-drain.log");
  ASSERT_TRUE(smtp.ok()) << smtp.status();
  ASSERT_TRUE(WaitForPort(smtp_port)) << "smtp never listened; logs in " << dir_;

  net::io_context ioc;
  struct Session {
    explicit Session(net::io_context& ioc) : sock(ioc) {}
    net::ip::tcp::socket sock;
    net::streambuf buf;
    std::string Line() {
      boost::system::error_code ec;
      size_t n = net::read_until(sock, buf, "\r\n", ec);
      if (ec) return "<" + ec.message() + ">";
      std::string line(net::buffers_begin(buf.data()), net::buffers_begin(buf.data()) + n);
      buf.consume(n);
      return line;
    }
    std::string Say(const std::string& text) {
      net::write(sock, net::buffer(text));
      return Line();
    }
  };
  auto open = [&] {
    auto s = std::make_unique<Session>(ioc);
    s->sock.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(smtp_port)});
    EXPECT_EQ(s->Line().substr(0, 3), "220");
    return s;
  };
  auto idle = open();
  EXPECT_EQ(idle->Say("HELO idle\r\n").substr(0, 3), "250");
  auto busy = open();
  EXPECT_EQ(busy->Say("HELO busy\r\n").substr(0, 3), "250");
  EXPECT_EQ(busy->Say("MAIL FROM:<sender@example.com>\r\n").substr(0, 3), "250");
  EXPECT_EQ(busy->Say("RCPT TO:<drain@penncloud.local>\r\n").substr(0, 3), "250");
  EXPECT_EQ(busy->Say("DATA\r\n").substr(0, 3), "354");
  net::write(busy->sock, net::buffer(std::string("Subject: drained\r\n\r\nfirst line\r\n")));

  smtp->Terminate();
  // The idle session's 421 shows the drain has begun, with the message still unfinished.
  EXPECT_EQ(idle->Line().substr(0, 3), "421");
  EXPECT_EQ(busy->Say("second line\r\n.\r\n").substr(0, 3), "250");
  EXPECT_EQ(busy->Line().substr(0, 3), "421");
  int status = smtp->Wait(15s);
  EXPECT_TRUE(ExitedZero(status)) << "wait status " << status;
}

}  // namespace
}  // namespace penncloud::testing
