#include "drive/thumbnailer_zygote.h"

#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace penncloud::drive {
namespace {

bool Send(int control_fd, ZygoteMessageKind kind, int32_t value) {
  ZygoteMessage message{kind, value};
  return ::send(control_fd, &message, sizeof message, MSG_NOSIGNAL) == sizeof message;
}

// The descriptors attached to `msg`, whatever their number (all of them are closed by the
// caller, even when the request is refused).
std::vector<int> AttachedFds(msghdr* msg) {
  std::vector<int> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(msg); c != nullptr; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds.push_back(fd);
    }
  }
  return fds;
}

// In the new child: the three descriptors become 0, 1 and 2 (the control socket, 0 in the
// zygote, is replaced and so closed), everything else is closed, then the child runs.
[[noreturn]] void BecomeChild(const std::vector<int>& fds, int side,
                              const ThumbnailerLimits& limits, ZygoteChildMain child_main) {
  for (int i = 0; i < 3; ++i) {
    if (::dup2(fds[i], i) != i) ::_exit(kThumbnailerInternal);
  }
  if (::close_range(3, ~0U, 0) != 0) ::_exit(kThumbnailerInternal);
  // _exit, not exit: the zygote's atexit handlers (libvips' shutdown) are not the child's.
  ::_exit(child_main(side, limits));
}

}  // namespace

int CountThreads() {
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  int threads = 0;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++threads;
  }
  ::closedir(dir);
  return threads;
}

int RunThumbnailerZygote(int control_fd, const ThumbnailerLimits& limits,
                         ZygoteChildMain child_main) {
  if (int threads = CountThreads(); threads != 1) {
    Send(control_fd, kZygoteThreaded, threads);
    return kThumbnailerInternal;
  }
  if (!Send(control_fd, kZygoteReady, 1)) return kThumbnailerInternal;
  for (;;) {
    ZygoteRequest request{};
    iovec iov{&request, sizeof request};
    alignas(cmsghdr) char control[CMSG_SPACE(3 * sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(control_fd, &msg, MSG_CMSG_CLOEXEC);
    if (n == 0) return kThumbnailerOk;  // the frontend let go of it
    if (n < 0) {
      if (errno == EINTR) continue;
      return kThumbnailerInternal;
    }
    std::vector<int> fds = AttachedFds(&msg);
    bool well_formed =
        n == sizeof request && fds.size() == 3 && (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == 0;
    for (int fd : fds) well_formed = well_formed && fd > 2;
    if (!well_formed) {
      for (int fd : fds) ::close(fd);
      if (!Send(control_fd, kZygoteFailed, EINVAL)) return kThumbnailerInternal;
      continue;
    }
    if (int threads = CountThreads(); threads != 1) {
      Send(control_fd, kZygoteThreaded, threads);
      return kThumbnailerInternal;
    }
    // The raw system call: glibc's fork() has no CLONE_PARENT. With one thread and no lock
    // held at this point, what glibc's fork() adds (atfork handlers, resetting locks other
    // threads might hold) has nothing to do.
    long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, 0);
    if (pid == 0) BecomeChild(fds, request.side, limits, child_main);
    int fork_errno = errno;
    for (int fd : fds) ::close(fd);
    bool sent = pid > 0 ? Send(control_fd, kZygoteStarted, static_cast<int32_t>(pid))
                        : Send(control_fd, kZygoteFailed, fork_errno);
    if (!sent) return kThumbnailerInternal;
  }
}

}  // namespace penncloud::drive
