// What a protocol session (SMTP or POP3) asks of the connection after one input line.
#pragma once

#include <string>

namespace penncloud::mail {

struct SessionOutput {
  std::string text;        // bytes to send (CRLF-terminated lines), possibly empty
  bool start_tls = false;  // after sending `text`, start TLS as the server
  bool close = false;      // after sending `text`, close the connection
};

}  // namespace penncloud::mail
