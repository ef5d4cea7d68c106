#include "drive/share.h"

#include "drive/test_util.h"

namespace penncloud::drive {
namespace {

LinkRequest Link(std::string path, SharePermission permission = SharePermission::kRead,
                 std::optional<std::string> password = std::nullopt, int64_t expires_ms = 0) {
  return LinkRequest{std::move(path), permission, std::move(password), expires_ms};
}

class ShareTest : public DriveTest {
 protected:
  ShareTest()
      : shares_(&kvs_, drive_.get(),
                ShareOptions{.now_ms = [this] { return clock_.load(); },
                             .hash_params = accounts::kTestHashParams}) {
    EXPECT_TRUE(drive_->CreateFolder("alice", "/Photos").ok());
    EXPECT_TRUE(Write("alice", "/Photos/cat.jpg", "meow").ok());
    EXPECT_TRUE(Write("alice", "/secret.txt", "keep out").ok());
  }

  Shares shares_;
};

TEST_F(ShareTest, LinkOpensWithItsTokenOnly) {
  auto link = shares_.CreateLink("alice", Link("/Photos"));
  ASSERT_TRUE(link.ok()) << link.status();
  EXPECT_GE(link->token.size(), 43u);  // 256 bits in base64url
  auto opened = shares_.OpenLink(link->token);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->path, "/Photos");
  EXPECT_EQ(opened->owner, "alice");
  EXPECT_TRUE(absl::IsNotFound(shares_.OpenLink(link->token + "x").status()));
  EXPECT_TRUE(absl::IsNotFound(shares_.OpenLink("").status()));
}

TEST_F(ShareTest, TokensDiffer) {
  auto a = shares_.CreateLink("alice", Link("/Photos"));
  auto b = shares_.CreateLink("alice", Link("/Photos"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->token, b->token);
  EXPECT_NE(a->id, b->id);
}

TEST_F(ShareTest, PathsStayInsideTheShare) {
  auto link = shares_.CreateLink("alice", Link("/Photos"));
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(*shares_.Resolve(*link, "/cat.jpg"), "/Photos/cat.jpg");
  EXPECT_EQ(*shares_.Resolve(*link, "/"), "/Photos");
  for (const char* bad : {"/../secret.txt", "/..", "/./cat.jpg", "/a/../../secret.txt"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(shares_.Resolve(*link, bad).status())) << bad;
  }
}

TEST_F(ShareTest, ExpiredLinksAreGone) {
  auto link = shares_.CreateLink(
      "alice", Link("/Photos", SharePermission::kRead, std::nullopt, clock_ + 1000));
  ASSERT_TRUE(link.ok());
  EXPECT_TRUE(shares_.OpenLink(link->token).ok());
  clock_ += 1000;
  EXPECT_TRUE(absl::IsNotFound(shares_.OpenLink(link->token).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      shares_.CreateLink("alice", Link("/Photos", SharePermission::kRead, std::nullopt, clock_ - 1))
          .status()));
}

TEST_F(ShareTest, PasswordIsCheckedAndNotStoredInClear) {
  auto link = shares_.CreateLink("alice", Link("/Photos", SharePermission::kRead, "open sesame"));
  ASSERT_TRUE(link.ok());
  EXPECT_TRUE(link->password);
  EXPECT_TRUE(*shares_.CheckLinkPassword(*link, "open sesame"));
  EXPECT_FALSE(*shares_.CheckLinkPassword(*link, "open sesame!"));
  EXPECT_FALSE(*shares_.CheckLinkPassword(*link, ""));
  auto secret = shares_.LinkSecret(*link);
  ASSERT_TRUE(secret.ok());
  EXPECT_TRUE(secret->starts_with("$argon2id$"));
  EXPECT_EQ(secret->find("open sesame"), std::string::npos);
}

TEST_F(ShareTest, RevokeEndsAccessAtOnce) {
  auto link = shares_.CreateLink("alice", Link("/Photos"));
  auto user = shares_.ShareWithUser("alice", "/Photos", "bob", SharePermission::kRead);
  ASSERT_TRUE(link.ok() && user.ok());
  EXPECT_TRUE(shares_.ResolveIncoming("bob", "/alice/Photos/cat.jpg", false).ok());
  ASSERT_TRUE(shares_.Revoke("alice", link->id).ok());
  ASSERT_TRUE(shares_.Revoke("alice", user->id).ok());
  EXPECT_TRUE(absl::IsNotFound(shares_.OpenLink(link->token).status()));
  EXPECT_TRUE(absl::IsNotFound(shares_.ResolveIncoming("bob", "/alice/Photos", false).status()));
  EXPECT_TRUE(shares_.ListMine("alice")->empty());
  EXPECT_TRUE(shares_.ListIncoming("bob")->empty());
  // Another user cannot revoke alice's shares.
  auto again = shares_.CreateLink("alice", Link("/Photos"));
  EXPECT_TRUE(absl::IsNotFound(shares_.Revoke("bob", again->id)));
  EXPECT_TRUE(shares_.OpenLink(again->token).ok());
}

TEST_F(ShareTest, IncomingSharesResolveByOwnerAndName) {
  ASSERT_TRUE(shares_.ShareWithUser("alice", "/Photos", "bob", SharePermission::kRead).ok());
  auto at = shares_.ResolveIncoming("bob", "/alice/Photos/cat.jpg", false);
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(at->owner_path, "/Photos/cat.jpg");
  EXPECT_EQ(at->share.owner, "alice");
  EXPECT_TRUE(absl::IsPermissionDenied(
      shares_.ResolveIncoming("bob", "/alice/Photos/new.txt", true).status()));
  EXPECT_TRUE(absl::IsNotFound(shares_.ResolveIncoming("carol", "/alice/Photos", false).status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(shares_.ResolveIncoming("bob", "/alice/Photos/..", false).status()));
  EXPECT_TRUE(absl::IsAlreadyExists(
      shares_.ShareWithUser("alice", "/Photos", "bob", SharePermission::kWrite).status()));
  auto incoming = shares_.ListIncoming("bob");
  ASSERT_EQ(incoming->size(), 1u);
  EXPECT_TRUE(incoming->front().token.empty());
}

TEST_F(ShareTest, BadRequestsAreRefused) {
  EXPECT_TRUE(absl::IsInvalidArgument(shares_.CreateLink("alice", Link("/")).status()));
  EXPECT_TRUE(absl::IsNotFound(shares_.CreateLink("alice", Link("/nope")).status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(
      shares_.CreateLink("alice", Link("/secret.txt", SharePermission::kUpload)).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      shares_.CreateLink("alice", Link("/Photos", SharePermission::kWrite)).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      shares_.CreateLink("alice", Link("/Photos", SharePermission::kRead, "")).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      shares_.ShareWithUser("alice", "/Photos", "alice", SharePermission::kRead).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      shares_.ShareWithUser("alice", "/Photos", "bob", SharePermission::kUpload).status()));
}

TEST_F(ShareTest, DownloadsAreCounted) {
  auto link = shares_.CreateLink("alice", Link("/Photos"));
  ASSERT_TRUE(link.ok());
  for (int i = 0; i < 3; ++i) shares_.CountDownload(*link);
  auto mine = shares_.ListMine("alice");
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ(mine->front().downloads, 3u);
}

}  // namespace
}  // namespace penncloud::drive
