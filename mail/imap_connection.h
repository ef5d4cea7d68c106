// One IMAP connection of ImapServer: the ImapSession of one client, fed from a
// NonblockingStream. Everything but the session's commands runs on the connection's strand
// of the server's few I/O threads; a command's processing (which may call the store and
// block) is handed to the worker pool, and the connection reads again only once its reply
// is sent. So at any time the session is touched by one thread.
//
// Framing (literals raw, lines one by one, an over-long line dropped whole) is ImapFramer's.
//
// Memory: an idle connection holds no read buffer (the stream waits for readability, not
// for bytes), and the input buffer is released or shrunk once a batch is handled, so a
// big literal leaves nothing behind.
//
// While the session is in IDLE the connection holds a watch of the server's IdleWaker;
// each wake runs OnPoll on a worker and sends what it returns. While the session awaits an
// entry its folder's counters already show (ImapSession::RecheckAfter), a timer wakes it
// too: the watch reports the change number, not the entry written after it.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "mail/idle_waker.h"
#include "mail/imap_framer.h"
#include "mail/imap_session.h"
#include "mail/nonblocking_stream.h"
#include "mail/session_output.h"

namespace penncloud::mail {

class ImapConnection : public std::enable_shared_from_this<ImapConnection> {
 public:
  // What every connection of one server shares; outlives them all.
  struct Shared {
    SSL_CTX* tls = nullptr;  // null: no STARTTLS
    bool implicit_tls = false;
    size_t max_line_bytes = 64 << 10;
    boost::asio::thread_pool* workers = nullptr;
    IdleWaker* waker = nullptr;
    std::function<void(ImapConnection&)> closed;  // once per connection, on its strand
  };

  // `socket`'s executor must be a strand of its own: it becomes the connection's.
  ImapConnection(const Shared& shared, boost::asio::ip::tcp::socket socket, uint64_t id,
                 std::string peer, std::unique_ptr<ImapSession> session);

  // These three may be called from any thread.
  void Start();
  // Says BYE and closes once no command is running (a running one finishes first).
  void Shutdown();
  // Closes now, without a word.
  void Close();

  uint64_t id() const { return id_; }
  const std::string& peer() const { return peer_; }
  // When the client last sent anything (or connected).
  std::chrono::steady_clock::time_point last_active() const {
    return std::chrono::steady_clock::time_point(
        std::chrono::steady_clock::duration(last_active_.load(std::memory_order_relaxed)));
  }

 private:
  // The steps, all on the strand.
  void Greet();
  void StartTls(std::function<void()> then);
  void ArmRead();
  void OnRead(bool ok);
  void OnWake();
  // Hands `in_` (Process) or an IDLE look (Poll) to a worker, then sends the reply.
  void Process();
  void Poll();
  void Send(SessionOutput reply);
  // After a reply is sent: the next step for whatever happened meanwhile.
  void Continue();
  void SayByeAndClose();
  void Finish();
  void UpdateWatch();
  // Arms the timer of the session's RecheckAfter, or drops it when nothing is awaited.
  void UpdateRecheck();
  void Touch();

  // On a worker: hands everything complete in `in_` to the session.
  SessionOutput Feed();

  const Shared& shared_;
  const boost::asio::any_io_executor strand_;
  const uint64_t id_;
  const std::string peer_;
  const std::unique_ptr<ImapSession> session_;
  ImapFramer framer_;  // on a worker, one at a time, like the session
  NonblockingStream stream_;
  std::atomic<std::chrono::steady_clock::rep> last_active_;

  // Strand state.
  std::string in_;            // read, not yet handed to the session (a worker's during Process)
  bool busy_ = false;         // a handshake, a worker's job or a reply in flight
  bool reading_ = false;      // a read is pending
  bool handshaking_ = false;  // a TLS handshake is pending
  bool input_ready_ = false;  // a read completed while busy
  bool read_failed_ = false;  // a read failed while busy
  bool wake_pending_ = false;
  bool stopping_ = false;
  bool finished_ = false;
  std::unique_ptr<IdleWaker::Watch> watch_;
  std::unique_ptr<boost::asio::steady_timer> recheck_;  // only while a recheck is due
};

}  // namespace penncloud::mail
