// A small blocking HTTP/1.1 client for whole-system tests of the web tier. One connection
// per Client, kept alive across calls and reopened when the server closed it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace penncloud::testing {

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string Header(const std::string& name) const;  // first match, case-insensitive
  std::vector<std::string> Headers(const std::string& name) const;
};

class HttpClient {
 public:
  explicit HttpClient(int port, int timeout_ms = 10000);
  ~HttpClient();

  // `headers` are sent as given; a "Cookie" header from the jar is added automatically
  // when `use_jar` (cookies set by earlier responses).
  absl::StatusOr<HttpResponse> Send(const std::string& method, const std::string& target,
                                    const std::string& body = "",
                                    const std::map<std::string, std::string>& headers = {});

  // Cookies remembered from Set-Cookie (name -> value); Max-Age=0 deletes.
  std::map<std::string, std::string>& jar() { return jar_; }
  bool use_jar = true;
  // How often a kept-alive connection was found closed and the request resent.
  int stale_retries = 0;

 private:
  class Conn;
  int port_;
  int timeout_ms_;
  std::unique_ptr<Conn> conn_;
  std::map<std::string, std::string> jar_;
};

}  // namespace penncloud::testing
