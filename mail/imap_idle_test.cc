// The IMAP server's IDLE push in one process: ImapServer on loopback over an in-memory store,
// woken by the poll (the binary's --idle_watch=false) or by MailboxWatch, and a client on a
// plain socket. Sessions count as under TLS so the client may log in in the clear: this is
// about wakes, not about TLS (the process tests cover TLS). Under ThreadSanitizer
// (tests/mail/imap_tsan.sh) it runs the server's threads, the watch's and the store's in
// one instrumented process.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "kvs/client/forwarding_client.h"
#include "kvs/client/memory_client.h"
#include "mail/imap_server.h"
#include "mail/imap_test_fixture.h"
#include "mail/mailbox_idle_waker.h"
#include "mail/mailbox_watch.h"

namespace penncloud::mail {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The in-memory store, except that while held, writing a new Inbox entry waits for Release:
// a writer that took its change number and UID and is slow to write the entry. HoldOne
// holds only the next such write, and lets later ones by.
class SlowEntryStore final : public kvs::ForwardingClient {
 public:
  explicit SlowEntryStore(kvs::Client& inner) : ForwardingClient(inner) {}
  void Hold() {
    std::lock_guard lock(mu_);
    held_ = true;
  }
  void HoldOne() {
    std::lock_guard lock(mu_);
    held_ = true;
    hold_one_ = true;
  }
  void Release() {
    std::lock_guard lock(mu_);
    held_ = false;
    cv_.notify_all();
  }

  absl::StatusOr<bool> CPut(std::string_view row, std::string_view column,
                            std::optional<std::string_view> expected,
                            std::string_view value) override {
    if (column.starts_with(FolderPrefix(kInbox))) {
      std::unique_lock lock(mu_);
      if (held_ && (!hold_one_ || !one_taken_)) {
        one_taken_ = hold_one_;
        cv_.wait_for(lock, std::chrono::seconds(20), [&] { return !held_; });
      }
    }
    return ForwardingClient::CPut(row, column, expected, value);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;       // GUARDED_BY(mu_)
  bool hold_one_ = false;   // GUARDED_BY(mu_)
  bool one_taken_ = false;  // GUARDED_BY(mu_)
};

// A blocking IMAP client on a plain socket; every wait is bounded.
class Client {
 public:
  explicit Client(int port) {
    boost::system::error_code ec;
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)}, ec);
    EXPECT_FALSE(ec) << ec.message();
  }
  void Send(const std::string& line) {
    boost::system::error_code ec;
    boost::asio::write(socket_, boost::asio::buffer(line + "\r\n"), ec);
    EXPECT_FALSE(ec) << ec.message();
  }
  // Reads until `text` has arrived since the last wait that found its text; false if it
  // did not within `bound` (or the server closed first).
  bool WaitFor(const std::string& text, milliseconds bound = milliseconds(10000)) {
    const auto deadline = Clock::now() + bound;
    while (true) {
      if (size_t at = seen_.find(text); at != std::string::npos) {
        seen_.erase(0, at + text.size());
        return true;
      }
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left <= milliseconds(0)) return false;
      pollfd p{socket_.native_handle(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buffer[4096];
      ssize_t n = ::recv(socket_.native_handle(), buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      seen_.append(buffer, static_cast<size_t>(n));
    }
  }
  // Logs in as alice and selects INBOX.
  void SelectInbox() {
    ASSERT_TRUE(WaitFor("* OK"));
    Send("a LOGIN alice secret");
    ASSERT_TRUE(WaitFor("a OK"));
    Send("b SELECT INBOX");
    ASSERT_TRUE(WaitFor("b OK"));
  }
  // Logs in as alice and waits in IDLE on INBOX.
  void IdleOnInbox() {
    SelectInbox();
    Send("c IDLE");
    ASSERT_TRUE(WaitFor("+ idling"));
  }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_{io_};
  std::string seen_;
};

class ImapIdleTest : public ::testing::Test {
 protected:
  // Watched: IDLE waits on MailboxWatch, whose own fallback is out of reach (only changes
  // and rechecks wake); otherwise on the poll alone.
  void StartServer(bool watched) {
    ImapServerOptions options;
    if (watched) {
      watch_ = std::make_unique<MailboxWatch>(
          kvs_, MailboxWatchOptions{.fallback = std::chrono::minutes(2)});
      waker_ = std::make_unique<MailboxIdleWaker>(*watch_);
      options.idle_waker = waker_.get();
    }
    options.poll_interval = kPoll;
    options.io_threads = 2;
    options.worker_threads = 4;
    server_ = std::make_unique<ImapServer>(options, [this](const std::string&) {
      auto session = std::make_unique<ImapSession>(config_, store_, Check);
      session->OnTlsStarted();
      return session;
    });
    ASSERT_TRUE(server_->Start().ok());
  }
  void Deliver(const std::string& subject) {
    ASSERT_TRUE(store_.Add("alice", kInbox, Message(subject), false).ok());
  }
  void WaitForUidNext(uint32_t uid_next) {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline && store_.State("alice", kInbox)->uid_next() != uid_next) {
      std::this_thread::sleep_for(milliseconds(5));
    }
    ASSERT_EQ(store_.State("alice", kInbox)->uid_next(), uid_next);
  }

  static constexpr milliseconds kPoll{200};
  kvs::MemoryClient memory_;
  SlowEntryStore kvs_{memory_};
  MailStore store_{kvs_};
  ImapConfig config_;
  std::unique_ptr<MailboxWatch> watch_;
  std::unique_ptr<MailboxIdleWaker> waker_;
  std::unique_ptr<ImapServer> server_;
};

TEST_F(ImapIdleTest, ThePollAloneDeliversExistsWithinThePollPeriod) {
  StartServer(/*watched=*/false);  // no watch anywhere: only the poll can tell the session
  Client client(server_->port());
  client.IdleOnInbox();
  const auto delivered = Clock::now();
  Deliver("polled");
  // One poll period, plus room for a loaded machine (and ThreadSanitizer's slowdown).
  ASSERT_TRUE(client.WaitFor("* 1 EXISTS", kPoll + milliseconds(1800)));
  std::cout << "EXISTS after " << (Clock::now() - delivered) / milliseconds(1) << " ms\n";
  client.Send("DONE");
  EXPECT_TRUE(client.WaitFor("c OK IDLE terminated"));
}

TEST_F(ImapIdleTest, AnEntryWrittenLongAfterItsChangeNumberStillReachesAnIdlingClient) {
  StartServer(/*watched=*/true);
  Client client(server_->port());
  client.IdleOnInbox();

  kvs_.Hold();
  std::thread writer([&] { Deliver("slow"); });
  // The UID is taken (the watched cell moved, waking the session) and the entry held back.
  WaitForUidNext(2);
  // The entry lands a second later, long after the watch's settle call (300 ms).
  EXPECT_FALSE(client.WaitFor("EXISTS", milliseconds(1000)));
  const auto written = Clock::now();
  kvs_.Release();
  writer.join();
  // The session's rechecks back off by doubling from 250 ms: the next is about 1 s away.
  ASSERT_TRUE(client.WaitFor("* 1 EXISTS", milliseconds(4000)));
  std::cout << "EXISTS " << (Clock::now() - written) / milliseconds(1)
            << " ms after the entry was written\n";
}

// Two deliveries take UIDs 1 and 2; the entry of 1 is written last. Announcing 2 first
// would hide 1 for good: UIDs only ascend within a selection.
TEST_F(ImapIdleTest, AnEntryWrittenAfterAHigherUidsIsAnnouncedBeforeIt) {
  StartServer(/*watched=*/true);
  Client client(server_->port());
  client.IdleOnInbox();

  kvs_.HoldOne();
  std::thread slow([&] { Deliver("first numbered, written last"); });
  WaitForUidNext(2);
  Deliver("second numbered, written first");
  EXPECT_FALSE(client.WaitFor("EXISTS", milliseconds(1000)));
  kvs_.Release();
  slow.join();
  ASSERT_TRUE(client.WaitFor("* 2 EXISTS", milliseconds(4000)));
  client.Send("DONE");
  ASSERT_TRUE(client.WaitFor("c OK"));
  client.Send("d UID FETCH 1:* (UID)");
  EXPECT_TRUE(client.WaitFor("* 1 FETCH (UID 1)"));
  EXPECT_TRUE(client.WaitFor("* 2 FETCH (UID 2)"));
  EXPECT_TRUE(client.WaitFor("d OK"));
}

// A UID that is never listed (its message expunged before the session looked, or its
// writer dead) holds the entries above it back only as long as a write may take.
TEST_F(ImapIdleTest, AUidThatNeverShowsHoldsNewerEntriesBackOnlyForALongestWrite) {
  StartServer(/*watched=*/true);
  Client client(server_->port());
  client.SelectInbox();
  auto gone = store_.Add("alice", kInbox, Message("expunged unseen"), false);
  ASSERT_TRUE(gone.ok());
  ASSERT_TRUE(store_.Remove("alice", kInbox, gone->id()).ok());
  Deliver("after the gap");
  const auto listed = Clock::now();
  client.Send("c IDLE");
  ASSERT_TRUE(client.WaitFor("+ idling"));
  EXPECT_FALSE(client.WaitFor("EXISTS", milliseconds(2000)));
  ASSERT_TRUE(client.WaitFor("* 1 EXISTS", std::chrono::seconds(25)));
  const auto waited = Clock::now() - listed;
  EXPECT_GE(waited, std::chrono::seconds(14));
  std::cout << "EXISTS after " << waited / milliseconds(1) << " ms\n";
}

TEST_F(ImapIdleTest, ManyIdlersHearEveryDeliveryAndStopSaysByeToAll) {
  StartServer(/*watched=*/true);
  constexpr int kIdlers = 6;
  constexpr int kDeliveries = 4;
  std::vector<std::unique_ptr<Client>> idlers;
  for (int i = 0; i < kIdlers; ++i) {
    idlers.push_back(std::make_unique<Client>(server_->port()));
    idlers.back()->IdleOnInbox();
  }
  // Deliveries from two threads, while a seventh client comes and goes with commands.
  std::thread busy([&] {
    Client c(server_->port());
    ASSERT_TRUE(c.WaitFor("* OK"));
    c.Send("a LOGIN alice secret");
    ASSERT_TRUE(c.WaitFor("a OK"));
    for (int i = 0; i < 10; ++i) {
      c.Send("b SELECT INBOX");
      ASSERT_TRUE(c.WaitFor("b OK"));
      c.Send("c FETCH 1:* (FLAGS ENVELOPE)");
      ASSERT_TRUE(c.WaitFor("c OK"));
    }
    c.Send("d LOGOUT");
    EXPECT_TRUE(c.WaitFor("d OK"));
  });
  std::thread second([&] {
    for (int i = 0; i < kDeliveries / 2; ++i) Deliver("second " + std::to_string(i));
  });
  for (int i = 0; i < kDeliveries / 2; ++i) Deliver("first " + std::to_string(i));
  second.join();
  busy.join();
  for (auto& idler : idlers) {
    EXPECT_TRUE(idler->WaitFor("* " + std::to_string(kDeliveries) + " EXISTS"));
  }
  // Half leave IDLE and stay; Stop says goodbye to idling and quiet sessions alike.
  for (int i = 0; i < kIdlers / 2; ++i) {
    idlers[i]->Send("DONE");
    EXPECT_TRUE(idlers[i]->WaitFor("c OK IDLE terminated"));
  }
  server_->Stop();
  for (auto& idler : idlers) EXPECT_TRUE(idler->WaitFor("* BYE"));
  EXPECT_EQ(server_->connections(), 0u);
}

}  // namespace
}  // namespace penncloud::mail
