// Resumable uploads over an in-memory store with 4-byte chunks, so every request crosses
// chunk boundaries and leaves tails.
#include "drive/tus.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "drive/cuttable_store_test_support.h"
#include "drive/test_util.h"
#include "drive/tus_headers.h"
#include "proto/drive.pb.h"

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

TusChecksum Checksum(std::string_view data, TusChecksum::Algorithm algorithm) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size,
             algorithm == TusChecksum::Algorithm::kSha1 ? EVP_sha1() : EVP_sha256(), nullptr);
  return TusChecksum{.algorithm = algorithm,
                     .digest = std::string(reinterpret_cast<const char*>(digest), size)};
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
  std::string VersionOf(const std::string& user, const std::string& id) {
    pb::TusUpload record;
    EXPECT_TRUE(record.ParseFromString(*kvs_.Get(keys::UserRow(user, "tus"), id)));
    return record.version();
  }

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

TEST_F(TusTest, AChecksumVouchesForTheWholePatch) {
  using Algorithm = TusChecksum::Algorithm;
  const std::string data = "0123456789abcdefghij";
  auto up = Create("alice", data.size(), "/f");
  ASSERT_EQ(tus_->Append("alice", up.id, 0, Body(data.substr(0, 3)),
                         Checksum(data.substr(0, 3), Algorithm::kSha1))
                ->offset,
            3u);
  // From the tail at 3 across three chunk writes, then the digest does not match: none of
  // it counts, the offset stays where the PATCH began.
  const std::string next = data.substr(3, 12);
  auto wrong =
      tus_->Append("alice", up.id, 3, Body("0123456789XY"), Checksum(next, Algorithm::kSha1));
  EXPECT_TRUE(IsTusChecksumMismatch(wrong.status())) << wrong.status();
  EXPECT_EQ(tus_->Get("alice", up.id)->offset, 3u);
  // Cut off before the end: nothing vouches for what arrived.
  auto cut =
      tus_->Append("alice", up.id, 3, Body(next, 2, /*cut=*/9), Checksum(next, Algorithm::kSha256));
  EXPECT_FALSE(cut.ok());
  EXPECT_FALSE(IsTusChecksumMismatch(cut.status()));
  EXPECT_EQ(tus_->Get("alice", up.id)->offset, 3u);
  ASSERT_EQ(tus_->Append("alice", up.id, 3, Body(next), Checksum(next, Algorithm::kSha256))->offset,
            15u);
  ASSERT_TRUE(tus_->Append("alice", up.id, 15, Body(data.substr(15)))->done);
  EXPECT_EQ(*Read("alice", "/f"), data);
}

TEST_F(TusTest, AChecksummedPatchEndingOnAChunkBoundary) {
  using Algorithm = TusChecksum::Algorithm;
  auto up = Create("alice", 12, "/f");
  std::string version = VersionOf("alice", up.id);
  ASSERT_EQ(
      tus_->Append("alice", up.id, 0, Body("abcdefgh"), Checksum("abcdefgh", Algorithm::kSha1))
          ->offset,
      8u);
  EXPECT_TRUE(kvs_.List(keys::UserRow("alice", "tustail/") + up.id, {})->cells.empty());
  ASSERT_TRUE(
      tus_->Append("alice", up.id, 8, Body("ijkl"), Checksum("ijkl", Algorithm::kSha1))->done);
  EXPECT_EQ(*Read("alice", "/f"), "abcdefghijkl");
  EXPECT_EQ(ChunksOf("alice", version), 3);
}

TEST_F(TusTest, TerminationDeletesChunksOfARefusedPatch) {
  const std::string data(40, 'x');
  auto up = Create("alice", data.size(), "/f");
  std::string version = VersionOf("alice", up.id);
  auto wrong =
      tus_->Append("alice", up.id, 0, Body(data), Checksum("other", TusChecksum::Algorithm::kSha1));
  EXPECT_TRUE(IsTusChecksumMismatch(wrong.status()));
  EXPECT_EQ(ChunksOf("alice", version), 10);  // stored as they filled, never named
  ASSERT_TRUE(tus_->Terminate("alice", up.id).ok());
  EXPECT_EQ(ChunksOf("alice", version), 0);
}

TEST_F(TusTest, AtMostAHundredUploadsInProgress) {
  std::vector<TusUploadInfo> open;
  for (int i = 0; i < 100; ++i) open.push_back(Create("alice", 1, absl::StrCat("/f", i)));
  EXPECT_TRUE(absl::IsResourceExhausted(tus_->Create("alice", 1, {{"path", "/g"}}).status()));
  auto usage = drive_->GetUsage("alice");
  EXPECT_EQ(usage->reservations, 100);
  EXPECT_EQ(usage->reserved_bytes, 100u);
  // A finished upload holds no reservation any more.
  ASSERT_TRUE(tus_->Append("alice", open[0].id, 0, Body("x"))->done);
  EXPECT_EQ(drive_->GetUsage("alice")->reservations, 99);
  EXPECT_TRUE(tus_->Create("alice", 1, {{"path", "/g"}}).ok());
  EXPECT_EQ(Used("alice"), 101u);
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

// A frontend stopped at any store write of one client's work (one upload that lands, one
// that is terminated), whether that write took effect or not: once the client has carried
// on (HEAD, then the rest of the bytes, or DELETE again) the reservations are all released,
// and once the sweeper has run the usage counter is exactly the landed file.
class TusCrashTest : public ::testing::TestWithParam<bool> {
 protected:
  static constexpr int kMaxWrites = 200;  // more than the client's work takes
  static constexpr int64_t kExpiryMs = 50'000;
  const std::string kKept = "0123456789";  // 4-byte chunks: two and a tail
  const std::string kDropped = "abcdefghi";

  // One frontend: a drive and its uploads over the shared store.
  struct Frontend {
    explicit Frontend(TusCrashTest* test)
        : drive(test->store_.get(), DriveOptions(test)),
          tus(test->store_.get(), &drive, TusOptions{.expiry_ms = kExpiryMs}) {}
    static Options DriveOptions(TusCrashTest* test) {
      Options options;
      options.chunk_bytes = 4;
      options.now_ms = [test] { return test->clock_.load(); };
      return options;
    }
    Drive drive;
    TusStore tus;
  };

  std::string Read(Drive& drive, const std::string& path) {
    auto reader = drive.Open("alice", path);
    if (!reader.ok()) return "";
    std::string out;
    for (auto piece = (*reader)->Next(); piece.ok() && !piece->empty(); piece = (*reader)->Next())
      out += *piece;
    return out;
  }

  bool RowEmpty(const std::string& row) {
    auto page = store_->List(row, {});
    return page.ok() && page->cells.empty();
  }

  std::unique_ptr<CuttableStore> store_;
  std::atomic<int64_t> clock_{1'000'000};
  std::string kept_id_, dropped_id_;
};

TEST_P(TusCrashTest, ReservationsAreReleasedOnceWhereverItStops) {
  const bool crashing_write_lands = GetParam();
  bool finished = false;
  int charge_lost = 0;
  for (int k = 1; k <= kMaxWrites && !finished; ++k) {
    SCOPED_TRACE(testing::Message() << "stop at write " << k);
    store_ = std::make_unique<CuttableStore>();
    kept_id_.clear();
    dropped_id_.clear();
    // The writes that took effect: (op, row).
    std::vector<std::pair<std::string, std::string>> landed;
    int writes = 0;
    store_->cut = [&](CuttableStore::When when, std::string_view op, std::string_view row) {
      if (when == CuttableStore::When::kBefore) ++writes;
      bool stop = writes == k && (when == CuttableStore::When::kAfter) == crashing_write_lands;
      bool took_effect = writes < k || (writes == k && crashing_write_lands);
      if (when == CuttableStore::When::kAfter && took_effect) {
        landed.emplace_back(op, row);
      }
      return stop;
    };
    {
      Frontend dying(this);
      [&] {
        auto kept = dying.tus.Create("alice", kKept.size(), {{"path", "/kept.txt"}});
        if (!kept.ok()) return;
        kept_id_ = kept->id;
        if (!dying.tus.Append("alice", kept_id_, 0, Body(kKept.substr(0, 7))).ok()) return;
        if (!dying.tus.Append("alice", kept_id_, 7, Body(kKept.substr(7))).ok()) return;
        auto dropped = dying.tus.Create("alice", kDropped.size(), {{"path", "/dropped.txt"}});
        if (!dropped.ok()) return;
        dropped_id_ = dropped->id;
        if (!dying.tus.Append("alice", dropped_id_, 0, Body(kDropped.substr(0, 6))).ok()) return;
        (void)dying.tus.Terminate("alice", dropped_id_);
      }();
    }
    store_->cut = nullptr;
    store_->Restart();
    finished = writes < k;

    // The client comes back after the 30 s a landing may be left alone, on another
    // frontend, and carries on: the rest of the bytes (all of them if it never learnt the
    // upload's id), then the termination again.
    clock_ += 31'000;
    Frontend next(this);
    const bool both_answered = !kept_id_.empty() && !dropped_id_.empty();
    uint64_t cut_creation = kept_id_.empty() ? kKept.size() : kDropped.size();
    if (kept_id_.empty()) {
      auto kept = next.tus.Create("alice", kKept.size(), {{"path", "/kept.txt"}});
      ASSERT_TRUE(kept.ok()) << kept.status();
      kept_id_ = kept->id;
    }
    auto at = next.tus.Get("alice", kept_id_);
    ASSERT_TRUE(at.ok()) << at.status();
    if (!at->done) {
      auto rest = next.tus.Append("alice", kept_id_, at->offset, Body(kKept.substr(at->offset)));
      ASSERT_TRUE(rest.ok() && rest->done) << rest.status();
    }
    if (!dropped_id_.empty()) {
      // Done already (404), or finished now.
      auto again = next.tus.Terminate("alice", dropped_id_);
      EXPECT_TRUE(again.ok() || absl::IsNotFound(again)) << again;
      EXPECT_TRUE(absl::IsNotFound(next.tus.Get("alice", dropped_id_).status()));
    }
    // The drive's own known limit (docs/drive.md): the counter is charged after the entry
    // switch, so a stop between the two leaves the landed file uncharged.
    auto switched = std::find_if(landed.begin(), landed.end(), [](const auto& write) {
      return write.first == "cput" && write.second.starts_with("drive/alice/tree/");
    });
    bool uncharged = switched != landed.end() && (switched + 1 == landed.end() ||
                                                  (switched + 1)->second != "drive/alice/state");
    charge_lost += uncharged;
    const uint64_t charged = uncharged ? 0 : kKept.size();
    auto usage = next.drive.GetUsage("alice");
    ASSERT_TRUE(usage.ok());
    EXPECT_EQ(usage->used_bytes - usage->reserved_bytes, charged);
    // Only a creation stopped before it answered leaves its reservation, for the sweeper.
    if (both_answered) {
      EXPECT_EQ(usage->reserved_bytes, 0u);
    } else {
      EXPECT_EQ(usage->reserved_bytes, usage->reservations == 0 ? 0 : cut_creation);
    }

    clock_ += kExpiryMs;
    ASSERT_TRUE(next.tus.Sweep().ok());
    usage = next.drive.GetUsage("alice");
    ASSERT_TRUE(usage.ok());
    EXPECT_EQ(usage->reservations, 0);
    EXPECT_EQ(usage->used_bytes, charged);
    EXPECT_EQ(Read(next.drive, "/kept.txt"), kKept);
    EXPECT_TRUE(absl::IsNotFound(next.drive.Stat("alice", "/dropped.txt").status()));
    EXPECT_TRUE(RowEmpty(keys::UserRow("alice", "tus")));
    EXPECT_TRUE(RowEmpty("drive-tus/expiry"));
    for (const std::string& id : {kept_id_, dropped_id_}) {
      if (!id.empty()) {
        EXPECT_TRUE(RowEmpty(keys::UserRow("alice", "tustail/") + id));
      }
    }
    if (HasFailure()) return;
  }
  EXPECT_TRUE(finished) << "still stopping after " << kMaxWrites << " writes";
  EXPECT_EQ(charge_lost, 1);
}

INSTANTIATE_TEST_SUITE_P(CrashingWrite, TusCrashTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Lands" : "IsLost"; });

TEST(TusHeadersTest, Numbers) {
  EXPECT_EQ(*ParseTusNumber("0", 10, "Upload-Length"), 0u);
  EXPECT_EQ(*ParseTusNumber("10", 10, "Upload-Length"), 10u);
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "0x10", "11", "99999999999999999999",
                          "184467440737095516160"}) {
    EXPECT_FALSE(ParseTusNumber(bad, 10, "Upload-Length").ok()) << bad;
  }
  EXPECT_EQ(*ParseTusNumber("18446744073709551615", UINT64_MAX, "x"), UINT64_MAX);
}

TEST(TusHeadersTest, Checksum) {
  // sha1("abc") and sha256("abc").
  auto sha1 = ParseTusChecksum("sha1 qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
  ASSERT_TRUE(sha1.ok()) << sha1.status();
  EXPECT_EQ(sha1->algorithm, TusChecksum::Algorithm::kSha1);
  EXPECT_EQ(absl::BytesToHexString(sha1->digest), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(ParseTusChecksum("sha1 qZk+NkcGgWq6PiVxeFDCbJzQ2J0")->digest, sha1->digest);
  auto sha256 = ParseTusChecksum("sha256 ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
  ASSERT_TRUE(sha256.ok()) << sha256.status();
  EXPECT_EQ(sha256->algorithm, TusChecksum::Algorithm::kSha256);
  EXPECT_EQ(sha256->digest.size(), 32u);
  for (const char* bad :
       {"", "sha1", "sha1 ", "md5 kAFQmDzST7DWlj99KOF/cg==", "SHA1 qZk+NkcGgWq6PiVxeFDCbJzQ2J0=",
        "sha1  qZk+NkcGgWq6PiVxeFDCbJzQ2J0=", "sha1 ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
        "sha256 qZk+NkcGgWq6PiVxeFDCbJzQ2J0=", "sha1 qZk-NkcGgWq6PiVxeFDCbJzQ2J0="}) {
    EXPECT_FALSE(ParseTusChecksum(bad).ok()) << bad;
  }
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
