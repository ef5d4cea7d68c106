#include "drive/thumbnail_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace penncloud::drive {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxStderrBytes = 4096;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    return *this;
  }
  ~Fd() { Close(); }
  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

absl::Status Errno(const char* what) {
  return absl::UnavailableError(absl::StrCat("thumbnailer: ", what, ": ", std::strerror(errno)));
}

// A running child. Whatever path leaves Make, the child is killed and reaped: no zombies,
// no decoder left running after its request.
class Child {
 public:
  static absl::StatusOr<Child> Spawn(const std::vector<std::string>& argv);
  Child(Child&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)),
        status_(other.status_),
        pidfd(std::move(other.pidfd)),
        in(std::move(other.in)),
        out(std::move(other.out)),
        err(std::move(other.err)) {}
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      Reap();
    }
  }

  bool exited() const { return pid_ < 0; }
  int status() const { return status_; }
  // Called once pidfd is readable (the child is gone): collects its status.
  void Reap() {
    while (::waitpid(pid_, &status_, 0) < 0) {
      if (errno == EINTR) continue;
      // Someone else reaped it (SIGCHLD ignored): its verdict is unknown, so not a success.
      status_ = kThumbnailerInternal << 8;
      break;
    }
    pid_ = -1;
  }

 private:
  Child() = default;
  pid_t pid_ = -1;
  int status_ = 0;

 public:
  Fd pidfd, in, out, err;
};

absl::StatusOr<Child> Child::Spawn(const std::vector<std::string>& argv) {
  int in_pair[2], out_pipe[2], err_pipe[2];
  // stdin is a socket so the server's writes can say MSG_NOSIGNAL: a child that died early
  // gives EPIPE, not a SIGPIPE to the server.
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0)
    return Errno("socketpair");
  Fd in_parent(in_pair[0]), in_child(in_pair[1]);
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return Errno("pipe");
  Fd out_parent(out_pipe[0]), out_child(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return Errno("pipe");
  Fd err_parent(err_pipe[0]), err_child(err_pipe[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_child.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out_child.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_child.get(), 2);
  // Nothing of the server's (sockets, store files) reaches the decoder, CLOEXEC or not.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  // The server ignores SIGPIPE and may block signals in this thread; the child starts clean.
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> c_argv;
  for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  // A fixed environment: none of the server's variables (and whatever secrets they hold).
  // VIPSHOME names no folder, so libvips finds no loadable modules (Debian's magick, PDF,
  // HEIF, JPEG XL, OpenSlide): less code mapped into the decoder, and it starts faster
  // (144 instead of 177 shared objects opened).
  char path_var[] = "PATH=/usr/bin:/bin";
  char untrusted_var[] = "VIPS_BLOCK_UNTRUSTED=1";
  char home_var[] = "VIPSHOME=/nonexistent";
  char* envp[] = {path_var, untrusted_var, home_var, nullptr};

  Child child;
  int rc = ::posix_spawn(&child.pid_, c_argv[0], &actions, &attr, c_argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    child.pid_ = -1;
    errno = rc;
    return Errno("spawn");
  }
  // (glibc 2.36's <sys/pidfd.h> lacks C linkage for C++, so the raw system call.)
  child.pidfd = Fd(static_cast<int>(::syscall(SYS_pidfd_open, child.pid_, 0)));
  if (!child.pidfd.open()) return Errno("pidfd_open");
  for (Fd* fd : {&in_parent, &out_parent, &err_parent}) {
    ::fcntl(fd->get(), F_SETFL, ::fcntl(fd->get(), F_GETFL) | O_NONBLOCK);
  }
  child.in = std::move(in_parent);
  child.out = std::move(out_parent);
  child.err = std::move(err_parent);
  return child;
}

absl::Status Refused(std::string_view why) {
  return absl::FailedPreconditionError(std::string(why));
}

// The child's stderr, as a reason we can show: its first line, printable ASCII only (it
// came from a process that may have been taken over), bounded.
std::string Reason(const std::string& err) {
  std::string line = err.substr(0, err.find('\n'));
  for (char& c : line) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  if (line.size() > 300) line.resize(300);
  return line;
}

absl::Status ExitStatus(int status, const std::string& err) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    if (sig == SIGXCPU || sig == SIGKILL)
      return Refused("the image took too much CPU time to decode");
    return Refused(absl::StrCat("the decoder crashed or ran out of memory (signal ", sig, ")"));
  }
  switch (WEXITSTATUS(status)) {
    case kThumbnailerOk:
      return absl::OkStatus();
    case kThumbnailerNotAnImage:
      return Refused("the file is not a JPEG, PNG, WebP or GIF image");
    case kThumbnailerTooManyPixels:
      return Refused(absl::StrCat("the image is too large to preview: ", Reason(err)));
    case kThumbnailerUndecodable:
      return Refused(absl::StrCat("the image cannot be decoded: ", Reason(err)));
    case kThumbnailerInputTooLarge:
      return Refused("the file is too large to preview");
    default:
      return absl::InternalError(
          absl::StrCat("thumbnailer exited with ", WEXITSTATUS(status), ": ", Reason(err)));
  }
}

}  // namespace

ThumbnailProcess::ThumbnailProcess(ThumbnailProcessOptions options)
    : options_(std::move(options)) {}

bool ThumbnailProcess::Acquire() {
  std::unique_lock lock(mu_);
  bool got = turn_.wait_for(lock, std::chrono::milliseconds(options_.limits.wall_ms),
                            [&] { return running_ < options_.max_concurrent; });
  if (got) ++running_;
  return got;
}

void ThumbnailProcess::Release() {
  {
    std::lock_guard lock(mu_);
    --running_;
  }
  turn_.notify_one();
}

absl::StatusOr<std::string> ThumbnailProcess::Make(int side, const ByteSource& source) {
  if (!Acquire()) return absl::UnavailableError("too many thumbnails in progress; try again");
  struct Turn {
    ThumbnailProcess* self;
    ~Turn() { self->Release(); }
  } turn{this};

  const ThumbnailerLimits& limits = options_.limits;
  std::vector<std::string> argv = options_.command;
  for (auto& arg : ThumbnailerArgs(side, limits)) argv.push_back(std::move(arg));
  auto spawned = Child::Spawn(argv);
  if (!spawned.ok()) return spawned.status();
  Child& child = *spawned;
  auto deadline = Clock::now() + std::chrono::milliseconds(limits.wall_ms);

  std::string piece, out, err;
  size_t sent = 0;
  uint64_t fed = 0;
  bool source_done = false;
  while (child.out.open() || child.err.open() || !child.exited()) {
    if (child.in.open() && sent == piece.size()) {
      if (source_done) {
        child.in.Close();  // EOF: the image is whole
      } else {
        auto next = source();
        if (!next.ok()) return next.status();  // ~Child kills and reaps
        piece = std::move(*next);
        sent = 0;
        fed += piece.size();
        if (piece.empty()) source_done = true;
        if (fed > limits.max_input_bytes) return Refused("the file is too large to preview");
        continue;
      }
    }
    pollfd fds[4];
    int n = 0;
    auto watch = [&](const Fd& fd, short events) {
      if (fd.open()) fds[n++] = pollfd{fd.get(), events, 0};
    };
    watch(child.in, POLLOUT);
    watch(child.out, POLLIN);
    watch(child.err, POLLIN);
    if (!child.exited()) watch(child.pidfd, POLLIN);
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      return Refused(absl::StrCat("the image took longer than ", limits.wall_ms, " ms to decode"));
    }
    int ready = ::poll(fds, n, static_cast<int>(left));
    if (ready < 0 && errno != EINTR) return Errno("poll");
    for (int i = 0; i < n && ready > 0; ++i) {
      if (fds[i].revents == 0) continue;
      char buf[1 << 16];
      if (fds[i].fd == child.in.get()) {
        ssize_t w = ::send(child.in.get(), piece.data() + sent, piece.size() - sent,
                           MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
          sent += static_cast<size_t>(w);
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
          child.in.Close();  // the child stopped reading; its exit code says why
        }
      } else if (fds[i].fd == child.out.get()) {
        ssize_t r = ::read(child.out.get(), buf, sizeof buf);
        if (r > 0) {
          out.append(buf, static_cast<size_t>(r));
          if (out.size() > limits.max_output_bytes) {
            return absl::InternalError("the thumbnailer wrote more than its limit");
          }
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          child.out.Close();
        }
      } else if (fds[i].fd == child.err.get()) {
        ssize_t r = ::read(child.err.get(), buf, sizeof buf);
        if (r > 0) {
          err.append(buf, std::min(static_cast<size_t>(r),
                                   kMaxStderrBytes - std::min(kMaxStderrBytes, err.size())));
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          child.err.Close();
        }
      } else if (fds[i].fd == child.pidfd.get()) {
        child.Reap();
      }
    }
  }
  if (auto s = ExitStatus(child.status(), err); !s.ok()) return s;
  if (out.empty()) return absl::InternalError("the thumbnailer wrote nothing");
  return out;
}

}  // namespace penncloud::drive
