// Account security end to end (issue 16), with real clients against real processes: a KVS
// replica group, two frontends, smtp and pop3, all on one store.
// - App passwords: made through the JSON API (curl), used by Python's smtplib (STARTTLS),
//   poplib (STLS) and WebDAV (curl), revoked on one frontend and refused at once by every
//   server, the other frontend's WebDAV login cache included.
// - Two-step sign-in: set up through the API with codes computed here from the secret,
//   password + code login, and afterwards the protocols refuse the web password.
// - Sessions: listed with device and address, one ended, its cookie refused at once by the
//   other frontend.
#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "accounts/base32.h"
#include "accounts/totp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/mail/mail_system.h"

namespace penncloud::testing {
namespace {

using nlohmann::json;

struct Answer {
  int status = 0;
  json body;
};

class AccountSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto system = MailSystem::Start();
    ASSERT_TRUE(system.ok()) << system.status();
    sys_ = std::move(*system);
    for (int i = 0; i < 2; ++i) {
      frontend_ports_[i] = FreePort();
      auto p = Process::Start(
          BinaryPath("frontend"),
          {absl::StrCat("--port=", frontend_ports_[i]), "--kvs=" + sys_->kvs_spec(),
           "--coordinator=", "--web_root=" + SourcePath("web"), "--io_threads=1", "--workers=4"},
          absl::StrCat(sys_->dir(), "/frontend", i, ".log"));
      ASSERT_TRUE(p.ok()) << p.status();
      frontends_[i] = std::move(*p);
      ASSERT_TRUE(WaitForPort(frontend_ports_[i])) << "frontend did not start; " << sys_->dir();
    }
  }

  std::string Jar(const std::string& browser) { return sys_->dir() + "/" + browser + ".jar"; }

  // One JSON API call with curl, as `browser` (its own cookie jar and CSRF token), through
  // frontend `fe`.
  Answer Api(const std::string& browser, const std::string& method, const std::string& path,
             const json& body = nullptr, int fe = 0, const std::string& user_agent = "") {
    std::string cmd = absl::StrCat("curl -s -o ", sys_->dir(), "/body -w '%{http_code}' -X ",
                                   method, " -b ", Jar(browser), " -c ", Jar(browser));
    if (!csrf_[browser].empty()) absl::StrAppend(&cmd, " -H 'X-CSRF-Token: ", csrf_[browser], "'");
    if (!user_agent.empty()) absl::StrAppend(&cmd, " -A '", user_agent, "'");
    if (!body.is_null()) {
      std::ofstream(sys_->dir() + "/request") << body.dump();
      absl::StrAppend(&cmd, " -H 'Content-Type: application/json' --data-binary @", sys_->dir(),
                      "/request");
    }
    absl::StrAppend(&cmd, " http://127.0.0.1:", frontend_ports_[fe], path);
    ShResult r = Sh(cmd);
    Answer a;
    EXPECT_TRUE(absl::SimpleAtoi(r.output, &a.status)) << cmd << ": " << r.output;
    std::ifstream in(sys_->dir() + "/body");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    a.body = json::parse(text, nullptr, /*allow_exceptions=*/false);
    return a;
  }

  // Logs `browser` in with the password alone (two-step sign-in off).
  void LogIn(const std::string& browser, const std::string& user_agent = "", int fe = 0) {
    Answer a =
        Api(browser, "POST", "/api/login",
            {{"username", "alice"}, {"password", MailSystem::kAlicePassword}}, fe, user_agent);
    ASSERT_EQ(a.status, 200) << a.body;
    ASSERT_TRUE(a.body.contains("csrf")) << a.body;
    csrf_[browser] = a.body["csrf"];
  }

  std::string Mail(const std::string& protocol, const std::string& password) {
    int port = protocol == "smtp" ? sys_->smtp_port() : sys_->pop3_port();
    return Sh(absl::StrCat("/usr/bin/python3 ", SourcePath("tests/accounts/mail_login.py"), " ",
                           protocol, " ", port, " alice '", password, "'"))
        .output;
  }

  // The HTTP status of a WebDAV PROPFIND of the drive's root with Basic credentials.
  int Dav(const std::string& password, int fe = 0) {
    ShResult r = Sh(
        absl::StrCat("curl -s -o /dev/null -w '%{http_code}' -X PROPFIND -H 'Depth: 0' ",
                     "-u 'alice:", password, "' http://127.0.0.1:", frontend_ports_[fe], "/dav/"));
    int status = 0;
    EXPECT_TRUE(absl::SimpleAtoi(r.output, &status)) << r.output;
    return status;
  }

  // The TOTP code of a base32 secret for time step `step`. The test names steps, not
  // offsets from now, so a 30 s boundary passing mid-test cannot turn a reused code into
  // a fresh one.
  static std::string Code(const std::string& secret, int64_t step) {
    return accounts::HotpCode(*accounts::Base32Decode(secret), static_cast<uint64_t>(step));
  }

  std::unique_ptr<MailSystem> sys_;
  int frontend_ports_[2] = {0, 0};
  Process frontends_[2];
  std::map<std::string, std::string> csrf_;
};

TEST_F(AccountSecurityTest, AppPasswordWorksEverywhereUntilRevoked) {
  LogIn("browser");
  Answer made = Api("browser", "POST", "/api/account/app-passwords", {{"name", "Phone"}});
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string secret = made.body["password"];
  const std::string id = made.body["id"];

  EXPECT_EQ(Mail("smtp", secret), "smtp ok\n");
  EXPECT_EQ(Mail("pop3", secret), "pop3 ok\n");
  EXPECT_EQ(Dav(secret, 0), 207);
  EXPECT_EQ(Dav(secret, 1), 207);  // frontend 1 now holds it in its login cache
  EXPECT_EQ(Dav(secret, 1), 207);
  // The web password still works for the protocols while two-step sign-in is off.
  EXPECT_EQ(Mail("smtp", MailSystem::kAlicePassword), "smtp ok\n");

  Answer listed = Api("browser", "GET", "/api/account/app-passwords");
  ASSERT_EQ(listed.body["app_passwords"].size(), 1u) << listed.body;
  EXPECT_NE(listed.body["app_passwords"][0]["last_used"], nullptr);

  // Revoked on frontend 0: refused at once by both frontends' WebDAV (frontend 1's cached
  // login included), pop3 and smtp. (Each refusal is a failure step, and smtplib tries two
  // mechanisms, so this stays within the five free steps.)
  ASSERT_EQ(Api("browser", "DELETE", "/api/account/app-passwords/" + id).status, 200);
  EXPECT_EQ(Dav(secret, 1), 401);
  EXPECT_EQ(Dav(secret, 0), 401);
  EXPECT_EQ(Mail("pop3", secret).substr(0, 17), "pop3 refused -ERR");
  EXPECT_EQ(Mail("smtp", secret), "smtp refused 535\n");
  EXPECT_EQ(Api("browser", "GET", "/api/account/app-passwords").body["app_passwords"].size(), 0u);
}

TEST_F(AccountSecurityTest, TwoStepSignInAndThenProtocolsTakeOnlyAppPasswords) {
  LogIn("browser");
  EXPECT_EQ(Dav(MailSystem::kAlicePassword, 1), 207);  // cached by frontend 1 before 2FA
  Answer setup = Api("browser", "POST", "/api/account/two-factor/setup");
  ASSERT_EQ(setup.status, 200) << setup.body;
  const std::string secret = setup.body["secret"];
  EXPECT_NE(setup.body["qr_svg"].get<std::string>().find("<path"), std::string::npos);
  EXPECT_EQ(Api("browser", "POST", "/api/account/two-factor/confirm", {{"code", "000000"}}).status,
            400);
  const int64_t enrolled = accounts::TotpStep(absl::Now());
  Answer on =
      Api("browser", "POST", "/api/account/two-factor/confirm", {{"code", Code(secret, enrolled)}});
  ASSERT_EQ(on.status, 200) << on.body;
  ASSERT_EQ(on.body["recovery_codes"].size(), 10u);
  Answer app = Api("browser", "POST", "/api/account/app-passwords", {{"name", "Laptop"}});
  ASSERT_EQ(app.status, 201);
  const std::string app_secret = app.body["password"];

  // A new browser: the password step sets no cookie and asks for a code.
  Answer first = Api("phone", "POST", "/api/login",
                     {{"username", "alice"}, {"password", MailSystem::kAlicePassword}}, 1);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.body["code_required"], true);
  EXPECT_EQ(Api("phone", "GET", "/api/me", nullptr, 1).status, 401);
  const std::string ticket = first.body["ticket"];
  EXPECT_EQ(Api("phone", "POST", "/api/login/code",
                {{"ticket", ticket}, {"code", Code(secret, enrolled)}}, 1)
                .status,
            401);  // used at enrollment: no code twice
  Answer done = Api("phone", "POST", "/api/login/code",
                    {{"ticket", ticket}, {"code", Code(secret, enrolled + 1)}}, 1);
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(Api("phone", "GET", "/api/me", nullptr, 0).status, 200);

  // The protocols now refuse the web password (frontend 1's cached login too) and take the
  // app password.
  EXPECT_EQ(Mail("smtp", MailSystem::kAlicePassword), "smtp refused 535\n");
  EXPECT_EQ(Mail("pop3", MailSystem::kAlicePassword).substr(0, 17), "pop3 refused -ERR");
  EXPECT_EQ(Dav(MailSystem::kAlicePassword, 1), 401);
  EXPECT_EQ(Mail("smtp", app_secret), "smtp ok\n");
  EXPECT_EQ(Mail("pop3", app_secret), "pop3 ok\n");
  EXPECT_EQ(Dav(app_secret, 0), 207);
}

TEST_F(AccountSecurityTest, SessionsAreListedAndEndedEverywhereAtOnce) {
  LogIn("laptop", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", 0);
  LogIn("phone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) AppleWebKit/605 Safari/604.1", 1);
  LogIn("tablet", "", 1);
  Answer list = Api("laptop", "GET", "/api/account/sessions");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.body["sessions"].size(), 3u) << list.body;
  EXPECT_EQ(list.body["sessions"][0]["current"], true);
  EXPECT_EQ(list.body["sessions"][0]["device"], "Firefox on Linux");
  EXPECT_EQ(list.body["sessions"][0]["address"], "127.0.0.1");
  std::string phone_id;
  for (const json& s : list.body["sessions"]) {
    if (s["device"] == "Safari on iPhone") phone_id = s["id"];
  }
  ASSERT_FALSE(phone_id.empty()) << list.body;

  // Ended through frontend 0; the phone's cookie is refused by frontend 1 at once.
  EXPECT_EQ(Api("phone", "GET", "/api/me", nullptr, 1).status, 200);
  ASSERT_EQ(Api("laptop", "DELETE", "/api/account/sessions/" + phone_id).status, 200);
  EXPECT_EQ(Api("phone", "GET", "/api/me", nullptr, 1).status, 401);
  EXPECT_EQ(Api("tablet", "GET", "/api/me", nullptr, 1).status, 200);
  ASSERT_EQ(Api("laptop", "POST", "/api/account/sessions/end-others").status, 200);
  EXPECT_EQ(Api("tablet", "GET", "/api/me", nullptr, 1).status, 401);
  EXPECT_EQ(Api("laptop", "GET", "/api/me", nullptr, 1).status, 200);
  EXPECT_EQ(Api("laptop", "GET", "/api/account/sessions").body["sessions"].size(), 1u);
}

}  // namespace
}  // namespace penncloud::testing
