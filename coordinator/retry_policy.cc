#include "coordinator/retry_policy.h"

namespace penncloud::coordinator {

namespace http = boost::beast::http;

bool SafeToRepeat(http::verb method, std::string_view method_string) {
  switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::options:
    case http::verb::propfind:
    case http::verb::trace:
      return true;
    default:
      return method_string == "REPORT";
  }
}

RetryVerdict Decide(const ExchangeFailure& f) {
  RetryVerdict v;
  // A fresh connection that failed says the frontend is gone; a reused one may only have
  // been closed by the frontend while idle. An abandoned one was to a frontend already
  // marked down.
  const bool stale = f.reused && !f.connect && !f.abandoned;
  v.suspect = !stale;
  const bool never_reached = f.connect || !f.request_written;
  const bool repeatable = f.body_held && (never_reached || f.safe_method);
  if (!repeatable) return v;
  v.free_attempt = stale;
  v.retry = stale || f.attempts < f.max_attempts;
  return v;
}

}  // namespace penncloud::coordinator
