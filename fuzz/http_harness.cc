#include "fuzz/http_harness.h"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_replace.h"
#include "accounts/accounts.h"
#include "frontend/accounts_api.h"
#include "frontend/drive_api.h"
#include "frontend/mail_api.h"
#include "frontend/share_api.h"
#include "frontend/webdav.h"
#include "fuzz/check.h"
#include "kvs/client/memory_client.h"
#include "mail/mail_store.h"
#include "nlohmann/json.hpp"

namespace penncloud::fuzz {
namespace {

namespace http = boost::beast::http;
using penncloud::http::Request;
using penncloud::http::Response;

// Hands a buffered body out in small pieces, the way the server's reader does.
class PieceReader final : public penncloud::http::BodyReader {
 public:
  explicit PieceReader(std::string_view body) : rest_(body) {}
  absl::StatusOr<std::string> Read(size_t max_bytes) override {
    size_t n = std::min({max_bytes, rest_.size(), size_t{4096}});
    std::string piece(rest_.substr(0, n));
    rest_.remove_prefix(n);
    return piece;
  }

 private:
  std::string_view rest_;
};

// One frontend and its store, built fresh for every input so runs do not depend on each
// other.
struct World {
  kvs::MemoryClient store;
  accounts::Accounts accounts{&store, accounts::Options{.hash_params = accounts::kTestHashParams}};
  frontend::ApiContext ctx;
  penncloud::http::Router router;
  std::string token, csrf, mail_id;

  World() {
    ctx.store = &store;
    ctx.accounts = &accounts;
    frontend::RegisterAccountRoutes(router, ctx);
    frontend::RegisterMailRoutes(router, ctx);
    frontend::RegisterDriveRoutes(router, ctx);
    frontend::RegisterShareRoutes(router, ctx);
    frontend::RegisterWebDavRoutes(router, ctx);
    FUZZ_CHECK(accounts.SignUp("alice", "password1").ok());
    auto login = accounts.LogIn("alice", "password1");
    FUZZ_CHECK(login.ok());
    token = login->token;
    csrf = login->session.csrf;
    auto drive = frontend::SharedDrive(ctx);
    FUZZ_CHECK(drive->CreateFolder("alice", "/docs").ok());
    auto upload = drive->BeginUpload("alice", "/docs/a.txt", {});
    FUZZ_CHECK(upload.ok() && (*upload)->Append("0123456789").ok() && (*upload)->Commit().ok());
    FUZZ_CHECK(
        drive->PatchProperties("alice", "/docs", {{"{urn:x}color", "<v xmlns=\"\">red</v>"}}).ok());
    mail::MailStore mails(store);
    auto added = mails.Add("alice", mail::kInbox,
                           "From: bob@penncloud.local\r\nSubject: hi\r\nContent-Type: multipart/"
                           "mixed; boundary=b\r\n\r\n--b\r\n\r\nhello\r\n--b\r\nContent-"
                           "Disposition: attachment; filename=x.bin\r\n\r\nabc\r\n--b--\r\n",
                           false);
    FUZZ_CHECK(added.ok());
    mail_id = added->id();
  }
};

bool CleanHeaderText(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

void CheckResponse(Response& res) {
  FUZZ_CHECK(res.status >= 100 && res.status <= 599);
  // A 500 means a handler failed on its own; nothing a client sends should cause one.
  FUZZ_CHECK(res.status != 500);
  for (const auto& [name, value] : res.headers.fields()) {
    FUZZ_CHECK(!name.empty() && CleanHeaderText(name) && CleanHeaderText(value));
  }
  if (res.stream) {
    uint64_t total = 0;
    for (int pieces = 0; pieces < 1000; ++pieces) {
      auto piece = res.stream();
      if (!piece.ok()) return;  // the server cuts the connection: allowed
      if (!piece->has_value()) break;
      total += (*piece)->size();
    }
    if (res.content_length) FUZZ_CHECK(total == *res.content_length);
    return;
  }
  if (res.headers.Get("Content-Type") == "application/json" && !res.body.empty()) {
    FUZZ_CHECK(!nlohmann::json::parse(res.body, nullptr, false).is_discarded());
  }
}

}  // namespace

void RunHttpInput(const uint8_t* data, size_t size, const HttpFuzzOptions& options) {
  if (size < 1) return;
  const uint8_t flags = data[0];
  World world;
  std::string raw = absl::StrReplaceAll(
      std::string(reinterpret_cast<const char*>(data + 1), size - 1), {{"@ID", world.mail_id}});

  // Beast reads the request as the server's connection does (frontend/server.cc).
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 << 10);
  parser.body_limit(1 << 20);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t used = parser.put(boost::asio::buffer(raw), ec);
  (void)used;
  if (ec == http::error::need_more) parser.put_eof(ec);
  if (ec || !parser.is_header_done()) return;
  const auto& h = parser.get();

  Request req;
  req.method = std::string(h.method_string());
  req.target = std::string(h.target());
  for (const auto& field : h) {
    req.headers.Add(std::string(field.name_string()), std::string(field.value()));
  }
  if (auto len = parser.content_length()) req.content_length = *len;
  if (flags & 1) req.headers.Add("Cookie", "pc_session=" + world.token);
  if (flags & 2) req.headers.Add("X-CSRF-Token", world.csrf);
  if ((flags & 4) || options.webdav) {
    req.headers.Set("Authorization", "Basic " + absl::Base64Escape("alice:password1"));
  }
  if (options.webdav && !req.target.starts_with("/dav")) req.target = "/dav" + req.target;
  penncloud::http::ParseTarget(req);

  bool method_allowed = true;
  const penncloud::http::Route* route = world.router.Match(req, &method_allowed);
  if (route == nullptr) return;
  if (req.content_length && *req.content_length > route->options.max_body) return;  // 413
  std::string body = std::move(parser.get().body());
  PieceReader reader(body);
  if (route->options.stream_body) {
    req.body_reader = &reader;
  } else {
    req.body = body;
  }
  Response res = route->handler(req);
  CheckResponse(res);
}

}  // namespace penncloud::fuzz
