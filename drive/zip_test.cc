#include "drive/zip.h"

#include <map>

#include "drive/test_util.h"
#include "drive/zip_test_support.h"

namespace penncloud::drive {
namespace {

class ZipTest : public DriveTest {
 protected:
  ZipTest() : DriveTest(/*chunk_bytes=*/1024) {}

  // The whole archive of `path`, and the pieces' largest size.
  std::string ZipOf(const std::string& path, size_t* largest = nullptr) {
    return Drain(ZipStream::Open(drive_.get(), "alice", path), largest);
  }

  static std::string Drain(absl::StatusOr<std::unique_ptr<ZipStream>> zip,
                           size_t* largest = nullptr) {
    EXPECT_TRUE(zip.ok()) << zip.status();
    if (!zip.ok()) return "";
    std::string out;
    for (int i = 0; i < 100000; ++i) {
      auto piece = (*zip)->Next();
      EXPECT_TRUE(piece.ok()) << piece.status();
      if (!piece.ok() || piece->empty()) break;
      if (largest) *largest = std::max(*largest, piece->size());
      out += *piece;
    }
    return out;
  }
};

TEST_F(ZipTest, FolderRoundTrips) {
  ASSERT_TRUE(drive_->CreateFolder("alice", "/Trip").ok());
  ASSERT_TRUE(drive_->CreateFolder("alice", "/Trip/Day 1").ok());
  std::string big(300 * 1024 + 7, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
  ASSERT_TRUE(Write("alice", "/Trip/notes.txt", "hello").ok());
  ASSERT_TRUE(Write("alice", "/Trip/Day 1/été.bin", big).ok());
  ASSERT_TRUE(Write("alice", "/Trip/empty", "").ok());
  ASSERT_TRUE(Write("alice", "/other.txt", "not in the zip").ok());
  size_t largest = 0;
  auto files = Unzip(ZipOf("/Trip", &largest));
  std::map<std::string, std::string> want = {{"Trip/", ""},
                                             {"Trip/Day 1/", ""},
                                             {"Trip/Day 1/été.bin", big},
                                             {"Trip/empty", ""},
                                             {"Trip/notes.txt", "hello"}};
  ASSERT_EQ(files.size(), want.size());
  for (const auto& [name, content] : want) {
    ASSERT_TRUE(files.contains(name)) << name;
    EXPECT_TRUE(files[name] == content) << name << ": " << files[name].size() << " bytes";
  }
  // Streamed: no piece holds much more than the piece size plus one chunk.
  EXPECT_LT(largest, 64u * 1024 + 2048);
}

TEST_F(ZipTest, SingleFile) {
  ASSERT_TRUE(Write("alice", "/a.txt", "abc").ok());
  auto zip = ZipStream::Open(drive_.get(), "alice", "/a.txt");
  ASSERT_TRUE(zip.ok());
  EXPECT_EQ((*zip)->file_name(), "a.txt.zip");
  auto files = Unzip(ZipOf("/a.txt"));
  EXPECT_EQ(files, (std::map<std::string, std::string>{{"a.txt", "abc"}}));
}

TEST_F(ZipTest, MissingOrBadPaths) {
  EXPECT_TRUE(absl::IsNotFound(ZipStream::Open(drive_.get(), "alice", "/nope").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ZipStream::Open(drive_.get(), "alice", "/../x").status()));
}

TEST_F(ZipTest, SeveralItemsInOneArchiveWithNamesToldApart) {
  ASSERT_TRUE(drive_->CreateFolder("alice", "/Docs").ok());
  ASSERT_TRUE(drive_->CreateFolder("alice", "/Old").ok());
  ASSERT_TRUE(drive_->CreateFolder("alice", "/Old/Docs").ok());
  ASSERT_TRUE(Write("alice", "/Docs/plan.txt", "new plan").ok());
  ASSERT_TRUE(Write("alice", "/Old/plan.txt", "old plan").ok());
  ASSERT_TRUE(Write("alice", "/Old/Docs/a.txt", "a").ok());
  ASSERT_TRUE(Write("alice", "/v1.2", "a file with a dot").ok());
  ASSERT_TRUE(Write("bob", "/plan.txt", "bob's plan").ok());
  auto zip = ZipStream::OpenMany(drive_.get(),
                                 {{"alice", "/Docs/plan.txt"},
                                  {"alice", "/Old/plan.txt"},
                                  {"bob", "/plan.txt"},
                                  {"alice", "/Docs"},
                                  {"alice", "/Old/Docs"},
                                  {"alice", "/v1.2"}},
                                 "download.zip");
  ASSERT_TRUE(zip.ok()) << zip.status();
  EXPECT_EQ((*zip)->file_name(), "download.zip");
  auto files = Unzip(Drain(std::move(zip)));
  EXPECT_EQ(files, (std::map<std::string, std::string>{{"plan.txt", "new plan"},
                                                       {"plan (2).txt", "old plan"},
                                                       {"plan (3).txt", "bob's plan"},
                                                       {"Docs/", ""},
                                                       {"Docs/plan.txt", "new plan"},
                                                       {"Docs (2)/", ""},
                                                       {"Docs (2)/a.txt", "a"},
                                                       {"v1.2", "a file with a dot"}}));
}

TEST_F(ZipTest, SeveralItemsAreChecked) {
  ASSERT_TRUE(Write("alice", "/a.txt", "a").ok());
  auto open = [&](std::vector<ZipItem> items) {
    return ZipStream::OpenMany(drive_.get(), std::move(items), "x.zip").status();
  };
  EXPECT_TRUE(absl::IsInvalidArgument(open({})));
  EXPECT_TRUE(absl::IsNotFound(open({{"alice", "/a.txt"}, {"alice", "/gone.txt"}})));
  EXPECT_TRUE(absl::IsNotFound(open({{"bob", "/a.txt"}})));  // alice's path, bob's drive
  EXPECT_TRUE(absl::IsInvalidArgument(open({{"alice", "/a.txt"}, {"alice", "/x/../a.txt"}})));
  std::vector<ZipItem> many(kMaxZipItems + 1, ZipItem{"alice", "/a.txt"});
  EXPECT_TRUE(absl::IsInvalidArgument(open(many)));
  many.pop_back();
  EXPECT_TRUE(open(many).ok());
}

}  // namespace
}  // namespace penncloud::drive
