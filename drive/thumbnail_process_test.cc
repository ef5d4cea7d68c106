// The sandbox around the decoder: the real `thumbnailer` binary, and stand-ins that crash,
// hang or spin, run through ThumbnailProcess as the frontend runs them.
#include "drive/thumbnail_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>
#include <vector>

#include "drive/thumbnail.h"
#include "drive/thumbnail_test_util.h"
#include "drive/thumbnailer_child.h"
#include "gtest/gtest.h"

namespace penncloud::drive {
namespace {

using testing::DeclaredPng;
using testing::ImageSize;
using testing::TestImage;

// The thumbnailer built beside this test (both land in build/<dir>/bin).
std::string ThumbnailerPath() {
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "thumbnailer").string();
}

// Yields `bytes` in pieces of `piece` bytes, as drive::Reader::Next would.
ByteSource Pieces(std::string bytes, size_t piece = 4096) {
  auto data = std::make_shared<std::string>(std::move(bytes));
  auto at = std::make_shared<size_t>(0);
  return [data, at, piece]() -> absl::StatusOr<std::string> {
    std::string next = data->substr(*at, piece);
    *at += next.size();
    return next;
  };
}

ThumbnailProcess Real(ThumbnailerLimits limits = {}) {
  return ThumbnailProcess({.command = {ThumbnailerPath()}, .limits = limits});
}

ThumbnailProcess StandIn(const std::string& script, int wall_ms = 10000) {
  ThumbnailerLimits limits;
  limits.wall_ms = wall_ms;
  return ThumbnailProcess({.command = {"/bin/sh", "-c", script}, .limits = limits});
}

class ThumbnailProcessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(InitThumbnailDecoder().ok()); }
};

TEST_F(ThumbnailProcessTest, RealThumbnailerShrinksAnImageFedInPieces) {
  auto process = Real();
  auto thumb = process.Make(128, Pieces(TestImage(ImageFormat::kPng, 800, 400)));
  ASSERT_TRUE(thumb.ok()) << thumb.status();
  EXPECT_EQ(ImageSize(*thumb), std::make_pair(128, 64));
}

// Each loader, its worker threads and the encoder run under the syscall filter: one call
// it does not allow would kill the thumbnailer with SIGSYS.
TEST_F(ThumbnailProcessTest, RealThumbnailerDecodesEveryFormatUnderTheFilter) {
  auto process = Real();
  for (auto [format, alpha] : {std::pair{ImageFormat::kJpeg, false},
                               {ImageFormat::kPng, true},
                               {ImageFormat::kWebp, true},
                               {ImageFormat::kGif, false}}) {
    SCOPED_TRACE(static_cast<int>(format));
    auto thumb = process.Make(100, Pieces(TestImage(format, 1000, 600, alpha)));
    ASSERT_TRUE(thumb.ok()) << thumb.status();
    EXPECT_EQ(ImageSize(*thumb), std::make_pair(100, 60));
  }
}

TEST_F(ThumbnailProcessTest, DecompressionBombIsRefusedWithItsReason) {
  auto process = Real();
  auto thumb = process.Make(256, Pieces(DeclaredPng(50000, 50000)));
  ASSERT_TRUE(absl::IsFailedPrecondition(thumb.status())) << thumb.status();
  EXPECT_NE(thumb.status().message().find("too large to preview"), std::string::npos);
  EXPECT_NE(thumb.status().message().find("50000x50000"), std::string::npos);
}

// The decoders' error paths (and glibc's, freeing what they had) stay inside the filter too:
// a refusal, not a crash.
TEST_F(ThumbnailProcessTest, TruncatedAndForeignBytesAreRefused) {
  auto process = Real();
  for (ImageFormat format :
       {ImageFormat::kJpeg, ImageFormat::kPng, ImageFormat::kWebp, ImageFormat::kGif}) {
    SCOPED_TRACE(static_cast<int>(format));
    std::string image = TestImage(format, 640, 480);
    auto truncated = process.Make(256, Pieces(image.substr(0, image.size() / 3)));
    ASSERT_TRUE(absl::IsFailedPrecondition(truncated.status())) << truncated.status();
    EXPECT_NE(truncated.status().message().find("cannot be decoded"), std::string::npos);
  }
  auto text = process.Make(256, Pieces("<svg onload='alert(1)'/>"));
  ASSERT_TRUE(absl::IsFailedPrecondition(text.status())) << text.status();
  EXPECT_NE(text.status().message().find("not a JPEG"), std::string::npos);
}

TEST_F(ThumbnailProcessTest, InputOverTheLimitIsRefused) {
  ThumbnailerLimits limits;
  limits.max_input_bytes = 10000;
  auto process = Real(limits);
  auto thumb = process.Make(64, Pieces(std::string(50000, 'x')));
  ASSERT_TRUE(absl::IsFailedPrecondition(thumb.status())) << thumb.status();
  EXPECT_NE(thumb.status().message().find("too large"), std::string::npos);
}

TEST_F(ThumbnailProcessTest, DecoderThatCrashesCostsOnlyItself) {
  auto process = StandIn("head -c 100 >/dev/null; kill -SEGV $$");
  auto thumb = process.Make(64, Pieces(TestImage(ImageFormat::kPng, 64, 64)));
  ASSERT_TRUE(absl::IsFailedPrecondition(thumb.status())) << thumb.status();
  EXPECT_NE(thumb.status().message().find("crashed"), std::string::npos);
  EXPECT_NE(thumb.status().message().find("signal 11"), std::string::npos);
}

TEST_F(ThumbnailProcessTest, DecoderThatHangsIsKilledAtTheWallClockLimit) {
  auto process = StandIn("exec sleep 60", /*wall_ms=*/300);
  auto start = std::chrono::steady_clock::now();
  auto thumb = process.Make(64, Pieces("x"));
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(absl::IsFailedPrecondition(thumb.status())) << thumb.status();
  EXPECT_NE(thumb.status().message().find("longer than 300 ms"), std::string::npos);
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_GE(took, std::chrono::milliseconds(300));
}

// The stand-in lowers its own CPU limit, as the thumbnailer does; the kernel ends it.
TEST_F(ThumbnailProcessTest, DecoderThatSpinsIsEndedByTheCpuLimit) {
  auto process = StandIn("ulimit -t 1; while :; do :; done");
  auto thumb = process.Make(64, Pieces("x"));
  ASSERT_TRUE(absl::IsFailedPrecondition(thumb.status())) << thumb.status();
  EXPECT_NE(thumb.status().message().find("CPU"), std::string::npos);
}

TEST_F(ThumbnailProcessTest, MemoryLimitStopsTheRealDecoder) {
  // A 5000 x 5000 GIF frame is decoded whole (100 MB of RGBA) before it is shrunk: within
  // the default limit, not within 96 MiB of address space (libvips itself starts in less).
  std::string gif = testing::SolidGif(5000, 5000);
  auto roomy = Real().Make(64, Pieces(gif));
  ASSERT_TRUE(roomy.ok()) << roomy.status();
  EXPECT_EQ(ImageSize(*roomy), std::make_pair(64, 64));
  ThumbnailerLimits tight;
  tight.address_space_bytes = uint64_t{96} << 20;
  auto thumb = Real(tight).Make(64, Pieces(gif));
  ASSERT_TRUE(absl::IsFailedPrecondition(thumb.status())) << thumb.status();
}

TEST_F(ThumbnailProcessTest, SourceErrorsPassThroughAndStopTheChild) {
  auto process = StandIn("cat >/dev/null");
  int calls = 0;
  auto thumb = process.Make(64, [&]() -> absl::StatusOr<std::string> {
    if (++calls == 1) return std::string(1000, 'x');
    return absl::UnavailableError("store down");
  });
  EXPECT_TRUE(absl::IsUnavailable(thumb.status())) << thumb.status();
  EXPECT_EQ(thumb.status().message(), "store down");
}

// With every turn taken, a request waits at most the wall-clock limit, then is told to
// come back (503), rather than starting one more decoder.
TEST_F(ThumbnailProcessTest, RequestsBeyondTheConcurrencyLimitWaitThenGiveUp) {
  ThumbnailerLimits limits;
  limits.wall_ms = 300;
  ThumbnailProcess process(
      {.command = {"/bin/sh", "-c", "cat >/dev/null"}, .limits = limits, .max_concurrent = 1});
  // The first request holds the only turn while its source is blocked.
  std::promise<void> holding, release;
  std::shared_future<void> released = release.get_future().share();
  std::thread first([&] {
    bool told = false;
    (void)process.Make(64, [&]() -> absl::StatusOr<std::string> {
      if (!told) holding.set_value(), told = true;
      released.wait();
      return std::string();
    });
  });
  holding.get_future().wait();
  auto start = std::chrono::steady_clock::now();
  auto second = process.Make(64, Pieces("x"));
  auto waited = std::chrono::steady_clock::now() - start;
  release.set_value();
  first.join();
  EXPECT_TRUE(absl::IsUnavailable(second.status())) << second.status();
  EXPECT_GE(waited, std::chrono::milliseconds(300));
}

TEST_F(ThumbnailProcessTest, MissingBinaryIsUnavailable) {
  ThumbnailProcess process({.command = {"/nonexistent/thumbnailer"}, .limits = {}});
  EXPECT_TRUE(absl::IsUnavailable(process.Make(64, Pieces("x")).status()));
}

TEST_F(ThumbnailProcessTest, GarbledOutputOverTheLimitIsAnError) {
  ThumbnailerLimits limits;
  limits.max_output_bytes = 1000;
  ThumbnailProcess process(
      {.command = {"/bin/sh", "-c", "head -c 100000 /dev/zero"}, .limits = limits});
  EXPECT_TRUE(absl::IsInternal(process.Make(64, Pieces("x")).status()));
}

// The limits alone, in a forked child of the test: after LowerThumbnailerLimits no file or
// socket can be opened and the limits read back as set.
TEST(ThumbnailerConfineTest, LimitsHoldAfterLowering) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ThumbnailerLimits limits;
    limits.address_space_bytes = uint64_t{512} << 20;
    limits.cpu_seconds = 3;
    if (!LowerThumbnailerLimits(limits).ok()) ::_exit(1);
    int failures = 0;
    if (::socket(AF_INET, SOCK_STREAM, 0) >= 0 || errno != EMFILE) failures |= 2;
    if (::open("/etc/hostname", O_RDONLY) >= 0) failures |= 4;
    struct rlimit r;
    ::getrlimit(RLIMIT_AS, &r);
    if (r.rlim_max != limits.address_space_bytes) failures |= 8;
    ::getrlimit(RLIMIT_CPU, &r);
    if (r.rlim_cur != 3) failures |= 16;
    ::getrlimit(RLIMIT_FSIZE, &r);
    if (r.rlim_max != 0) failures |= 32;
    // The hard limits cannot be raised back.
    r.rlim_cur = r.rlim_max = RLIM_INFINITY;
    if (::setrlimit(RLIMIT_AS, &r) == 0) failures |= 64;
    ::_exit(failures);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// Runs `body` in a forked child after the whole confinement, limits and syscall filter,
// then exits 0; returns the child's wait status.
int StatusAfterConfinement(void (*body)()) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ThumbnailerLimits limits;
    // This test process has mapped far more than a thumbnailer (libvips, the other tests'
    // threads); LimitsHoldAfterLowering checks the address-space limit.
    limits.address_space_bytes = RLIM_INFINITY;
    if (!ConfineThumbnailer(limits).ok()) ::_exit(1);
    body();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

bool KilledBySigsys(int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS; }

TEST(ThumbnailerConfineTest, FilterKillsTheProcessOnCallsOutsideTheAllowlist) {
  // A socket: the descriptor limit alone would only fail it (EMFILE), as it would for an
  // exploit that tries again with a descriptor it closed first.
  EXPECT_TRUE(KilledBySigsys(StatusAfterConfinement([] { ::socket(AF_INET, SOCK_STREAM, 0); })));
  EXPECT_TRUE(KilledBySigsys(StatusAfterConfinement([] {
    char arg0[] = "true";
    char* argv[] = {arg0, nullptr};
    ::execve("/bin/true", argv, argv + 1);
  })));
  EXPECT_TRUE(KilledBySigsys(StatusAfterConfinement([] { ::fork(); })));  // no CLONE_THREAD
  EXPECT_TRUE(KilledBySigsys(StatusAfterConfinement([] { ::kill(::getppid(), SIGTERM); })));
  // Code written at run time: a writable mapping cannot be made executable, nor an
  // executable one made.
  EXPECT_TRUE(KilledBySigsys(StatusAfterConfinement(
      [] { ::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); })));
  EXPECT_TRUE(KilledBySigsys(StatusAfterConfinement([] {
    void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ::mprotect(page, 4096, PROT_READ | PROT_EXEC);
  })));
  // Descriptors in the wrong direction: read only stdin, write only stdout and stderr.
  EXPECT_TRUE(KilledBySigsys(StatusAfterConfinement([] {
    char byte;
    (void)!::read(1, &byte, 1);
  })));
  EXPECT_TRUE(KilledBySigsys(StatusAfterConfinement([] { (void)!::write(0, "x", 1); })));
}

TEST(ThumbnailerConfineTest, FilterLetsTheDecoderThreadsAndMallocWork) {
  int status = StatusAfterConfinement([] {
    // openat fails instead of killing: glibc's malloc may look at overcommit_memory.
    if (::open("/etc/hostname", O_RDONLY) >= 0 || errno != EACCES) ::_exit(2);
    std::vector<char> big(16 << 20, 'x');  // an mmap, then munmap
    int seen = 0;
    std::thread worker([&] { seen = big[12345]; });  // clone3 refused, clone taken
    worker.join();
    if (seen != 'x') ::_exit(3);
  });
  ASSERT_TRUE(WIFEXITED(status)) << (WIFSIGNALED(status) ? WTERMSIG(status) : -1);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace penncloud::drive
