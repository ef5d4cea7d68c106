// thumbnailer_standin: a stand-in for `thumbnailer` in thumbnail_process_test, as a zygote
// (--zygote) or run per image, that misbehaves on request instead of decoding: what it
// reads on stdin names what it does, confined as the real one is. With --threaded, the
// zygote runs a second thread and so must refuse to fork; with --refuse_fork, a syscall
// filter makes its clone fail with EPERM, as a container's might. Built only with the tests.
//   crash    raise SIGSEGV            syscall  open a socket (outside the seccomp allowlist)
//   hang     sleep past any timeout   spin     burn CPU until RLIMIT_CPU ends it
//   pid      write "<pid> <parent pid>" to stdout and exit 0
#include <seccomp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "drive/thumbnailer_child.h"
#include "drive/thumbnailer_zygote.h"

namespace {
const penncloud::drive::ThumbnailerLimits kDefaults;
}  // namespace

// The flags the frontend passes a zygote (drive/thumbnailer_protocol.h).
ABSL_FLAG(bool, zygote, false, "serve as a zygote on stdin");
ABSL_FLAG(bool, threaded, false, "start a thread before serving as a zygote");
ABSL_FLAG(bool, refuse_fork, false, "have clone fail with EPERM in the zygote");
ABSL_FLAG(int, size, 256, "unused: nothing is drawn");
ABSL_FLAG(uint64_t, address_space_bytes, kDefaults.address_space_bytes, "RLIMIT_AS");
ABSL_FLAG(int, cpu_seconds, kDefaults.cpu_seconds, "RLIMIT_CPU");
ABSL_FLAG(uint64_t, max_input_bytes, kDefaults.max_input_bytes, "unused: input is a word");
ABSL_FLAG(uint64_t, max_pixels, kDefaults.max_pixels, "unused: nothing is decoded");

namespace {

int Misbehave(int, const penncloud::drive::ThumbnailerLimits& limits) {
  // Read before confinement: under the filter getppid is one more forbidden call.
  std::string parent = absl::StrCat(::getppid());
  if (!penncloud::drive::ConfineThumbnailer(limits).ok()) return 70;
  std::string what;
  char buf[256];
  for (ssize_t n; (n = ::read(0, buf, sizeof buf)) > 0;) what.append(buf, static_cast<size_t>(n));
  if (what == "crash") ::raise(SIGSEGV);
  if (what == "syscall") ::socket(AF_INET, SOCK_STREAM, 0);
  if (what == "hang") std::this_thread::sleep_for(std::chrono::minutes(1));
  for (volatile bool spin = what == "spin"; spin;) {
  }
  if (what == "pid") {
    std::string out = absl::StrCat(::getpid(), " ", parent);
    return ::write(1, out.data(), out.size()) == static_cast<ssize_t>(out.size()) ? 0 : 70;
  }
  return 65;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  penncloud::drive::ThumbnailerLimits limits;
  limits.address_space_bytes = absl::GetFlag(FLAGS_address_space_bytes);
  limits.cpu_seconds = absl::GetFlag(FLAGS_cpu_seconds);
  limits.max_input_bytes = absl::GetFlag(FLAGS_max_input_bytes);
  limits.max_pixels = absl::GetFlag(FLAGS_max_pixels);
  if (!absl::GetFlag(FLAGS_zygote)) return Misbehave(absl::GetFlag(FLAGS_size), limits);
  if (absl::GetFlag(FLAGS_threaded)) {
    std::thread([] { std::this_thread::sleep_for(std::chrono::hours(1)); }).detach();
  }
  if (absl::GetFlag(FLAGS_refuse_fork)) {
    scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ALLOW);
    if (filter == nullptr || seccomp_rule_add(filter, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 0) ||
        seccomp_load(filter)) {
      return 70;
    }
    seccomp_release(filter);
  }
  return penncloud::drive::RunThumbnailerZygote(0, limits, &Misbehave);
}
