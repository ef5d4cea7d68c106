#include "common/peer_identity.h"

#include "gtest/gtest.h"

namespace penncloud::tls {
namespace {

TEST(IdentityTest, EveryRoleRoundTripsThroughItsUri) {
  for (const Identity& identity :
       {Identity::Replica(0, 1), Identity::Replica(7, 12),
        Identity::Service("frontend", "frontend-8001"), Identity::Service("smtp", "smtp"),
        Identity::Service("imap", "imap-2"), Identity::Coordinator("coordinator"),
        Identity::Admin("kvsctl")}) {
    absl::StatusOr<Identity> parsed = Identity::FromUri(identity.Uri());
    ASSERT_TRUE(parsed.ok()) << identity.Uri() << ": " << parsed.status();
    EXPECT_EQ(*parsed, identity) << identity.Uri();
  }
  EXPECT_EQ(Identity::Replica(1, 2).Uri(), "spiffe://penncloud/replica/1/2");
  EXPECT_EQ(Identity::Service("pop3", "pop3").Path(), "service/pop3/pop3");
}

TEST(IdentityTest, AnythingElseIsRefused) {
  for (const char* uri :
       {"", "spiffe://penncloud/", "spiffe://other/replica/1/2", "https://penncloud/replica/1/2",
        "spiffe://penncloud/replica/1", "spiffe://penncloud/replica/1/0",
        "spiffe://penncloud/replica/1/2/3", "spiffe://penncloud/replica/x/2",
        "spiffe://penncloud/replica/-1/2", "spiffe://penncloud/replica/1/99999999999999999999",
        "spiffe://penncloud/service/frontend", "spiffe://penncloud/service/ftp/ftp",
        "spiffe://penncloud/service/frontend/a b", "spiffe://penncloud/service/smtp/",
        "spiffe://penncloud/admin", "spiffe://penncloud/admin/x/y", "spiffe://penncloud/root/x",
        "spiffe://penncloud/coordinator/"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    absl::StatusOr<Identity> parsed = Identity::FromUri(uri);
    EXPECT_TRUE(absl::IsUnauthenticated(parsed.status())) << uri;
  }
}

}  // namespace
}  // namespace penncloud::tls
