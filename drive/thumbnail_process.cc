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
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log.h"

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

// Starts `argv` with `fd0`, `fd1` and `fd2` as its stdin, stdout and stderr and nothing else
// of the server's, in a fixed environment with default signal handling.
absl::StatusOr<pid_t> SpawnSandboxed(const std::vector<std::string>& argv, int fd0, int fd1,
                                     int fd2) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fd0, 0);
  posix_spawn_file_actions_adddup2(&actions, fd1, 1);
  posix_spawn_file_actions_adddup2(&actions, fd2, 2);
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

  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, c_argv[0], &actions, &attr, c_argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    errno = rc;
    return Errno("spawn");
  }
  return pid;
}

// (glibc 2.36's <sys/pidfd.h> lacks C linkage for C++, so the raw system call.)
Fd PidFd(pid_t pid) { return Fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))); }

void KillAndReap(pid_t pid) {
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

// A child's three descriptors, both ends. Its stdin is a socket so the server's writes can
// say MSG_NOSIGNAL: a child that died early gives EPIPE, not a SIGPIPE to the server.
struct ChildPipes {
  Fd in_parent, in_child, out_parent, out_child, err_parent, err_child;

  static absl::StatusOr<ChildPipes> Make() {
    ChildPipes p;
    int in_pair[2], out_pipe[2], err_pipe[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0)
      return Errno("socketpair");
    p.in_parent = Fd(in_pair[0]), p.in_child = Fd(in_pair[1]);
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) return Errno("pipe");
    p.out_parent = Fd(out_pipe[0]), p.out_child = Fd(out_pipe[1]);
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) return Errno("pipe");
    p.err_parent = Fd(err_pipe[0]), p.err_child = Fd(err_pipe[1]);
    return p;
  }
};

// A running child of this process, spawned or forked by the zygote. Whatever path leaves
// Make, the child is killed and reaped: no zombies, no decoder left running after its
// request.
class Child {
 public:
  // Takes charge of `pid` (killed and reaped from here on, even on error) and the parent's
  // ends of its descriptors.
  static absl::StatusOr<Child> Adopt(pid_t pid, ChildPipes& pipes) {
    Child child;
    child.pid_ = pid;
    child.pidfd = PidFd(pid);
    if (!child.pidfd.open()) return Errno("pidfd_open");
    for (Fd* fd : {&pipes.in_parent, &pipes.out_parent, &pipes.err_parent}) {
      ::fcntl(fd->get(), F_SETFL, ::fcntl(fd->get(), F_GETFL) | O_NONBLOCK);
    }
    child.in = std::move(pipes.in_parent);
    child.out = std::move(pipes.out_parent);
    child.err = std::move(pipes.err_parent);
    return child;
  }
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

// Feeds `child` the image from `source` and collects its thumbnail, until it ends or
// `deadline` passes.
absl::StatusOr<std::string> Exchange(Child& child, const ThumbnailerLimits& limits,
                                     Clock::time_point deadline, const ByteSource& source) {
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

}  // namespace

// The zygote, a child of this process. Destroying it kills and reaps it.
class ThumbnailProcess::Zygote {
 public:
  static absl::StatusOr<std::unique_ptr<Zygote>> Start(const ThumbnailProcessOptions& options,
                                                       uint64_t generation) {
    int pair[2];
    // SEQPACKET: each message arrives whole with its descriptors, and a dead zygote reads
    // as end of file.
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
      return Errno("socketpair");
    Fd ours(pair[0]), theirs(pair[1]);
    Fd null(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    if (!null.open()) return Errno("/dev/null");
    std::vector<std::string> argv = options.command;
    for (auto& arg : ThumbnailerZygoteArgs(options.limits)) argv.push_back(std::move(arg));
    auto pid = SpawnSandboxed(argv, theirs.get(), null.get(), null.get());
    if (!pid.ok()) return pid.status();
    std::unique_ptr<Zygote> zygote(new Zygote(*pid, generation));
    zygote->pidfd_ = PidFd(*pid);
    if (!zygote->pidfd_.open()) return Errno("pidfd_open");
    zygote->control_ = std::move(ours);
    return zygote;
  }
  ~Zygote() { KillAndReap(pid_); }

  pid_t pid() const { return pid_; }
  uint64_t generation() const { return generation_; }
  bool ready() const { return ready_; }
  void set_ready() { ready_ = true; }

  // Whether it has exited (killed, crashed) since it was last used.
  bool Gone() const {
    pollfd p{pidfd_.get(), POLLIN, 0};
    return ::poll(&p, 1, 0) != 0;
  }

  absl::Status Request(int side, const ChildPipes& pipes) {
    ZygoteRequest request{side};
    iovec iov{&request, sizeof request};
    int fds[3] = {pipes.in_child.get(), pipes.out_child.get(), pipes.err_child.get()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof fds)] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fds);
    std::memcpy(CMSG_DATA(c), fds, sizeof fds);
    while (::sendmsg(control_.get(), &msg, MSG_NOSIGNAL) != sizeof request) {
      if (errno != EINTR) return Errno("zygote");
    }
    return absl::OkStatus();
  }

  // Its next message, waiting until `deadline` at most.
  absl::StatusOr<ZygoteMessage> Receive(Clock::time_point deadline) {
    for (;;) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
      pollfd p{control_.get(), POLLIN, 0};
      int ready = left > 0 ? ::poll(&p, 1, static_cast<int>(left)) : 0;
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) return Errno("poll");
      if (ready == 0) return absl::UnavailableError("thumbnailer zygote: no answer in time");
      ZygoteMessage message;
      ssize_t n = ::recv(control_.get(), &message, sizeof message, MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n < 0) return Errno("zygote");
      if (n == 0) return absl::UnavailableError("thumbnailer zygote: exited");
      if (n != sizeof message) return absl::InternalError("thumbnailer zygote: garbled answer");
      return message;
    }
  }

 private:
  Zygote(pid_t pid, uint64_t generation) : pid_(pid), generation_(generation) {}

  const pid_t pid_;
  const uint64_t generation_;
  Fd pidfd_, control_;
  bool ready_ = false;
};

// A child started for one image, and the zygote it came from (0: spawned).
struct ThumbnailProcess::Started {
  Child child;
  uint64_t zygote = 0;
};

ThumbnailProcess::ThumbnailProcess(ThumbnailProcessOptions options) : options_(std::move(options)) {
  if (!options_.zygote) return;
  std::lock_guard lock(zygote_mu_);
  // Started now so that its libvips start-up is over before the first image; if it fails,
  // the first Make tries again and reports why.
  if (auto zygote = Zygote::Start(options_, ++zygotes_started_); zygote.ok()) {
    zygote_ = std::move(*zygote);
  }
}

ThumbnailProcess::~ThumbnailProcess() = default;

pid_t ThumbnailProcess::zygote_pid() {
  std::lock_guard lock(zygote_mu_);
  return zygote_ != nullptr ? zygote_->pid() : 0;
}

bool ThumbnailProcess::forking() {
  std::lock_guard lock(zygote_mu_);
  return options_.zygote && !zygote_unusable_;
}

absl::StatusOr<ThumbnailProcess::Started> ThumbnailProcess::ForkFromZygote(
    int side, Clock::time_point deadline) {
  std::lock_guard lock(zygote_mu_);
  if (zygote_ != nullptr && zygote_->Gone()) zygote_.reset();
  if (zygote_ == nullptr) {
    auto zygote = Zygote::Start(options_, ++zygotes_started_);
    if (!zygote.ok()) return zygote.status();
    zygote_ = std::move(*zygote);
  }
  // Any failure to talk with the zygote ends it; the next request starts another.
  auto drop = [&](absl::Status status) {
    zygote_.reset();
    return status;
  };
  // For good: from now on every image is spawned.
  auto unusable = [&](const char* why) {
    zygote_unusable_ = true;
    return drop(absl::UnavailableError(absl::StrCat("thumbnailer zygote: ", why)));
  };
  auto threaded = [&](int threads) {
    PC_LOG(kWarn, "drive.thumbnailer_zygote_threaded")("threads", threads);
    return unusable("more than one thread");
  };
  Zygote& zygote = *zygote_;
  if (!zygote.ready()) {
    auto hello = zygote.Receive(deadline);
    if (!hello.ok()) return drop(hello.status());
    if (hello->kind == kZygoteThreaded) return threaded(hello->value);
    if (hello->kind != kZygoteReady)
      return drop(absl::InternalError("thumbnailer zygote: no hello"));
    zygote.set_ready();
  }
  auto pipes = ChildPipes::Make();
  if (!pipes.ok()) return pipes.status();
  if (auto s = zygote.Request(side, *pipes); !s.ok()) return drop(s);
  auto reply = zygote.Receive(deadline);
  if (!reply.ok()) return drop(reply.status());
  switch (reply->kind) {
    case kZygoteStarted:
      break;
    case kZygoteThreaded:
      return threaded(reply->value);
    case kZygoteFailed:
      errno = reply->value;
      // Refused rather than short of resources: a syscall filter around the server (a
      // container's) that does not allow clone with CLONE_PARENT.
      if (errno == EPERM || errno == ENOSYS || errno == EINVAL) {
        PC_LOG(kWarn, "drive.thumbnailer_zygote_cannot_fork")("error", std::strerror(errno));
        return unusable("cannot fork");
      }
      return Errno("zygote: fork");
    default:
      return drop(absl::InternalError("thumbnailer zygote: garbled answer"));
  }
  pid_t pid = reply->value;
  // Only a child of ours may be signalled and waited for under this pid.
  siginfo_t info{};
  if (pid <= 0 ||
      ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return drop(absl::InternalError("thumbnailer zygote: named a process not ours"));
  }
  auto child = Child::Adopt(pid, *pipes);
  if (!child.ok()) return child.status();
  return Started{std::move(*child), zygote.generation()};
}

void ThumbnailProcess::RetireZygote(uint64_t generation) {
  std::lock_guard lock(zygote_mu_);
  if (zygote_ == nullptr || zygote_->generation() != generation) return;
  zygote_.reset();
  if (auto zygote = Zygote::Start(options_, ++zygotes_started_); zygote.ok()) {
    zygote_ = std::move(*zygote);
  }
}

absl::StatusOr<ThumbnailProcess::Started> ThumbnailProcess::Start(int side,
                                                                  Clock::time_point deadline) {
  if (forking()) {
    auto forked = ForkFromZygote(side, deadline);
    // A zygote found unusable just now: this image is spawned, as all later ones.
    if (forked.ok() || forking()) return forked;
  }
  std::vector<std::string> argv = options_.command;
  for (auto& arg : ThumbnailerArgs(side, options_.limits)) argv.push_back(std::move(arg));
  auto pipes = ChildPipes::Make();
  if (!pipes.ok()) return pipes.status();
  auto pid =
      SpawnSandboxed(argv, pipes->in_child.get(), pipes->out_child.get(), pipes->err_child.get());
  if (!pid.ok()) return pid.status();
  auto child = Child::Adopt(*pid, *pipes);
  if (!child.ok()) return child.status();
  return Started{std::move(*child)};
}

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

  auto deadline = Clock::now() + std::chrono::milliseconds(options_.limits.wall_ms);
  auto started = Start(side, deadline);
  if (!started.ok()) return started.status();
  Child& child = started->child;
  auto thumbnail = Exchange(child, options_.limits, deadline, source);
  // A child that did not end by exiting (crashed, filtered, killed) may have been probing:
  // its siblings share the zygote's memory layout (ASLR is drawn once per exec), so the
  // next image gets a new zygote and so a new layout.
  if (started->zygote != 0 && (!child.exited() || WIFSIGNALED(child.status()))) {
    RetireZygote(started->zygote);
  }
  return thumbnail;
}

}  // namespace penncloud::drive
