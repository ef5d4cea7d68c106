#include "drive/thumbnailer_child.h"

#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "drive/thumbnail.h"

namespace penncloud::drive {
namespace {

absl::Status Limit(int resource, const char* name, rlim_t soft, rlim_t hard) {
  struct rlimit limit = {soft, hard};
  if (::setrlimit(resource, &limit) != 0) {
    return absl::InternalError(absl::StrCat("setrlimit ", name, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

void WriteLine(int fd, const std::string& text) {
  std::string line = text + "\n";
  (void)!::write(fd, line.data(), line.size());  // best effort: the exit code carries the verdict
}

// Reads `fd` to its end; false if it holds more than `max` bytes.
bool ReadAll(int fd, uint64_t max, std::string* out, std::string* error) {
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) return true;
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = absl::StrCat("read: ", std::strerror(errno));
      return false;
    }
    if (out->size() + static_cast<uint64_t>(n) > max) {
      *error = absl::StrCat("the image is over ", max, " bytes");
      return false;
    }
    out->append(buf, static_cast<size_t>(n));
  }
}

bool WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Argument `index` of a system call compared with `value` (for SCMP_CMP_MASKED_EQ, `value`
// is the mask and `masked` what the masked argument must equal). Spelled out rather than
// with SCMP_A0..5, whose designated initialisers leave a field to clang's
// -Wmissing-field-initializers.
scmp_arg_cmp Arg(unsigned index, scmp_compare op, scmp_datum_t value, scmp_datum_t masked = 0) {
  return scmp_arg_cmp{index, op, value, masked};
}

}  // namespace

absl::Status LowerThumbnailerLimits(const ThumbnailerLimits& limits) {
  rlim_t cpu = static_cast<rlim_t>(limits.cpu_seconds);
  rlim_t as = static_cast<rlim_t>(limits.address_space_bytes);
  // Past the soft CPU limit the kernel sends SIGXCPU, a second later SIGKILL.
  for (auto s :
       {Limit(RLIMIT_AS, "RLIMIT_AS", as, as), Limit(RLIMIT_CPU, "RLIMIT_CPU", cpu, cpu + 1),
        Limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", 0, 0), Limit(RLIMIT_CORE, "RLIMIT_CORE", 0, 0),
        // Descriptors 0-2 are all it needs: open, socket and pipe now fail.
        Limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", 3, 3)}) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status FilterThumbnailerSyscalls() {
  // No setuid gains through exec; also what lets an unprivileged process install a filter.
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return absl::InternalError(absl::StrCat("prctl: ", std::strerror(errno)));
  }
  // Anything not allowed below kills the whole process (every thread) rather than failing
  // with EPERM: after confinement the decoder has no reason to make another call, so one
  // that arrives is either an exploit, which should get no chance to probe and carry on, or
  // a libvips path the tests missed, which should show up loudly (the frontend answers 422
  // naming signal 31, SIGSYS) rather than as a half-made thumbnail.
  std::unique_ptr<void, void (*)(scmp_filter_ctx)> filter(seccomp_init(SCMP_ACT_KILL_PROCESS),
                                                          seccomp_release);
  if (filter == nullptr) return absl::InternalError("seccomp_init failed");
  scmp_filter_ctx ctx = filter.get();
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  // Threads already running (none in the thumbnailer, but libraries may start some) get
  // the filter too, not only the caller.
  if (rc == 0) rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
  auto allow = [&](int syscall, auto... conditions) {
    if (rc == 0)
      rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, syscall, sizeof...(conditions), conditions...);
  };
  // The image comes in on stdin, the thumbnail goes out on stdout, a failure's reason (or
  // glibc's last words before an abort) on stderr. Nothing else is open.
  allow(SCMP_SYS(read), Arg(0, SCMP_CMP_EQ, 0));
  allow(SCMP_SYS(write), Arg(0, SCMP_CMP_EQ, 1));
  allow(SCMP_SYS(write), Arg(0, SCMP_CMP_EQ, 2));
  allow(SCMP_SYS(writev), Arg(0, SCMP_CMP_EQ, 2));
  // malloc and thread stacks. No new executable memory: with ORC off
  // (InitThumbnailDecoder) nothing in the decoder generates code, so an exploit cannot
  // either.
  for (int syscall : {SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise)}) {
    allow(syscall);
  }
  allow(SCMP_SYS(mmap), Arg(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
  allow(SCMP_SYS(mprotect), Arg(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
  // libvips runs its pipeline on worker threads even at concurrency 1 (measured: 3 for a
  // JPEG, 5 for a WebP), started as images are opened, so threads cannot be refused. A
  // thread shares this process's filter and limits; a new process (fork, vfork) would
  // inherit them too, but has no use here, so clone must carry CLONE_THREAD. clone3 passes its
  // flags in memory, where a filter cannot read them, so it answers ENOSYS, on which glibc
  // falls back to clone.
  allow(SCMP_SYS(clone), Arg(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
  // glibc's malloc reads /proc/sys/vm/overcommit_memory the first time it shrinks a
  // thread's heap, and copes when it cannot. No file could be opened anyway (RLIMIT_NOFILE).
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
  allow(SCMP_SYS(prctl), Arg(0, SCMP_CMP_EQ, PR_SET_NAME));  // glib names its threads
  for (int syscall : {SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
                      SCMP_SYS(sched_yield), SCMP_SYS(exit), SCMP_SYS(exit_group)}) {
    allow(syscall);
  }
  // glibc's thread start-up and its malloc's randomisation; clocks for glib's timers.
  for (int syscall : {SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigreturn),
                      SCMP_SYS(getrandom), SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep),
                      SCMP_SYS(gettid), SCMP_SYS(getpid)}) {
    allow(syscall);
  }
  // abort() (a failed assertion in a library) raises SIGABRT on itself: the frontend then
  // sees the abort for what it is. Signals to any other process are refused.
  allow(SCMP_SYS(tgkill), Arg(0, SCMP_CMP_EQ, static_cast<scmp_datum_t>(::getpid())));
  if (rc == 0) rc = seccomp_load(ctx);
  if (rc != 0) return absl::InternalError(absl::StrCat("seccomp: ", std::strerror(-rc)));
  return absl::OkStatus();
}

absl::Status ConfineThumbnailer(const ThumbnailerLimits& limits) {
  if (auto s = LowerThumbnailerLimits(limits); !s.ok()) return s;
  return FilterThumbnailerSyscalls();
}

int RunThumbnailer(int side, const ThumbnailerLimits& limits, int in_fd, int out_fd, int err_fd) {
  if (auto s = InitThumbnailDecoder(); !s.ok()) {
    WriteLine(err_fd, s.ToString());
    return kThumbnailerInternal;
  }
  return RunInitialisedThumbnailer(side, limits, in_fd, out_fd, err_fd);
}

int RunInitialisedThumbnailer(int side, const ThumbnailerLimits& limits, int in_fd, int out_fd,
                              int err_fd) {
  if (auto s = ConfineThumbnailer(limits); !s.ok()) {
    WriteLine(err_fd, s.ToString());
    return kThumbnailerInternal;
  }
  std::string image, error;
  if (!ReadAll(in_fd, limits.max_input_bytes, &image, &error)) {
    WriteLine(err_fd, error);
    return kThumbnailerInputTooLarge;
  }
  auto jpeg = MakeThumbnail(image, side, DecodeLimits{.max_pixels = limits.max_pixels});
  if (!jpeg.ok()) {
    WriteLine(err_fd, std::string(jpeg.status().message()));
    return ThumbnailerExitFor(jpeg.status());
  }
  if (!WriteAll(out_fd, *jpeg)) return kThumbnailerInternal;
  return kThumbnailerOk;
}

}  // namespace penncloud::drive
