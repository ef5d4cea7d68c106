#include "common/certificate.h"

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace penncloud::tls {
namespace {

// Certificates made by scripts/lib/tls.sh, the script scripts/start.sh uses.
class CertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/penncloud-cert-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Tls(const std::string& args) {
    const std::string command =
        std::string("bash ") + PENNCLOUD_SOURCE_DIR + "/scripts/lib/tls.sh " + args + " 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }
  std::string Read(const std::string& name) {
    std::ifstream in(dir_ + "/" + name);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::string Path(const std::string& name) { return dir_ + "/" + name; }

  std::string dir_;
};

TEST_F(CertificateTest, AnIssuedCertificateCarriesItsIdentityAndAYearOfValidity) {
  Tls("ca " + dir_);
  Tls("issue " + dir_ + " kvs-g1-2 replica/1/2");
  absl::StatusOr<CertificateInfo> info = ReadCertificate(Read("kvs-g1-2.crt"));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->identity, Identity::Replica(1, 2));
  const int64_t now = std::time(nullptr);
  EXPECT_GT(info->not_after_unix, now + 360 * 86400);
  EXPECT_LT(info->not_after_unix, now + 400 * 86400);

  absl::StatusOr<CertificateInfo> checked =
      CheckKeyPair(Path("ca.crt"), Path("kvs-g1-2.crt"), Path("kvs-g1-2.key"));
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->identity, Identity::Replica(1, 2));
  EXPECT_EQ(
      std::filesystem::status(Path("kvs-g1-2.key")).permissions() & std::filesystem::perms::all,
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(CertificateTest, AWrongKeyAnotherCaOrNoIdentityIsRefused) {
  Tls("ca " + dir_);
  Tls("issue " + dir_ + " a service/frontend/a");
  Tls("issue " + dir_ + " b service/smtp/b");
  Tls("ca " + dir_ + "/other");
  Tls("issue " + dir_ + "/other c admin/c");
  Tls("self-signed " + dir_ + " s admin/s");
  EXPECT_FALSE(CheckKeyPair(Path("ca.crt"), Path("a.crt"), Path("b.key")).ok());
  EXPECT_FALSE(CheckKeyPair(Path("ca.crt"), Path("other/c.crt"), Path("other/c.key")).ok());
  EXPECT_FALSE(CheckKeyPair(Path("ca.crt"), Path("s.crt"), Path("s.key")).ok());
  EXPECT_FALSE(CheckKeyPair(Path("ca.crt"), Path("missing.crt"), Path("a.key")).ok());
  // The CA's own certificate has no PennCloud identity.
  EXPECT_FALSE(ReadCertificate(Read("ca.crt")).ok());
  EXPECT_FALSE(ReadCertificate("not a certificate").ok());
}

TEST_F(CertificateTest, IssuingAgainKeepsACurrentCertificateAndReplacesAnotherIdentity) {
  Tls("ca " + dir_);
  Tls("issue " + dir_ + " n service/pop3/n");
  const std::string first = Read("n.crt");
  Tls("issue " + dir_ + " n service/pop3/n");
  EXPECT_EQ(Read("n.crt"), first);
  Tls("issue " + dir_ + " n service/smtp/n");
  absl::StatusOr<CertificateInfo> info = ReadCertificate(Read("n.crt"));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->identity, Identity::Service("smtp", "n"));
}

TEST_F(CertificateTest, TheConsoleIssuesWhatTheScriptWouldFromTheSameCa) {
  Tls("ca " + dir_);
  ASSERT_TRUE(IssueCertificate(dir_, "kvs-g2-4", Identity::Replica(2, 4), {"127.0.0.1"}).ok());
  absl::StatusOr<CertificateInfo> info =
      CheckKeyPair(Path("ca.crt"), Path("kvs-g2-4.crt"), Path("kvs-g2-4.key"));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->identity, Identity::Replica(2, 4));
  EXPECT_GT(info->not_after_unix, std::time(nullptr) + 360 * 86400);
  EXPECT_EQ(
      std::filesystem::status(Path("kvs-g2-4.key")).permissions() & std::filesystem::perms::all,
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // The script accepts it as current, so start.sh keeps it.
  const std::string before = Read("kvs-g2-4.crt");
  Tls("issue " + dir_ + " kvs-g2-4 replica/2/4");
  EXPECT_EQ(Read("kvs-g2-4.crt"), before);
  // Issuing again keeps it; without the CA's key nothing can be issued.
  ASSERT_TRUE(IssueCertificate(dir_, "kvs-g2-4", Identity::Replica(2, 4), {"127.0.0.1"}).ok());
  EXPECT_EQ(Read("kvs-g2-4.crt"), before);
  std::filesystem::remove(Path("ca.key"));
  EXPECT_TRUE(
      absl::IsNotFound(IssueCertificate(dir_, "kvs-g2-5", Identity::Replica(2, 5), {"127.0.0.1"})));
}

}  // namespace
}  // namespace penncloud::tls
