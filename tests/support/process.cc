#include "tests/support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "absl/status/status.h"
#include "tests/support/test_pki.h"

namespace penncloud::testing {

absl::StatusOr<Process> Process::Start(const std::string& binary,
                                       const std::vector<std::string>& args,
                                       const std::string& log_path) {
  std::vector<std::string> argv_storage;
  argv_storage.push_back(binary);
  // Every PennCloud process runs with mutual TLS, as it does in production.
  const std::vector<std::string> with_tls = WithTestTls(binary, args);
  argv_storage.insert(argv_storage.end(), with_tls.begin(), with_tls.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return absl::InternalError("cannot open log " + log_path);

  // A child forked from the main thread dies with the test: a test that crashes or is
  // killed by ctest's timeout must not leave its replicas and servers running. Linux sends
  // the signal when the forking *thread* ends, so a child started from a short-lived
  // thread is left without it.
  const pid_t test_pid = ::getpid();
  const bool from_main_thread = ::gettid() == test_pid;
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    return absl::InternalError("fork failed");
  }
  if (pid == 0) {
    // Own process group, so a signal to the test runner's group does not hit it twice.
    ::setpgid(0, 0);
    if (from_main_thread) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != test_pid) _exit(127);  // the test died before prctl took effect
    }
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::execv(binary.c_str(), argv.data());
    _exit(127);
  }
  ::close(log_fd);
  Process p;
  p.pid_ = pid;
  return p;
}

Process::Process(Process&& other) noexcept : pid_(other.pid_) { other.pid_ = -1; }

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (running()) {
      Kill();
    }
    pid_ = other.pid_;
    other.pid_ = -1;
  }
  return *this;
}

Process::~Process() {
  if (running()) Kill();
}

void Process::Stop() {
  if (!running()) return;
  ::kill(pid_, SIGSTOP);
  // kill returns before the process has stopped, and for a moment it may still answer a
  // request sent right after (a test once saw a "frozen" replica accept writes). WNOWAIT
  // leaves the state for the usual waitpid; an exit ends the wait too.
  siginfo_t info{};
  ::waitid(P_PID, static_cast<id_t>(pid_), &info, WSTOPPED | WEXITED | WNOWAIT);
}

void Process::Signal(int sig) {
  if (!running()) return;
  ::kill(pid_, sig);
  if (sig == SIGKILL) Reap();
}

void Process::Reap() {
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

int Process::Wait(std::chrono::milliseconds timeout) {
  if (!running()) return 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

int FreePort() {
  // Binding port 0 lets the kernel choose; ports it hands out cycle slowly enough that a
  // test starting its server right after rarely collides with another process. Within this
  // process the kernel may hand out the same port twice, so those are remembered and skipped.
  static std::mutex mu;
  static std::set<int> given;
  std::lock_guard lock(mu);
  for (;;) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    const int port = ntohs(addr.sin_port);
    if (given.insert(port).second) return port;
  }
}

bool WaitForPort(int port, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (int fd = ConnectLoopback(port, std::chrono::seconds(1)); fd >= 0) {
      ::close(fd);
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int ConnectLoopback(int port, std::chrono::seconds timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval limit{.tv_sec = static_cast<time_t>(timeout.count()), .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string TempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  char* dir = ::mkdtemp(buf.data());
  return dir ? std::string(dir) : std::string();
}

void RemoveTree(const std::string& path) {
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

void RemoveTestDir(const std::string& path) {
  if (std::getenv("PENNCLOUD_KEEP_TEST_DIRS") == nullptr) RemoveTree(path);
}

std::string BinaryPath(const std::string& name) {
  return std::string(PENNCLOUD_BIN_DIR) + "/" + name;
}

std::string SourcePath(const std::string& relative) {
  return std::string(PENNCLOUD_SOURCE_DIR) + "/" + relative;
}

}  // namespace penncloud::testing
