// Starting and breaking real PennCloud processes in tests: every whole-system test runs the
// real binaries on free loopback ports, then kills, pauses and restarts them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace penncloud::testing {

// A child process whose stdout and stderr go to a log file. The destructor SIGKILLs it if it
// is still running, so a failing test never leaves processes behind.
class Process {
 public:
  static absl::StatusOr<Process> Start(const std::string& binary,
                                       const std::vector<std::string>& args,
                                       const std::string& log_path);

  Process() = default;
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  void Kill() { Signal(9); }  // a crash: no chance to flush or clean up
  // SIGSTOP: the process freezes, its sockets stay open. Returns once it has stopped.
  void Stop();
  void Continue() { Signal(18); }   // SIGCONT
  void Terminate() { Signal(15); }  // SIGTERM: asks for a clean shutdown

  // Waits for the process to exit and returns its exit status (as from waitpid), or -1 on
  // timeout (the process is then left running).
  int Wait(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  void Signal(int sig);
  void Reap();

  pid_t pid_ = -1;
};

// A loopback TCP port nobody listens on right now.
int FreePort();

// True once something accepts connections on 127.0.0.1:port, false after the timeout.
bool WaitForPort(int port, std::chrono::milliseconds timeout = std::chrono::seconds(20));

// A TCP socket connected to 127.0.0.1:port, for tests that speak a protocol byte by byte;
// each of its reads and writes gives up after `timeout`, so a server that goes quiet fails
// the test instead of hanging it. -1 if nothing accepts on the port.
int ConnectLoopback(int port, std::chrono::seconds timeout);

// A fresh directory under $TMPDIR, removed by RemoveTree or RemoveTestDir.
std::string TempDir(const std::string& prefix = "penncloud-test");
void RemoveTree(const std::string& path);
// Removes a test's directory unless $PENNCLOUD_KEEP_TEST_DIRS asks to keep logs and stores
// for a post-mortem. A full ctest run starts about a thousand test processes, so a
// directory left behind by each would pile up by the thousand in /tmp.
void RemoveTestDir(const std::string& path);

// Absolute path of a PennCloud binary built alongside the test (build/<dir>/bin/name).
std::string BinaryPath(const std::string& name);

// Absolute path of a file in the source checkout (for web/ assets, scripts, fixtures).
std::string SourcePath(const std::string& relative);

}  // namespace penncloud::testing
