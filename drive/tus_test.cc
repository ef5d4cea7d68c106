// Resumable uploads over an in-memory store with 4-byte chunks, so every request crosses
// chunk boundaries and leaves tails.
#include "drive/tus.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "drive/test_util.h"
#include "drive/tus_headers.h"

namespace penncloud::drive {
namespace {

// A body fed in pieces of at most `step` bytes, optionally breaking after `cut` bytes.
TusByteSource Body(std::string data, size_t step = 3, size_t cut = SIZE_MAX) {
  auto pos = std::make_shared<size_t>(0);
  return [data = std::move(data), step, cut, pos](size_t max) -> absl::StatusOr<std::string> {
    if (*pos >= cut) return absl::UnavailableError("client went away");
    size_t n = std::min({step, max, data.size() - *pos, cut - *pos});
    std::string out = data.substr(*pos, n);
    *pos += n;
    return out;
  };
}

class TusTest : public DriveTest {
 protected:
  TusTest() : DriveTest(4, /*recovery=*/true) {
    TusOptions options;
    options.expiry_ms = 50'000;
    options.max_length = 1000;
    tus_ = std::make_unique<TusStore>(&kvs_, drive_.get(), options);
  }
  TusUploadInfo Create(const std::string& user, uint64_t length, const std::string& path) {
    auto info = tus_->Create(user, length, {{"path", path}});
    EXPECT_TRUE(info.ok()) << info.status();
    return info.ok() ? *info : TusUploadInfo{};
  }
  uint64_t Used(const std::string& user) { return drive_->GetUsage(user)->used_bytes; }

  std::unique_ptr<TusStore> tus_;
};

TEST_F(TusTest, UploadInPiecesLandsWhole) {
  const std::string data = "the quick brown fox jumps";  // 25 bytes: 6 chunks and a tail
  auto up = Create("alice", data.size(), "/fox.txt");
  EXPECT_EQ(up.id.size(), 32u);
  EXPECT_EQ(Used("alice"), data.size());  // reserved at creation
  uint64_t offset = 0;
  for (size_t piece : {5, 1, 8, 11}) {
    auto r = tus_->Append("alice", up.id, offset, Body(data.substr(offset, piece)));
    ASSERT_TRUE(r.ok()) << r.status();
    offset += piece;
    EXPECT_EQ(r->offset, offset);
    EXPECT_EQ(tus_->Get("alice", up.id)->offset, offset);
  }
  EXPECT_TRUE(tus_->Get("alice", up.id)->done);
  EXPECT_EQ(*Read("alice", "/fox.txt"), data);
  EXPECT_EQ(Used("alice"), data.size());  // the reservation became the file's charge
  EXPECT_EQ(drive_->Search("alice", "fox")->size(), 1u);
  // A late PATCH at the end (a client that missed the answer) sees the finished upload.
  EXPECT_TRUE(tus_->Append("alice", up.id, data.size(), Body(""))->done);
}

TEST_F(TusTest, WrongOffsetIsRefused) {
  auto up = Create("alice", 10, "/f");
  ASSERT_TRUE(tus_->Append("alice", up.id, 0, Body("abcdef")).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(tus_->Append("alice", up.id, 3, Body("x")).status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(tus_->Append("alice", up.id, 7, Body("x")).status()));
  EXPECT_EQ(tus_->Get("alice", up.id)->offset, 6u);
}

TEST_F(TusTest, BrokenBodyKeepsWhatArrived) {
  const std::string data = "0123456789abcdef";
  auto up = Create("alice", data.size(), "/f");
  auto r = tus_->Append("alice", up.id, 0, Body(data, 2, /*cut=*/7));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(tus_->Get("alice", up.id)->offset, 7u);
  ASSERT_TRUE(tus_->Append("alice", up.id, 7, Body(data.substr(7))).ok());
  EXPECT_EQ(*Read("alice", "/f"), data);
}

TEST_F(TusTest, ALaterRequestTakesOver) {
  const std::string data = "0123456789abcdef";
  auto up = Create("alice", data.size(), "/f");
  // The first request stalls after 9 bytes (two chunks stored); the client gives up on it
  // and resumes at the durable offset with a second request, which finishes the upload.
  size_t pos = 0;
  bool resumed = false;
  TusByteSource stalled = [&](size_t max) -> absl::StatusOr<std::string> {
    if (pos == 9 && !resumed) {
      resumed = true;
      uint64_t offset = tus_->Get("alice", up.id)->offset;
      EXPECT_EQ(offset, 8u);
      auto second = tus_->Append("alice", up.id, offset, Body(data.substr(offset)));
      EXPECT_TRUE(second.ok() && second->done) << second.status();
    }
    size_t n = std::min<size_t>({3, max, data.size() - pos});
    std::string out = data.substr(pos, n);
    pos += n;
    return out;
  };
  auto first = tus_->Append("alice", up.id, 0, stalled);
  EXPECT_TRUE(absl::IsAborted(first.status())) << first.status();
  EXPECT_EQ(*Read("alice", "/f"), data);
  EXPECT_EQ(Used("alice"), data.size());
}

TEST_F(TusTest, ReplacingKeepsTheOldVersion) {
  ASSERT_TRUE(Write("alice", "/f", "old content").ok());
  auto up = Create("alice", 3, "/f");
  ASSERT_TRUE(tus_->Append("alice", up.id, 0, Body("new")).ok());
  EXPECT_EQ(*Read("alice", "/f"), "new");
  auto versions = drive_->ListVersions("alice", "/f");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->size(), 1u);
}

TEST_F(TusTest, BodyPastTheLengthIsRefused) {
  auto up = Create("alice", 4, "/f");
  EXPECT_TRUE(absl::IsInvalidArgument(tus_->Append("alice", up.id, 0, Body("abcdefgh")).status()));
  // The bytes within the length were kept; nothing past it was.
  auto again = tus_->Get("alice", up.id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->offset, 3u);
  EXPECT_FALSE(again->done);
}

TEST_F(TusTest, OtherUsersCannotSeeIt) {
  auto up = Create("alice", 4, "/f");
  EXPECT_TRUE(absl::IsNotFound(tus_->Get("bob", up.id).status()));
  EXPECT_TRUE(absl::IsNotFound(tus_->Append("bob", up.id, 0, Body("abcd")).status()));
  EXPECT_TRUE(absl::IsNotFound(tus_->Terminate("bob", up.id)));
  EXPECT_TRUE(absl::IsNotFound(tus_->Get("alice", "../x").status()));
}

TEST_F(TusTest, TerminateDeletesBytesAndReservation) {
  auto up = Create("alice", 10, "/f");
  ASSERT_TRUE(tus_->Append("alice", up.id, 0, Body("abcdef")).ok());
  ASSERT_TRUE(tus_->Terminate("alice", up.id).ok());
  EXPECT_TRUE(absl::IsNotFound(tus_->Get("alice", up.id).status()));
  EXPECT_EQ(Used("alice"), 0u);
  auto tails = kvs_.List(keys::UserRow("alice", "tustail/") + up.id, {});
  EXPECT_TRUE(tails->cells.empty());
  EXPECT_TRUE(absl::IsNotFound(drive_->Stat("alice", "/f").status()));
}

TEST_F(TusTest, LimitsAndQuota) {
  EXPECT_TRUE(absl::IsResourceExhausted(tus_->Create("alice", 1001, {{"path", "/f"}}).status()));
  ASSERT_TRUE(drive_->SetQuota("alice", 100).ok());
  EXPECT_TRUE(absl::IsResourceExhausted(tus_->Create("alice", 101, {{"path", "/f"}}).status()));
  Create("alice", 60, "/a");
  // The partial upload holds 60 bytes of the quota.
  EXPECT_TRUE(absl::IsResourceExhausted(tus_->Create("alice", 41, {{"path", "/b"}}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(tus_->Create("alice", 1, {}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(tus_->Create("alice", 1, {{"path", "/../x"}}).status()));
  EXPECT_TRUE(absl::IsNotFound(tus_->Create("alice", 1, {{"path", "/no/such"}}).status()));
}

TEST_F(TusTest, EmptyFileLandsAtCreation) {
  auto up = Create("alice", 0, "/empty");
  EXPECT_TRUE(up.done);
  EXPECT_EQ(*Read("alice", "/empty"), "");
}

TEST_F(TusTest, SweepRemovesExpiredUploads) {
  auto up = Create("alice", 10, "/f");
  ASSERT_TRUE(tus_->Append("alice", up.id, 0, Body("abcdef")).ok());
  auto finished = Create("alice", 2, "/g");
  ASSERT_TRUE(tus_->Append("alice", finished.id, 0, Body("ok")).ok());
  EXPECT_EQ(*tus_->Sweep(), 0);
  clock_ += 50'001;
  EXPECT_EQ(*tus_->Sweep(), 2);
  EXPECT_TRUE(absl::IsNotFound(tus_->Get("alice", up.id).status()));
  EXPECT_EQ(*Read("alice", "/g"), "ok");  // a finished upload's file stays
  EXPECT_EQ(Used("alice"), 2u);
  EXPECT_TRUE(kvs_.List("drive-tus/expiry", {})->cells.empty());
}

TEST(TusHeadersTest, Numbers) {
  EXPECT_EQ(*ParseTusNumber("0", 10, "Upload-Length"), 0u);
  EXPECT_EQ(*ParseTusNumber("10", 10, "Upload-Length"), 10u);
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "0x10", "11", "99999999999999999999",
                          "184467440737095516160"}) {
    EXPECT_FALSE(ParseTusNumber(bad, 10, "Upload-Length").ok()) << bad;
  }
  EXPECT_EQ(*ParseTusNumber("18446744073709551615", UINT64_MAX, "x"), UINT64_MAX);
}

TEST(TusHeadersTest, Metadata) {
  auto m = ParseTusMetadata("path L2EvYi50eHQ=,filename Yi50eHQ,empty");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->at("path"), "/a/b.txt");
  EXPECT_EQ(m->at("filename"), "b.txt");
  EXPECT_EQ(m->at("empty"), "");
  EXPECT_TRUE(ParseTusMetadata("")->empty());
  for (const char* bad : {"path !!!", "path L2E=,path L2E=", ",",
                          "pa\x01th eA==", "path eA===", "path e", "path eA==eA=="}) {
    EXPECT_FALSE(ParseTusMetadata(bad).ok()) << bad;
  }
  std::string many;
  for (int i = 0; i <= 16; ++i) absl::StrAppend(&many, i == 0 ? "" : ",", "k", i, " eA==");
  EXPECT_FALSE(ParseTusMetadata(many).ok());
  EXPECT_FALSE(ParseTusMetadata("k " + std::string(8192, 'A')).ok());
  EXPECT_FALSE(ParseTusMetadata(std::string(65, 'k') + " eA==").ok());
}

}  // namespace
}  // namespace penncloud::drive
