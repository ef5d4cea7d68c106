// The sandbox around the decoder: the real `thumbnailer` binary, spawned per image and as a
// zygote, and stand-ins that crash, hang or spin, run through ThumbnailProcess as the
// frontend runs them.
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
#include <fstream>
#include <future>
#include <sstream>
#include <thread>
#include <vector>

#include "drive/thumbnail.h"
#include "drive/thumbnail_test_util.h"
#include "drive/thumbnailer_child.h"
#include "gtest/gtest.h"

namespace penncloud::drive {
namespace {

using testing::DeclaredPng;
using testing::DecodedShape;
using testing::ImageSize;
using testing::ImageVariant;
using testing::ShapeOf;
using testing::TestImage;
using testing::VariantImage;

// A binary built beside this test (all land in build/<dir>/bin).
std::string Sibling(const std::string& name) {
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / name).string();
}

std::string ThumbnailerPath() { return Sibling("thumbnailer"); }

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

ThumbnailProcess Real(ThumbnailerLimits limits = {}, bool zygote = false) {
  return ThumbnailProcess({.command = {ThumbnailerPath()}, .limits = limits, .zygote = zygote});
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

// The real thumbnailer, spawned per image (false) and forked from its zygote (true): the
// same answers either way.
class RealThumbnailerTest : public ThumbnailProcessTest,
                            public ::testing::WithParamInterface<bool> {
 protected:
  ThumbnailProcess Real(ThumbnailerLimits limits = {}) {
    return drive::Real(limits, /*zygote=*/GetParam());
  }
};

INSTANTIATE_TEST_SUITE_P(SpawnedAndForked, RealThumbnailerTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Forked" : "Spawned"; });

TEST_P(RealThumbnailerTest, RealThumbnailerShrinksAnImageFedInPieces) {
  auto process = Real();
  auto thumb = process.Make(128, Pieces(TestImage(ImageFormat::kPng, 800, 400)));
  ASSERT_TRUE(thumb.ok()) << thumb.status();
  EXPECT_EQ(ImageSize(*thumb), std::make_pair(128, 64));
}

// Each loader, its worker threads and the encoder run under the syscall filter: one call
// it does not allow would kill the thumbnailer with SIGSYS.
TEST_P(RealThumbnailerTest, RealThumbnailerDecodesEveryFormatUnderTheFilter) {
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

// Other colour models, bit depths and page counts take other paths through the decoders
// (libjpeg's CMYK and progressive scans, libpng's 16-bit rows, the GIF and WebP animation
// readers): each must stay inside the filter too. An animated image shows its first page.
TEST_P(RealThumbnailerTest, RealThumbnailerDecodesOtherColourModelsDepthsAndPages) {
  struct Case {
    ImageVariant variant;
    DecodedShape shape;  // what the test made, checked first
  };
  const Case cases[] = {
      {ImageVariant::kCmykJpeg, {4, VIPS_FORMAT_UCHAR, 1}},
      {ImageVariant::kGreyJpeg, {1, VIPS_FORMAT_UCHAR, 1}},
      {ImageVariant::kProgressiveJpeg, {3, VIPS_FORMAT_UCHAR, 1}},
      {ImageVariant::kRgb16Png, {3, VIPS_FORMAT_USHORT, 1}},
      {ImageVariant::kGreyAlphaPng, {2, VIPS_FORMAT_UCHAR, 1}},
      {ImageVariant::kAnimatedGif, {4, VIPS_FORMAT_UCHAR, 3}},
      {ImageVariant::kAnimatedWebp, {3, VIPS_FORMAT_UCHAR, 3}},
  };
  auto process = Real();
  for (const Case& c : cases) {
    SCOPED_TRACE(static_cast<int>(c.variant));
    const std::string image = VariantImage(c.variant, 500, 300);
    const DecodedShape made = ShapeOf(image);
    ASSERT_EQ(made.bands, c.shape.bands);
    ASSERT_EQ(made.format, c.shape.format);
    ASSERT_EQ(made.pages, c.shape.pages);
    auto thumb = process.Make(100, Pieces(image));
    ASSERT_TRUE(thumb.ok()) << thumb.status();
    EXPECT_EQ(ImageSize(*thumb), std::make_pair(100, 60));
  }
}

TEST_P(RealThumbnailerTest, DecompressionBombIsRefusedWithItsReason) {
  auto process = Real();
  auto thumb = process.Make(256, Pieces(DeclaredPng(50000, 50000)));
  ASSERT_TRUE(absl::IsFailedPrecondition(thumb.status())) << thumb.status();
  EXPECT_NE(thumb.status().message().find("too large to preview"), std::string::npos);
  EXPECT_NE(thumb.status().message().find("50000x50000"), std::string::npos);
}

// The decoders' error paths (and glibc's, freeing what they had) stay inside the filter too:
// a refusal, not a crash.
TEST_P(RealThumbnailerTest, TruncatedAndForeignBytesAreRefused) {
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

TEST_P(RealThumbnailerTest, InputOverTheLimitIsRefused) {
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

TEST_P(RealThumbnailerTest, MemoryLimitStopsTheRealDecoder) {
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

// A zygote whose children do what the image says (drive/thumbnailer_standin.cc).
ThumbnailProcess StandInZygote(ThumbnailerLimits limits = {}, const std::string& flag = "") {
  std::vector<std::string> command = {Sibling("thumbnailer_standin")};
  if (!flag.empty()) command.push_back(flag);
  return ThumbnailProcess({.command = command, .limits = limits, .zygote = true});
}

// The pid of the child that answered "pid", and its parent's.
std::pair<pid_t, pid_t> ChildAndParent(ThumbnailProcess& process) {
  auto out = process.Make(64, Pieces("pid"));
  EXPECT_TRUE(out.ok()) << out.status();
  std::pair<pid_t, pid_t> pids{-1, -1};
  std::istringstream(out.ok() ? *out : "") >> pids.first >> pids.second;
  return pids;
}

// Waits (at most 5 s) until `pid`, a child of this process, has exited.
bool Exited(pid_t pid) {
  for (int i = 0; i < 500; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    auto close = line.rfind(')');
    if (close == std::string::npos || line.substr(close + 2, 1) == "Z") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Each image gets its own process, never the zygote, and that process is this one's child:
// it can be waited for and killed without the zygote.
TEST_F(ThumbnailProcessTest, ZygoteForksAFreshChildOfTheServerPerImage) {
  auto process = StandInZygote();
  auto [first, first_parent] = ChildAndParent(process);
  auto [second, second_parent] = ChildAndParent(process);
  pid_t zygote = process.zygote_pid();
  EXPECT_TRUE(process.forking());
  EXPECT_GT(zygote, 0);
  EXPECT_GT(first, 0);
  EXPECT_NE(first, second);
  EXPECT_NE(first, zygote);
  EXPECT_NE(second, zygote);
  EXPECT_EQ(first_parent, ::getpid());
  EXPECT_EQ(second_parent, ::getpid());
  // Both were reaped (no zombie left): neither is a process any more.
  EXPECT_FALSE(std::filesystem::exists("/proc/" + std::to_string(first)));
  EXPECT_EQ(process.zygote_pid(), zygote);  // and it served both
}

// A forked child that crashes, hits the syscall filter, spins or hangs is reported as a
// spawned one is, and the zygote it came from is replaced: a probing image learns nothing
// of the next one's memory layout.
TEST_F(ThumbnailProcessTest, ZygoteChildrenThatMisbehaveAreReportedAndTheZygoteReplaced) {
  ThumbnailerLimits limits;
  limits.cpu_seconds = 1;
  limits.wall_ms = 20000;  // a second of CPU takes many seconds on a loaded machine
  auto process = StandInZygote(limits);
  limits.wall_ms = 3000;
  auto impatient = StandInZygote(limits);
  struct Case {
    ThumbnailProcess& process;
    std::string what, says;
  };
  for (const Case& c : {Case{process, "crash", "signal 11"}, Case{process, "syscall", "signal 31"},
                        Case{process, "spin", "too much CPU time"},
                        Case{impatient, "hang", "longer than 3000 ms"}}) {
    SCOPED_TRACE(c.what);
    (void)ChildAndParent(c.process);  // the zygote is up
    pid_t zygote = c.process.zygote_pid();
    auto start = std::chrono::steady_clock::now();
    auto thumb = c.process.Make(64, Pieces(c.what));
    ASSERT_TRUE(absl::IsFailedPrecondition(thumb.status())) << thumb.status();
    EXPECT_NE(thumb.status().message().find(c.says), std::string::npos) << thumb.status();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
    EXPECT_NE(c.process.zygote_pid(), zygote);
    EXPECT_TRUE(Exited(zygote));
  }
  // Refusals that end in a normal exit keep the zygote.
  pid_t zygote = process.zygote_pid();
  auto refused = process.Make(64, Pieces("a word the stand-in does not know"));
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  EXPECT_EQ(process.zygote_pid(), zygote);
}

TEST_F(ThumbnailProcessTest, KilledZygoteIsReplacedOnNextUse) {
  auto process = StandInZygote();
  (void)ChildAndParent(process);
  pid_t zygote = process.zygote_pid();
  ASSERT_GT(zygote, 0);
  ASSERT_EQ(::kill(zygote, SIGKILL), 0);
  ASSERT_TRUE(Exited(zygote));
  auto [child, parent] = ChildAndParent(process);
  EXPECT_GT(child, 0);
  EXPECT_NE(process.zygote_pid(), zygote);
  EXPECT_GT(process.zygote_pid(), 0);
}

// A zygote killed while an image is being fed costs nothing: the child is the server's. One
// killed while a child is being asked for fails that request, at once.
TEST_F(ThumbnailProcessTest, ZygoteKilledMidRequestNeverHangsIt) {
  auto process = StandInZygote();
  (void)ChildAndParent(process);
  bool killed = false;
  auto fed = process.Make(64, [&, sent = false]() mutable -> absl::StatusOr<std::string> {
    if (pid_t zygote = process.zygote_pid(); !killed && zygote > 0) {
      killed = ::kill(zygote, SIGKILL) == 0;
    }
    if (sent) return std::string();
    sent = true;
    return std::string("pid");
  });
  EXPECT_TRUE(killed);
  EXPECT_TRUE(fed.ok()) << fed.status();
  for (int i = 0; i < 20; ++i) {
    // (0 after a failed request: the next one starts a zygote.)
    if (pid_t zygote = process.zygote_pid(); zygote > 0) {
      ASSERT_EQ(::kill(zygote, SIGKILL), 0);
    }
    auto start = std::chrono::steady_clock::now();
    auto thumb = process.Make(64, Pieces("pid"));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    EXPECT_TRUE(thumb.ok() || absl::IsUnavailable(thumb.status())) << thumb.status();
  }
  auto [child, parent] = ChildAndParent(process);
  EXPECT_EQ(parent, ::getpid());
}

// libvips and glib start no thread when initialised, so the real zygote forks; a zygote
// with a second thread refuses to, and every image is then spawned.
TEST_F(ThumbnailProcessTest, ThreadedZygoteFallsBackToSpawning) {
  auto real = Real({}, /*zygote=*/true);
  auto thumb = real.Make(64, Pieces(TestImage(ImageFormat::kPng, 64, 64)));
  ASSERT_TRUE(thumb.ok()) << thumb.status();
  EXPECT_TRUE(real.forking());

  auto threaded = StandInZygote({}, "--threaded");
  auto [child, parent] = ChildAndParent(threaded);
  EXPECT_GT(child, 0);
  EXPECT_EQ(parent, ::getpid());
  EXPECT_FALSE(threaded.forking());
  EXPECT_EQ(threaded.zygote_pid(), 0);
}

// A zygote whose clone is refused (a container's syscall filter) leaves every image to be
// spawned, the one that found out included; one short of processes would not.
TEST_F(ThumbnailProcessTest, ZygoteThatCannotForkFallsBackToSpawning) {
  auto refused = StandInZygote({}, "--refuse_fork");
  auto [child, parent] = ChildAndParent(refused);
  EXPECT_GT(child, 0);
  EXPECT_EQ(parent, ::getpid());
  EXPECT_FALSE(refused.forking());
  EXPECT_EQ(refused.zygote_pid(), 0);
  auto [again, again_parent] = ChildAndParent(refused);
  EXPECT_GT(again, 0);
  EXPECT_NE(again, child);
}

// What /proc says of `pid`: the value of `key` in its io file.
uint64_t ProcIo(pid_t pid, const std::string& key) {
  std::ifstream io("/proc/" + std::to_string(pid) + "/io");
  std::string name;
  uint64_t value = 0;
  while (io >> name >> value) {
    if (name == key + ":") return value;
  }
  ADD_FAILURE() << "no " << key << " for " << pid;
  return 0;
}

// The real zygote passes the child's descriptors on without reading them: a 4000x3000
// JPEG goes through, and the zygote has read no more than it had, and holds no descriptor
// beyond its own three.
TEST_F(ThumbnailProcessTest, ZygoteNeverReadsTheImage) {
  auto process = Real({}, /*zygote=*/true);
  auto warm = process.Make(64, Pieces(TestImage(ImageFormat::kPng, 64, 64)));
  ASSERT_TRUE(warm.ok()) << warm.status();
  pid_t zygote = process.zygote_pid();
  uint64_t before = ProcIo(zygote, "rchar");
  std::string photo = TestImage(ImageFormat::kJpeg, 4000, 3000);
  auto thumb = process.Make(256, Pieces(photo, 1 << 16));
  ASSERT_TRUE(thumb.ok()) << thumb.status();
  EXPECT_EQ(ImageSize(*thumb), std::make_pair(256, 192));
  ASSERT_EQ(process.zygote_pid(), zygote);
  EXPECT_LT(ProcIo(zygote, "rchar") - before, 4096u) << photo.size() << " bytes of image";
  int fds = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(zygote) + "/fd")) {
    EXPECT_LE(std::stoi(entry.path().filename().string()), 2);
    ++fds;
  }
  EXPECT_EQ(fds, 3);
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
