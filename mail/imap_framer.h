// Cuts an IMAP client's byte stream into what ImapSession takes: literal bytes while the
// session wants them, whatever their length (never split into lines), and lines otherwise.
// A line longer than `max_line_bytes` is dropped whole, even when it arrives in many reads,
// and answered with OnLineTooLong. Pure: the connection owns the socket and the buffer.
#pragma once

#include <cstddef>
#include <string>

#include "mail/imap_session.h"
#include "mail/session_output.h"

namespace penncloud::mail {

class ImapFramer {
 public:
  ImapFramer(ImapSession& session, size_t max_line_bytes)
      : session_(session), max_line_bytes_(max_line_bytes) {}

  // Hands everything complete at the front of `in` to the session and erases it from `in`,
  // leaving a partial line for the next call. Stops after a reply that closes, and after
  // one that starts TLS when `tls_can_start`: then the rest of `in` is dropped too, since
  // nothing sent before the handshake may be used (RFC 9051 6.2.1).
  SessionOutput Feed(std::string& in, bool tls_can_start);

 private:
  ImapSession& session_;
  const size_t max_line_bytes_;
  bool discarding_ = false;  // inside a line that grew past max_line_bytes
};

}  // namespace penncloud::mail
