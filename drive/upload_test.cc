// Uploads and downloads: chunking, ranges, atomic replacement, failures, concurrency.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "drive/drive.h"
#include "drive/test_util.h"

namespace penncloud::drive {
namespace {

std::string Pattern(size_t n, int seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

TEST_F(DriveTest, ContentsRoundTripAcrossChunkBoundaries) {
  for (size_t n : {0, 1, 3, 4, 5, 8, 9, 100}) {
    std::string data = Pattern(n, static_cast<int>(n));
    std::string path = "/f" + std::to_string(n);
    ASSERT_TRUE(Write("alice", path, data).ok()) << n;
    EXPECT_EQ(*Read("alice", path), data) << n;
    auto st = drive_->Stat("alice", path);
    EXPECT_EQ(st->size, n);
    EXPECT_EQ(ChunksOf("alice", st->etag), static_cast<int>((n + 3) / 4)) << n;
  }
}

TEST_F(DriveTest, RangesReturnExactlyTheRequestedBytes) {
  std::string data = Pattern(37, 1);
  ASSERT_TRUE(Write("alice", "/r", data).ok());
  for (uint64_t b = 0; b <= 37; b += 3) {
    for (uint64_t e = b; e <= 40; e += 5) {
      auto got = Read("alice", "/r", b, e);
      ASSERT_TRUE(got.ok()) << b << "-" << e;
      EXPECT_EQ(*got, data.substr(b, e - b)) << b << "-" << e;
    }
  }
  EXPECT_EQ(drive_->Open("alice", "/r", 38).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(drive_->Open("alice", "/r", 10, 5).status().code(), absl::StatusCode::kOutOfRange);
  auto narrowed = drive_->Open("alice", "/r");
  ASSERT_TRUE(narrowed.ok());
  EXPECT_EQ((*narrowed)->Restrict(5, 38).code(), absl::StatusCode::kOutOfRange);
  ASSERT_TRUE((*narrowed)->Restrict(5, 11).ok());
  EXPECT_EQ(*(*narrowed)->Next(), data.substr(5, 3));
  EXPECT_EQ(*(*narrowed)->Next(), data.substr(8, 3));
  EXPECT_EQ(*(*narrowed)->Next(), "");
}

TEST_F(DriveTest, ReaderPiecesAreAtMostOneChunk) {
  ASSERT_TRUE(Write("alice", "/r", Pattern(20, 2)).ok());
  auto reader = drive_->Open("alice", "/r", 3);
  ASSERT_TRUE(reader.ok());
  std::vector<size_t> sizes;
  for (int i = 0; i < 100; ++i) {
    auto piece = (*reader)->Next();
    ASSERT_TRUE(piece.ok());
    if (piece->empty()) break;
    sizes.push_back(piece->size());
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{1, 4, 4, 4, 4}));
}

TEST_F(DriveTest, ReaderDroppedWhileReadingAheadIsHarmless) {
  std::string data = Pattern(400, 5);
  ASSERT_TRUE(Write("alice", "/r", data).ok());
  for (int i = 0; i < 20; ++i) {
    auto reader = drive_->Open("alice", "/r");
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ(*(*reader)->Next(), data.substr(0, 4));
  }
  // A reader over a range read ahead from its start still produces it whole.
  EXPECT_EQ(*Read("alice", "/r", 6, 390), data.substr(6, 384));
}

TEST_F(DriveTest, ReplaceIsAtomicForReadersAlreadyReading) {
  std::string old_data = Pattern(40, 3), new_data = Pattern(40, 4);
  ASSERT_TRUE(Write("alice", "/v", old_data).ok());
  auto reader = drive_->Open("alice", "/v");
  ASSERT_TRUE(reader.ok());
  std::string got = *(*reader)->Next();
  ASSERT_TRUE(Write("alice", "/v", new_data).ok());
  // The open reader keeps reading the old version to the end: no mix.
  for (int i = 0; i < 100; ++i) {
    auto piece = (*reader)->Next();
    ASSERT_TRUE(piece.ok());
    if (piece->empty()) break;
    got += *piece;
  }
  EXPECT_EQ(got, old_data);
  EXPECT_EQ(*Read("alice", "/v"), new_data);
}

TEST_F(DriveTest, ReaderOfCollectedVersionFailsInsteadOfMixing) {
  std::string old_data = Pattern(40, 3);
  ASSERT_TRUE(Write("alice", "/v", old_data).ok());
  auto reader = drive_->Open("alice", "/v");
  ASSERT_TRUE(reader.ok());
  std::string got = *(*reader)->Next();
  ASSERT_TRUE(Write("alice", "/v", Pattern(40, 4)).ok());
  clock_ += 2000;
  ASSERT_EQ(*drive_->CollectGarbage("alice"), 1);
  // At most the chunk already read ahead still arrives; then the reader stops with an
  // error. Everything it did produce is the old version's.
  absl::Status end;
  for (int i = 0; i < 100 && end.ok(); ++i) {
    auto piece = (*reader)->Next();
    if (!piece.ok()) {
      end = piece.status();
    } else if (piece->empty()) {
      break;
    } else {
      got += *piece;
    }
  }
  EXPECT_EQ(end.code(), absl::StatusCode::kAborted);
  EXPECT_LE(got.size(), 8u);
  EXPECT_EQ(got, old_data.substr(0, got.size()));
}

TEST_F(DriveTest, AbortedUploadLeavesOldFileAndNoChunks) {
  ASSERT_TRUE(Write("alice", "/keep", "original").ok());
  std::string version;
  {
    auto upload = drive_->BeginUpload("alice", "/keep");
    ASSERT_TRUE(upload.ok());
    ASSERT_TRUE((*upload)->Append("partial new contents").ok());
    version = (*upload)->version_for_test();
    EXPECT_GT(ChunksOf("alice", version), 0);  // some chunk writes may still be under way
    // Dropped without Commit: the client went away.
  }
  EXPECT_EQ(ChunksOf("alice", version), 0);
  EXPECT_EQ(*Read("alice", "/keep"), "original");
  EXPECT_EQ(drive_->GetUsage("alice")->used_bytes, 8u);
}

TEST_F(DriveTest, StoreFailureMidUploadLeavesOldFileAndCollectorCleansUp) {
  ASSERT_TRUE(Write("alice", "/keep", "original").ok());
  auto upload = drive_->BeginUpload("alice", "/keep");
  ASSERT_TRUE(upload.ok());
  ASSERT_TRUE((*upload)->Append("12345678").ok());
  kvs_.SetUnavailable(true);
  (void)(*upload)->Append("9999");  // chunk writes are asynchronous: the error may come later
  EXPECT_EQ((*upload)->Commit().status().code(), absl::StatusCode::kUnavailable);
  kvs_.SetUnavailable(false);
  EXPECT_EQ(*Read("alice", "/keep"), "original");
  // Whatever the failed upload could not delete while the store was away, the collector
  // removes once the upload is stale.
  clock_ += 10000;
  ASSERT_TRUE(drive_->CollectGarbage("alice").ok());
  EXPECT_EQ(ChunksOf("alice", (*upload)->version_for_test()), 0);
  EXPECT_EQ(*Read("alice", "/keep"), "original");
}

TEST_F(DriveTest, ConditionalUploads) {
  ASSERT_TRUE(Write("alice", "/c", "v1").ok());
  std::string etag = drive_->Stat("alice", "/c")->etag;
  UploadOptions stale;
  stale.if_match = "0123";
  absl::Status stale_result = Write("alice", "/c", "v2", stale);
  EXPECT_EQ(stale_result.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(IsConditionFailed(stale_result));
  ASSERT_TRUE(drive_->CreateFolder("alice", "/dir").ok());
  absl::Status on_folder = Write("alice", "/dir", "x");
  EXPECT_EQ(on_folder.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(IsConditionFailed(on_folder));
  UploadOptions fresh;
  fresh.if_match = etag;
  ASSERT_TRUE(Write("alice", "/c", "v2", fresh).ok());
  // The same ETag a second time no longer matches: lost updates are caught.
  EXPECT_EQ(Write("alice", "/c", "v3", fresh).code(), absl::StatusCode::kFailedPrecondition);
  UploadOptions create_only;
  create_only.if_none_match = true;
  EXPECT_EQ(Write("alice", "/c", "v3", create_only).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Write("alice", "/new", "n", create_only).ok());
  EXPECT_EQ(*Read("alice", "/c"), "v2");
}

TEST_F(DriveTest, ConditionCheckedAtCommitNotOnlyAtBegin) {
  ASSERT_TRUE(Write("alice", "/c", "v1").ok());
  UploadOptions opts;
  opts.if_match = drive_->Stat("alice", "/c")->etag;
  auto slow = drive_->BeginUpload("alice", "/c", opts);
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE((*slow)->Append("slow").ok());
  ASSERT_TRUE(Write("alice", "/c", "fast").ok());
  EXPECT_EQ((*slow)->Commit().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(*Read("alice", "/c"), "fast");
}

TEST_F(DriveTest, InterleavedUploadsToOnePathLastCommitWinsWhole) {
  ASSERT_TRUE(Write("alice", "/race", "old").ok());
  auto a = drive_->BeginUpload("alice", "/race");
  auto b = drive_->BeginUpload("alice", "/race");
  ASSERT_TRUE(a.ok() && b.ok());
  std::string da = Pattern(30, 5), db = Pattern(30, 6);
  for (size_t i = 0; i < 30; i += 5) {
    ASSERT_TRUE((*a)->Append(da.substr(i, 5)).ok());
    ASSERT_TRUE((*b)->Append(db.substr(i, 5)).ok());
  }
  ASSERT_TRUE((*b)->Commit().ok());
  ASSERT_TRUE((*a)->Commit().ok());
  EXPECT_EQ(*Read("alice", "/race"), da);
  EXPECT_EQ(drive_->GetUsage("alice")->used_bytes, 30u);
  clock_ += 2000;
  EXPECT_EQ(*drive_->CollectGarbage("alice"), 2);  // "old" and b's version
  EXPECT_EQ(ChunksOf("alice", (*b)->version_for_test()), 0);
  EXPECT_EQ(*Read("alice", "/race"), da);
}

TEST_F(DriveTest, ConcurrentUploadsFromThreadsOneWinsWhole) {
  constexpr int kWriters = 8;
  constexpr size_t kSize = 4000;
  std::vector<std::string> datas;
  for (int i = 0; i < kWriters; ++i) datas.push_back(Pattern(kSize, 100 + i));
  std::vector<absl::Status> results(kWriters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] { results[i] = Write("alice", "/hot", datas[i]); });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kWriters; ++i) EXPECT_TRUE(results[i].ok()) << results[i];
  auto got = Read("alice", "/hot");
  ASSERT_TRUE(got.ok());
  int matches = 0;
  for (const auto& d : datas) matches += (*got == d);
  EXPECT_EQ(matches, 1) << "the file is a mix of uploads";
  EXPECT_EQ(drive_->GetUsage("alice")->used_bytes, kSize);
  EXPECT_EQ(Names("alice", "/"), std::vector<std::string>{"hot"});
  // Every losing version is collected; the winner's chunks all remain.
  clock_ += 2000;
  EXPECT_EQ(*drive_->CollectGarbage("alice"), kWriters - 1);
  EXPECT_EQ(ChunksOf("alice", drive_->Stat("alice", "/hot")->etag), 1000);
}

TEST_F(DriveTest, UploadIntoFolderDeletedMeanwhileFails) {
  ASSERT_TRUE(drive_->CreateFolder("alice", "/d").ok());
  auto upload = drive_->BeginUpload("alice", "/d/f");
  ASSERT_TRUE(upload.ok());
  ASSERT_TRUE((*upload)->Append("abcdef").ok());
  ASSERT_TRUE(drive_->Delete("alice", "/d").ok());
  EXPECT_EQ((*upload)->Commit().status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ChunksOf("alice", (*upload)->version_for_test()), 0);
}

}  // namespace
}  // namespace penncloud::drive
