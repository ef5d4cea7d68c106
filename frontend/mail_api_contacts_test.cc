#include "frontend/mail_api_contacts.h"

#include "frontend/mail_api_test_fixture.h"
#include "gtest/gtest.h"

namespace penncloud::frontend {
namespace {

using nlohmann::json;

TEST(SplitAddressList, NamesQuotesAndJunk) {
  auto got = SplitAddressList(R"("Smith, Ann" <Ann@X.org>, bob@y.com, no-at, "a\"b" <c@d>, <>)");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].name, "Smith, Ann");
  EXPECT_EQ(got[0].address, "ann@x.org");
  EXPECT_EQ(got[1].name, "");
  EXPECT_EQ(got[1].address, "bob@y.com");
  EXPECT_EQ(got[2].name, "a\"b");
  EXPECT_TRUE(SplitAddressList("").empty());
  EXPECT_TRUE(SplitAddressList("\"unterminated, x@y").empty());
  EXPECT_TRUE(SplitAddressList(std::string(300, 'a') + "@b.c").empty());
  std::string many;
  for (int i = 0; i < 200; ++i) {
    many += "u";
    many += std::to_string(i);
    many += "@x.y,";
  }
  EXPECT_EQ(SplitAddressList(many).size(), 100u);
}

class ContactsTest : public MailApiFixture {};

TEST_F(ContactsTest, RankedByHowOftenAndMatchedByText) {
  for (int i = 0; i < 3; ++i) {
    CallJson("alice", "POST", "/api/mail", R"({"to":["bob"],"subject":"x"})", 201);
  }
  CallJson("alice", "POST", "/api/mail", R"({"to":["carol"],"subject":"y"})", 201);
  CallJson("carol", "POST", "/api/mail", R"({"to":["alice"],"subject":"z"})", 201);
  json all = CallJson("alice", "GET", "/api/mail/contacts?q=")["contacts"];
  ASSERT_EQ(all.size(), 2u);  // not herself
  EXPECT_EQ(all[0]["address"], "bob@penncloud.local");
  EXPECT_EQ(all[1]["address"], "carol@penncloud.local");
  json c = CallJson("alice", "GET", "/api/mail/contacts?q=CAR")["contacts"];
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0]["address"], "carol@penncloud.local");
  EXPECT_EQ(Call("alice", "GET", "/api/mail/contacts?limit=0").status, 400);
  EXPECT_TRUE(CallJson("bob", "GET", "/api/mail/contacts?q=zzz")["contacts"].empty());
}

}  // namespace
}  // namespace penncloud::frontend
