// Every server binary leaves promptly on SIGTERM, as a container engine or Kubernetes asks
// it to: after real traffic, with client connections still open, each exits 0 within 5 s
// (compose gives 15 s before SIGKILL, Kubernetes 30 s). SMTP is tested hardest: a finished
// message, a session idling inside an open transaction (MAIL and RCPT accepted, no DATA), and
// a half-open connection on the implicit-TLS port, with the outbound relay running.
#include <sys/wait.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "accounts/accounts.h"
#include "gtest/gtest.h"
#include "kvs/client/connect.h"
#include "tests/support/kvs_group.h"
#include "tests/support/process.h"

namespace penncloud::testing {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

constexpr auto kPromptly = 5s;

// One client connection, spoken to line by line.
class Conn {
 public:
  explicit Conn(int port) : sock_(io_) {
    sock_.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  }
  // Reads one line (CRLF included), or "<error>" once the server closed.
  std::string Line() {
    boost::system::error_code ec;
    size_t n = net::read_until(sock_, buf_, "\r\n", ec);
    if (ec) return "<" + ec.message() + ">";
    std::string line(net::buffers_begin(buf_.data()), net::buffers_begin(buf_.data()) + n);
    buf_.consume(n);
    return line;
  }
  // The last line of a reply (SMTP multi-line replies continue with "250-").
  std::string Say(const std::string& text) {
    net::write(sock_, net::buffer(text));
    std::string line = Line();
    while (line.size() > 3 && line[3] == '-') line = Line();
    return line;
  }
  // Everything up to the end of an HTTP response's header block.
  std::string HttpHead(const std::string& request) {
    net::write(sock_, net::buffer(request));
    boost::system::error_code ec;
    size_t n = net::read_until(sock_, buf_, "\r\n\r\n", ec);
    if (ec) return "<" + ec.message() + ">";
    std::string head(net::buffers_begin(buf_.data()), net::buffers_begin(buf_.data()) + n);
    buf_.consume(buf_.size());
    return head;
  }

 private:
  net::io_context io_;
  net::ip::tcp::socket sock_;
  net::streambuf buf_;
};

// SIGTERM, then the seconds until the process was gone; fails unless it exited 0 in time.
double TerminateAndTime(Process& p, const std::string& what, const std::string& log) {
  auto start = std::chrono::steady_clock::now();
  p.Terminate();
  int status = p.Wait(20s);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(status, -1) << what << " still running 20 s after SIGTERM; log " << log;
  EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << what << " wait status " << status << "; log " << log;
  EXPECT_LT(secs, std::chrono::duration<double>(kPromptly).count())
      << what << " took " << secs << " s to exit; log " << log;
  std::cout << what << " exited " << secs << " s after SIGTERM\n";
  return secs;
}

class SigtermTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KvsGroupOptions options;
    options.replicas = 1;
    auto group = KvsGroup::Start(options);
    ASSERT_TRUE(group.ok()) << group.status();
    kvs_ = std::move(*group);
    dir_ = kvs_->dir();
  }

  Process Start(const std::string& binary, std::vector<std::string> args, int wait_port) {
    std::string log = absl::StrCat(dir_, "/", binary, ".log");
    auto p = Process::Start(BinaryPath(binary), args, log);
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return Process();
    EXPECT_TRUE(WaitForPort(wait_port)) << binary << " never listened; log " << log;
    return std::move(*p);
  }
  std::string Log(const std::string& binary) { return absl::StrCat(dir_, "/", binary, ".log"); }

  std::unique_ptr<KvsGroup> kvs_;
  std::string dir_;
};

TEST_F(SigtermTest, SmtpAfterMailWithSessionsOpenAndTheRelayRunning) {
  {
    auto client = kvs::Connect(kvs_->spec());
    ASSERT_TRUE(client.ok()) << client.status();
    accounts::Options options;
    options.hash_params = accounts::kTestHashParams;
    accounts::Accounts accounts(client->get(), options);
    ASSERT_TRUE(accounts.SignUp("carol", "carol-secret-1").ok());
  }
  int port = FreePort(), smtps = FreePort();
  // The relay runs (its default) against a smarthost nobody listens on.
  Process smtp = Start(
      "smtp",
      {absl::StrCat("--port=", port), absl::StrCat("--smtps_port=", smtps), "--kvs=" + kvs_->spec(),
       "--state_dir=" + dir_, absl::StrCat("--smarthost=127.0.0.1:", FreePort())},
      port);
  ASSERT_TRUE(smtp.running());
  ASSERT_TRUE(WaitForPort(smtps));

  Conn delivered(port);
  EXPECT_EQ(delivered.Line().substr(0, 3), "220");
  EXPECT_EQ(delivered.Say("EHLO a.example\r\n").substr(0, 3), "250");
  EXPECT_EQ(delivered.Say("MAIL FROM:<a@a.example>\r\n").substr(0, 3), "250");
  EXPECT_EQ(delivered.Say("RCPT TO:<carol@penncloud.local>\r\n").substr(0, 3), "250");
  EXPECT_EQ(delivered.Say("DATA\r\n").substr(0, 3), "354");
  EXPECT_EQ(delivered.Say("Subject: before the stop\r\n\r\nhello\r\n.\r\n").substr(0, 3), "250");

  Conn pending(port);  // a transaction left open: MAIL and RCPT taken, DATA never sent
  EXPECT_EQ(pending.Line().substr(0, 3), "220");
  EXPECT_EQ(pending.Say("EHLO b.example\r\n").substr(0, 3), "250");
  EXPECT_EQ(pending.Say("MAIL FROM:<b@b.example>\r\n").substr(0, 3), "250");
  EXPECT_EQ(pending.Say("RCPT TO:<carol@penncloud.local>\r\n").substr(0, 3), "250");

  Conn handshake(smtps);  // connected to the implicit-TLS port, handshake never started

  TerminateAndTime(smtp, "smtp", Log("smtp"));
  EXPECT_EQ(delivered.Line().substr(0, 3), "421");
  EXPECT_EQ(pending.Line().substr(0, 3), "421");
}

TEST_F(SigtermTest, Pop3AndImapWithSessionsOpen) {
  int pop3_port = FreePort(), pop3s = FreePort(), imap_port = FreePort(), imaps = FreePort();
  Process pop3 = Start("pop3",
                       {absl::StrCat("--port=", pop3_port), absl::StrCat("--pop3s_port=", pop3s),
                        "--kvs=" + kvs_->spec(), "--state_dir=" + dir_},
                       pop3_port);
  Process imap = Start("imap",
                       {absl::StrCat("--port=", imap_port), absl::StrCat("--imaps_port=", imaps),
                        "--kvs=" + kvs_->spec(), "--state_dir=" + dir_},
                       imap_port);
  ASSERT_TRUE(pop3.running() && imap.running());

  Conn pop(pop3_port);
  EXPECT_EQ(pop.Line().substr(0, 3), "+OK");
  EXPECT_EQ(pop.Say("USER nobody\r\n").substr(0, 3), "-ER");  // logins only after STLS
  Conn pop_tls(pop3s);
  Conn im(imap_port);
  EXPECT_EQ(im.Line().substr(0, 4), "* OK");
  EXPECT_NE(im.Say("a CAPABILITY\r\n").find("STARTTLS"), std::string::npos);
  Conn im_tls(imaps);

  TerminateAndTime(pop3, "pop3", Log("pop3"));
  TerminateAndTime(imap, "imap", Log("imap"));
}

TEST_F(SigtermTest, CoordinatorAndFrontendWithKeepAliveConnectionsOpen) {
  int http = FreePort(), grpc = FreePort(), fe = FreePort();
  Process coordinator =
      Start("coordinator",
            {absl::StrCat("--http_port=", http), absl::StrCat("--grpc_port=", grpc),
             "--kvs=" + kvs_->spec(), "--io_threads=1"},
            http);
  Process frontend = Start("frontend",
                           {absl::StrCat("--port=", fe), "--kvs=" + kvs_->spec(),
                            absl::StrCat("--coordinator=127.0.0.1:", grpc),
                            "--web_root=" + SourcePath("web"), "--io_threads=1", "--workers=4"},
                           fe);
  ASSERT_TRUE(coordinator.running() && frontend.running());

  Conn to_frontend(fe);
  EXPECT_EQ(to_frontend.HttpHead("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").substr(0, 12),
            "HTTP/1.1 200");
  Conn to_coordinator(http);
  EXPECT_EQ(to_coordinator.HttpHead("GET /admin HTTP/1.1\r\nHost: x\r\n\r\n").substr(0, 9),
            "HTTP/1.1 ");

  TerminateAndTime(frontend, "frontend", Log("frontend"));
  TerminateAndTime(coordinator, "coordinator", Log("coordinator"));
}

TEST_F(SigtermTest, KvsReplicaWithAClientConnected) {
  int port = FreePort();
  Process replica = Start(
      "kvs_server",
      {"--id=1", absl::StrCat("--peers=1=127.0.0.1:", port), "--data_dir=" + dir_ + "/own-replica"},
      port);
  ASSERT_TRUE(replica.running());
  auto client = kvs::Connect(absl::StrCat("127.0.0.1:", port));
  ASSERT_TRUE(client.ok()) << client.status();
  absl::Status put;
  for (int i = 0; i < 100 && !(put = (*client)->Put("row", "col", "value")).ok(); ++i) {
    std::this_thread::sleep_for(100ms);  // until the lone replica has made itself leader
  }
  ASSERT_TRUE(put.ok()) << put;
  TerminateAndTime(replica, "kvs_server", Log("kvs_server"));
}

}  // namespace
}  // namespace penncloud::testing
