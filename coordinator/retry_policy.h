// What the proxy does when an exchange with a frontend fails before the client has seen
// any of the answer: try another frontend, or answer 502.
//
// A request is repeated when doing so cannot run it twice:
// - it provably never reached the frontend: the connection was refused or timed out, or
//   it broke before the whole request was written (a frontend acts only on a complete
//   request), whatever the method, as long as the proxy still holds the body (a streamed
//   upload is held only until its first piece is read from the client);
// - or it reached the frontend but only reads (GET, HEAD, OPTIONS, PROPFIND, TRACE,
//   REPORT) and its body is held.
// A write that reached a frontend is not repeated, not even an idempotent PUT or DELETE:
// the frontend may still carry it out after it failed (a frontend cut off from the
// network finishes it when the network heals), and the client, told 502 or gone, may have
// written something newer meanwhile; a copy repeated late would put old data over it.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <ostream>  // verb.hpp prints verbs but does not include it
#include <string_view>

namespace penncloud::coordinator {

// The methods that only read.
bool SafeToRepeat(boost::beast::http::verb method, std::string_view method_string);

struct ExchangeFailure {
  bool connect = false;          // the connection was never established
  bool request_written = false;  // the whole request went out to the frontend
  bool body_held = true;         // the proxy can send the body again
  bool safe_method = false;      // SafeToRepeat
  bool reused = false;           // on a pooled keep-alive connection
  bool abandoned = false;        // ended by the sweep: its frontend was marked down
  int attempts = 0;              // including this one
  int max_attempts = 3;
};

struct RetryVerdict {
  bool retry = false;
  // The attempt does not count: a pooled connection the frontend had closed while idle
  // (its request was never read), not a sign of a failed frontend.
  bool free_attempt = false;
  // The frontend looks gone: skip it until it beats again, and drop its idle connections.
  bool suspect = false;
};

RetryVerdict Decide(const ExchangeFailure& failure);

}  // namespace penncloud::coordinator
