#include "tests/support/process.h"

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace penncloud::testing {
namespace {

TEST(ProcessTest, CapturesOutputAndExitStatus) {
  std::string dir = TempDir();
  auto p = Process::Start("/bin/sh", {"-c", "echo hello; exit 3"}, dir + "/log");
  ASSERT_TRUE(p.ok()) << p.status();
  int status = p->Wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
  std::ifstream log(dir + "/log");
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_EQ(text.str(), "hello\n");
  RemoveTree(dir);
}

TEST(ProcessTest, KillEndsARunningProcess) {
  std::string dir = TempDir();
  auto p = Process::Start("/bin/sleep", {"60"}, dir + "/log");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->Wait(std::chrono::milliseconds(100)), -1);  // still running
  p->Kill();
  EXPECT_FALSE(p->running());
  RemoveTree(dir);
}

// A server that listens on `port` and never says a word.
absl::StatusOr<Process> StartSilentListener(int port, const std::string& dir) {
  return Process::Start("/usr/bin/python3",
                        {"-c", "import socket,time;s=socket.socket();s.bind(('127.0.0.1'," +
                                   std::to_string(port) + "));s.listen();time.sleep(30)"},
                        dir + "/log");
}

TEST(ProcessTest, WaitForPortSeesAListener) {
  int port = FreePort();
  EXPECT_FALSE(WaitForPort(port, std::chrono::milliseconds(100)));
  std::string dir = TempDir();
  auto p = StartSilentListener(port, dir);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(WaitForPort(port));
  RemoveTree(dir);
}

TEST(ProcessTest, AReadFromASilentServerGivesUpAtTheTimeout) {
  int port = FreePort();
  EXPECT_EQ(ConnectLoopback(port, std::chrono::seconds(1)), -1);  // nothing listens yet
  std::string dir = TempDir();
  auto p = StartSilentListener(port, dir);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(WaitForPort(port));
  int fd = ConnectLoopback(port, std::chrono::seconds(1));
  ASSERT_GE(fd, 0);
  const auto started = std::chrono::steady_clock::now();
  char byte;
  EXPECT_EQ(recv(fd, &byte, 1, 0), -1);
  EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << errno;
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(900));
  close(fd);
  RemoveTree(dir);
}

}  // namespace
}  // namespace penncloud::testing
