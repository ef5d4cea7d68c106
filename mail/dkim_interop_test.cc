// Our DKIM against a second implementation, Debian's python3-dkim (mail/dkim_reference.py):
// what we sign it verifies, and what it signs we verify, for Ed25519 and RSA alike.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "mail/dkim.h"
#include "mail/dkim_test_keys.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

const std::string kScript = std::string(PENNCLOUD_SOURCE_DIR) + "/mail/dkim_reference.py";
const std::string kMessage =
    "From: Alice <alice@penncloud.local>\r\n"
    "To: Bob <bob@example.org>\r\n"
    "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= across domains\r\n"
    "Date: Sun, 06 Dec 2026 04:00:00 +0000\r\n"
    "Message-ID: <interop@penncloud.local>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Hello Bob,  \r\n"
    "\r\n"
    "trailing white space and empty lines at the end\r\n"
    "\r\n"
    "\r\n";

class DkimInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A folder of this process's own: ctest runs the two tests at once, and a shared
    // "in" file let one sign the other's already signed message.
    std::string pattern = ::testing::TempDir() + "/dkim_interop.XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    ed_ = NewTestKey("penncloud.local", "ed", true);
    rsa_ = NewTestKey("penncloud.local", "rsa", false);
    Write("ed.key", ed_.pem);
    Write("rsa.key", rsa_.pem);
    records_ = Cat("ed._domainkey.penncloud.local TXT \"", DkimPublicRecord(ed_), "\"\n",
                   "rsa._domainkey.penncloud.local TXT \"", DkimPublicRecord(rsa_), "\"\n");
    Write("records", records_);
    resolver_ = *ScriptedResolver::Parse(records_);
  }
  void TearDown() override { std::system(Cat("rm -rf ", dir_).c_str()); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(Cat(dir_, "/", name), std::ios::binary) << text;
  }
  // Runs the reference with `args` and `input` on stdin; returns what it prints.
  std::string Reference(const std::string& args, const std::string& input) {
    Write("in", input);
    std::string command = Cat("/usr/bin/python3 ", kScript, " ", args, " < ", dir_, "/in");
    FILE* pipe = popen(command.c_str(), "r");
    EXPECT_NE(pipe, nullptr);
    std::string out;
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof(buf), pipe)) > 0;) out.append(buf, n);
    EXPECT_EQ(pclose(pipe), 0) << command;
    return out;
  }

  std::string dir_, records_;
  DkimKey ed_, rsa_;
  std::unique_ptr<ScriptedResolver> resolver_;
};

TEST_F(DkimInteropTest, ReferenceVerifiesWhatWeSign) {
  std::string signed_message = *DkimSigner({ed_, rsa_}).Sign(kMessage);
  EXPECT_EQ(Reference(Cat("verify ", dir_, "/records"), signed_message), "pass\npass\n");
  // The check can fail: a changed body fails both signatures there too.
  std::string changed = signed_message;
  changed.replace(changed.find("Hello Bob"), 9, "Hello Eve");
  EXPECT_EQ(Reference(Cat("verify ", dir_, "/records"), changed), "fail\nfail\n");
}

TEST_F(DkimInteropTest, WeVerifyWhatTheReferenceSigns) {
  for (const char* selector : {"ed", "rsa"}) {
    SCOPED_TRACE(selector);
    std::string signed_message = Reference(
        Cat("sign ", selector, " penncloud.local ", dir_, "/", selector, ".key"), kMessage);
    ASSERT_TRUE(signed_message.starts_with("DKIM-Signature:")) << signed_message;
    std::vector<DkimResult> results = VerifyDkim(signed_message, *resolver_);
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].result, "pass") << results[0].reason;
    EXPECT_EQ(results[0].selector, selector);
    EXPECT_EQ(results[0].algorithm,
              std::string(selector) == "ed" ? "ed25519-sha256" : "rsa-sha256");
    std::string changed = signed_message;
    changed.replace(changed.find("Hello Bob"), 9, "Hello Eve");
    EXPECT_EQ(VerifyDkim(changed, *resolver_)[0].result, "fail");
  }
}

}  // namespace
}  // namespace penncloud::mail
