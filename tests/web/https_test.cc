// HTTPS at the coordinator (:8443 in production), with curl as the client: the same site
// and console over TLS 1.2/1.3 with a certificate from a cluster CA (scripts/lib/tls.sh),
// HSTS, Secure cookies exactly over HTTPS, the client unable to claim HTTPS over plain
// HTTP, and a public deployment redirecting plain HTTP.
#include <sys/wait.h>

#include <cstdio>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/web/web_cluster.h"

namespace penncloud::testing {
namespace {

// Runs a shell command; its stdout, and the exit status in `status`.
std::string ShellOut(const std::string& command, int* status = nullptr) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  if (status != nullptr) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

// The response head curl printed (-D -), lower-cased names for lookups.
struct Head {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string Get(const std::string& name) const {
    for (const auto& [k, v] : fields) {
      if (absl::EqualsIgnoreCase(k, name)) return v;
    }
    return "";
  }
};

Head ParseHead(const std::string& text) {
  Head head;
  std::vector<std::string> lines = absl::StrSplit(text, "\r\n");
  for (const std::string& line : lines) {
    if (line.starts_with("HTTP/")) {
      head = Head();  // a later head (after 100 Continue) replaces the first
      std::vector<std::string> parts = absl::StrSplit(line, ' ');
      if (parts.size() > 1) head.status = std::atoi(parts[1].c_str());
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    head.fields.emplace_back(line.substr(0, colon), value);
  }
  return head;
}

// The cluster CA and the coordinator's HTTPS certificate, made by the script start.sh uses.
std::string MakeCertificates(const std::string& dir) {
  std::string tls = SourcePath("scripts/lib/tls.sh");
  int status = 0;
  ShellOut(absl::StrCat("bash ", tls, " ca ", dir, " && bash ", tls, " issue ", dir,
                        " https web/https 127.0.0.1 2>&1"),
           &status);
  return status == 0 ? dir : "";
}

class HttpsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tls_dir_ = new std::string(MakeCertificates(TempDir("penncloud-https-ca")));
    ASSERT_FALSE(tls_dir_->empty());
    https_port_ = FreePort();
    auto c = WebCluster::Start({.frontends = 2,
                                .coordinator_flags = {absl::StrCat("--https_port=", https_port_),
                                                      "--tls_cert=" + *tls_dir_ + "/https.crt",
                                                      "--tls_key=" + *tls_dir_ + "/https.key"}});
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = c->release();
    ASSERT_TRUE(WaitForPort(https_port_));
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
    if (tls_dir_ != nullptr) RemoveTree(*tls_dir_);
    delete tls_dir_;
  }

  // curl over HTTPS, verifying the server against the cluster CA.
  static std::string Https(const std::string& args, const std::string& path, int* status = nullptr,
                           const std::string& host = "127.0.0.1") {
    return ShellOut(
        absl::StrCat("curl -sS --max-time 10 -D - -o /dev/null --cacert ", *tls_dir_, "/ca.crt ",
                     args, " https://", host, ":", https_port_, path, " 2>&1"),
        status);
  }
  static std::string Http(const std::string& args, const std::string& path) {
    return ShellOut(absl::StrCat("curl -sS --max-time 10 -D - -o /dev/null ", args,
                                 " http://127.0.0.1:", cluster_->http_port(), path, " 2>&1"));
  }
  static std::string SignUp(const std::string& user) {
    return absl::StrCat("-H 'Content-Type: application/json' --data '{\"username\":\"", user,
                        "\",\"password\":\"password1\"}'");
  }

  static WebCluster* cluster_;
  static std::string* tls_dir_;
  static int https_port_;
};
WebCluster* HttpsTest::cluster_ = nullptr;
std::string* HttpsTest::tls_dir_ = nullptr;
int HttpsTest::https_port_ = 0;

TEST_F(HttpsTest, ServesTheSiteWithHstsAndACertificateFromTheClusterCa) {
  int status = -1;
  Head page = ParseHead(Https("", "/login", &status));
  ASSERT_EQ(status, 0) << "curl failed to verify or connect";
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.Get("Content-Type").find("text/html"), std::string::npos);
  EXPECT_TRUE(page.Get("Strict-Transport-Security").starts_with("max-age="))
      << page.Get("Strict-Transport-Security");
  // The certificate also names localhost.
  EXPECT_EQ(ParseHead(Https("", "/healthz", nullptr, "localhost")).status, 200);
  // API errors and the console's own answers carry HSTS too.
  Head missing = ParseHead(Https("", "/api/me"));
  EXPECT_EQ(missing.status, 401);
  EXPECT_FALSE(missing.Get("Strict-Transport-Security").empty());
  Head console = ParseHead(Https("", "/api/admin/overview"));
  EXPECT_EQ(console.status, 403);  // the coordinator's own answer: admin login required
  EXPECT_FALSE(console.Get("Strict-Transport-Security").empty());
  // Plain HTTP does not send HSTS (browsers ignore it there anyway).
  Head plain = ParseHead(Http("", "/login"));
  EXPECT_EQ(plain.status, 200);
  EXPECT_TRUE(plain.Get("Strict-Transport-Security").empty());
}

TEST_F(HttpsTest, OnlyTls12And13WithForwardSecretAeadSuites) {
  int status = -1;
  Https("--tlsv1.3", "/healthz", &status);
  EXPECT_EQ(status, 0) << "TLS 1.3 refused";
  Https("--tlsv1.2 --tls-max 1.2", "/healthz", &status);
  EXPECT_EQ(status, 0) << "TLS 1.2 refused";
  // TLS 1.1 and 1.0 are refused (curl 35: handshake failed).
  Https("--tlsv1.1 --tls-max 1.1 --ciphers DEFAULT@SECLEVEL=0", "/healthz", &status);
  EXPECT_NE(status, 0) << "TLS 1.1 accepted";
  Https("--tlsv1.0 --tls-max 1.0 --ciphers DEFAULT@SECLEVEL=0", "/healthz", &status);
  EXPECT_NE(status, 0) << "TLS 1.0 accepted";
  // TLS 1.2 without forward secrecy or with CBC: refused.
  Https("--tlsv1.2 --tls-max 1.2 --ciphers AES128-GCM-SHA256", "/healthz", &status);
  EXPECT_NE(status, 0) << "RSA key exchange accepted";
  Https("--tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-SHA", "/healthz", &status);
  EXPECT_NE(status, 0) << "CBC suite accepted";
  Https("--tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-GCM-SHA256", "/healthz", &status);
  EXPECT_EQ(status, 0) << "ECDHE-ECDSA-AES128-GCM-SHA256 refused";
}

TEST_F(HttpsTest, CookiesAreSecureExactlyOverHttps) {
  Head over_tls = ParseHead(Https(SignUp("tlsuser"), "/api/signup"));
  ASSERT_EQ(over_tls.status, 201);
  EXPECT_NE(over_tls.Get("Set-Cookie").find("; Secure"), std::string::npos)
      << over_tls.Get("Set-Cookie");

  Head plain = ParseHead(Http(SignUp("plainuser"), "/api/signup"));
  ASSERT_EQ(plain.status, 201);
  EXPECT_EQ(plain.Get("Set-Cookie").find("Secure"), std::string::npos) << plain.Get("Set-Cookie");

  // A client cannot claim HTTPS: the coordinator sets X-Forwarded-Proto itself.
  Head claimed = ParseHead(Http(SignUp("liar") + " -H 'X-Forwarded-Proto: https'", "/api/signup"));
  ASSERT_EQ(claimed.status, 201);
  EXPECT_EQ(claimed.Get("Set-Cookie").find("Secure"), std::string::npos)
      << claimed.Get("Set-Cookie");
}

TEST_F(HttpsTest, ServesLargeBodiesAndKeepAliveOverTls) {
  // Two requests on one connection, the second a 2 MiB upload-and-download round trip
  // through the streaming relay.
  std::string dir = cluster_->dir();
  ShellOut(absl::StrCat("head -c 2097152 /dev/urandom > ", dir, "/blob"));
  std::string jar = dir + "/jar";
  std::string base = absl::StrCat("curl -sS --max-time 30 --cacert ", *tls_dir_, "/ca.crt -b ", jar,
                                  " -c ", jar, " https://127.0.0.1:", https_port_);
  std::string signup = ShellOut(absl::StrCat(base, "/api/signup ", SignUp("bigfile")));
  nlohmann::json created = nlohmann::json::parse(signup, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(created.is_object() && created.contains("csrf")) << signup;
  std::string csrf = created["csrf"];
  int status = -1;
  std::string code =
      ShellOut(absl::StrCat(base, "/api/files/content?path=/blob -X PUT -T ", dir,
                            "/blob -H 'X-CSRF-Token: ", csrf, "' -o /dev/null -w '%{http_code}'"),
               &status);
  EXPECT_EQ(code, "201");
  ShellOut(absl::StrCat(base, "/api/files/content?path=/blob -o ", dir, "/blob.back"), &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(ShellOut(absl::StrCat("cmp ", dir, "/blob ", dir, "/blob.back && echo same")),
            "same\n");
}

// A public deployment: plain HTTP only redirects to the same URL over HTTPS.
TEST(PublicHttpsTest, PlainHttpRedirectsToHttps) {
  std::string tls_dir = MakeCertificates(TempDir("penncloud-https-ca"));
  ASSERT_FALSE(tls_dir.empty());
  int https_port = FreePort();
  auto c =
      WebCluster::Start({.frontends = 1,
                         .coordinator_flags = {absl::StrCat("--https_port=", https_port),
                                               "--tls_cert=" + tls_dir + "/https.crt",
                                               "--tls_key=" + tls_dir + "/https.key", "--public"}});
  ASSERT_TRUE(c.ok()) << c.status();
  std::unique_ptr<WebCluster> cluster = std::move(*c);
  auto http = [&](const std::string& args, const std::string& path) {
    return ParseHead(
        ShellOut(absl::StrCat("curl -sS --max-time 10 -D - -o /dev/null ", args,
                              " 'http://127.0.0.1:", cluster->http_port(), path, "'")));
  };
  Head page = http("", "/drive?path=%2Fdocs");
  EXPECT_EQ(page.status, 308);
  EXPECT_EQ(page.Get("Location"),
            absl::StrCat("https://127.0.0.1:", https_port, "/drive?path=%2Fdocs"));
  Head named = http("-H 'Host: cloud.example.org:8000'", "/admin");
  EXPECT_EQ(named.status, 308);
  EXPECT_EQ(named.Get("Location"),
            absl::StrCat("https://cloud.example.org:", https_port, "/admin"));
  // Nothing is served in the clear, not even a login.
  Head login = http("-H 'Content-Type: application/json' --data '{}'", "/api/login");
  EXPECT_EQ(login.status, 308);
  // A Host that is not a host name does not reach the Location header.
  Head odd = http("-H 'Host: evil\"<x>'", "/");
  EXPECT_EQ(odd.Get("Location"), absl::StrCat("https://127.0.0.1:", https_port, "/"));
  // curl follows to HTTPS, where the page is served.
  std::string followed =
      ShellOut(absl::StrCat("curl -sS --max-time 10 -L --cacert ", tls_dir,
                            "/ca.crt -o /dev/null -w '%{http_code} %{url_effective}' ",
                            "http://127.0.0.1:", cluster->http_port(), "/login"));
  EXPECT_EQ(followed, absl::StrCat("200 https://127.0.0.1:", https_port, "/login"));
  cluster.reset();
  RemoveTree(tls_dir);
}

}  // namespace
}  // namespace penncloud::testing
