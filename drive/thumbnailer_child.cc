#include "drive/thumbnailer_child.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

}  // namespace

absl::Status ConfineThumbnailer(const ThumbnailerLimits& limits) {
  // No setuid gains through exec (there is none, but it costs nothing to close).
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return absl::InternalError(absl::StrCat("prctl: ", std::strerror(errno)));
  }
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

int RunThumbnailer(int side, const ThumbnailerLimits& limits, int in_fd, int out_fd, int err_fd) {
  if (auto s = InitThumbnailDecoder(); !s.ok()) {
    WriteLine(err_fd, s.ToString());
    return kThumbnailerInternal;
  }
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
