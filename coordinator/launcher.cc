#include "coordinator/launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace penncloud::coordinator {

std::vector<LaunchRecord> Launcher::Records() const {
  if (!enabled()) return {};
  return ReadLaunchRecords(run_dir_);
}

std::optional<LaunchRecord> Launcher::Find(const std::string& tier,
                                           const std::string& address) const {
  for (LaunchRecord& r : Records()) {
    if (r.tier == tier && r.address == address) return std::move(r);
  }
  return std::nullopt;
}

bool Launcher::IsRunning(const LaunchRecord& record) {
  if (record.pid <= 0) return false;
  // A zombie (killed, not yet reaped by its parent) has an empty cmdline: not running.
  std::ifstream in(absl::StrCat("/proc/", record.pid, "/cmdline"), std::ios::binary);
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  std::string expected;
  for (const std::string& arg : record.argv) {
    expected += arg;
    expected.push_back('\0');
  }
  return !expected.empty() && text.str() == expected;
}

absl::Status Launcher::Stop(const LaunchRecord& record) {
  std::lock_guard lock(mu_);
  if (!IsRunning(record)) {
    return absl::FailedPreconditionError(absl::StrCat(record.name, " is not running"));
  }
  if (::kill(record.pid, SIGKILL) != 0) {
    return absl::InternalError(absl::StrCat("kill ", record.pid, " failed"));
  }
  PC_LOG(kWarn, "coordinator.node_killed")("name", record.name)("pid", record.pid);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (IsRunning(record) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return absl::OkStatus();
}

absl::StatusOr<LaunchRecord> Launcher::Start(LaunchRecord record) {
  std::lock_guard lock(mu_);
  if (IsRunning(record)) {
    return absl::FailedPreconditionError(absl::StrCat(record.name, " is already running"));
  }
  absl::StatusOr<pid_t> pid = SpawnDetached(record.argv, record.cwd, record.log);
  if (!pid.ok()) return pid.status();
  record.pid = *pid;
  PC_LOG(kInfo, "coordinator.node_started")("name", record.name)("pid", record.pid);
  if (absl::Status s = WriteLaunchRecord(run_dir_, record); !s.ok()) return s;
  return record;
}

absl::StatusOr<pid_t> SpawnDetached(const std::vector<std::string>& argv, const std::string& cwd,
                                    const std::string& log) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  // Everything the children need is prepared here: after fork in a threaded process only
  // async-signal-safe calls are allowed.
  std::vector<std::string> args = argv;
  std::vector<char*> c_argv;
  for (std::string& a : args) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return absl::InternalError(absl::StrCat("cannot open log ", log));
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    ::close(log_fd);
    ::close(null_fd);
    return absl::InternalError("pipe failed");
  }
  // Closed by a successful exec: until then /proc/<pid>/cmdline is still ours, and a
  // second start could not tell that the first one is running.
  int exec_fds[2];
  if (::pipe2(exec_fds, O_CLOEXEC) != 0) {
    ::close(log_fd);
    ::close(null_fd);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return absl::InternalError("pipe failed");
  }

  // Double fork: the middle child starts a session and exits at once, so the process runs
  // under init, not as the coordinator's child (no zombie to reap, survives a restart).
  pid_t middle = ::fork();
  if (middle == 0) {
    ::setsid();
    pid_t grandchild = ::fork();
    if (grandchild == 0) {
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::signal(SIGPIPE, SIG_DFL);
      if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) _exit(126);
      ::dup2(null_fd, STDIN_FILENO);
      ::dup2(log_fd, STDOUT_FILENO);
      ::dup2(log_fd, STDERR_FILENO);
      ::dup2(exec_fds[1], 3);
      ::fcntl(3, F_SETFD, FD_CLOEXEC);
      // Listening sockets of the coordinator must not leak into the new process.
      ::syscall(SYS_close_range, 4U, ~0U, 0U);
      ::execv(c_argv[0], c_argv.data());
      int error = errno;
      ssize_t ignored = ::write(3, &error, sizeof error);
      (void)ignored;
      _exit(127);
    }
    ssize_t ignored = ::write(pipe_fds[1], &grandchild, sizeof grandchild);
    (void)ignored;
    _exit(0);
  }
  ::close(pipe_fds[1]);
  ::close(exec_fds[1]);
  ::close(log_fd);
  ::close(null_fd);
  if (middle < 0) {
    ::close(pipe_fds[0]);
    ::close(exec_fds[0]);
    return absl::InternalError("fork failed");
  }
  pid_t pid = -1;
  ssize_t n = ::read(pipe_fds[0], &pid, sizeof pid);
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(middle, &status, 0);
  // EOF once the exec happened (or the process is gone); an errno if exec failed.
  int exec_error = 0;
  ssize_t e = ::read(exec_fds[0], &exec_error, sizeof exec_error);
  ::close(exec_fds[0]);
  if (n != sizeof pid || pid <= 0) return absl::InternalError("could not start the process");
  if (e == sizeof exec_error) {
    return absl::InternalError(
        absl::StrCat("cannot run ", argv[0], ": ", std::strerror(exec_error)));
  }
  return pid;
}

}  // namespace penncloud::coordinator
