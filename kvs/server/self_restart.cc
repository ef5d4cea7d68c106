#include "kvs/server/self_restart.h"

#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "common/log.h"

namespace penncloud::kvs::server {
namespace {

// Set in the environment of a restarted image: the wall-clock ms of its restart.
constexpr char kRestartedAtVariable[] = "PENNCLOUD_KVS_RESTARTED_AT_MS";
constexpr std::chrono::milliseconds kMinimumLife{60'000};

std::vector<std::string>& CommandLine() {
  static auto* command = new std::vector<std::string>();
  return *command;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// When RestartFromDisk started this image (wall-clock ms), or 0.
int64_t RestartedAtMs() {
  const char* at = std::getenv(kRestartedAtVariable);
  int64_t at_ms = 0;
  return at != nullptr && absl::SimpleAtoi(at, &at_ms) ? at_ms : 0;
}

}  // namespace

void RememberCommandLine(int argc, char** argv) { CommandLine().assign(argv, argv + argc); }

void RestartFromDisk(const char* why) {
  const std::vector<std::string>& command = CommandLine();
  if (command.empty()) return;
  if (NowMs() - RestartedAtMs() < kMinimumLife.count()) {
    PC_LOG(kError, "kvs.restart_refused")("why", why)("within_ms", kMinimumLife.count());
    return;
  }
  PC_LOG(kWarn, "kvs.restarting")("why", why);
  // The new image must find its ports and its store's lock free: every descriptor but the
  // standard three (the log) closes at exec, whether or not its opener asked for that
  // (Boost.Asio's sockets do not).
  if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) != 0) {
    PC_LOG(kError, "kvs.restart_failed")("why", why)("error", std::strerror(errno));
    return;
  }
  setenv(kRestartedAtVariable, std::to_string(NowMs()).c_str(), /*overwrite=*/1);
  std::vector<char*> argv;
  for (const std::string& arg : command) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  execv("/proc/self/exe", argv.data());
  PC_LOG(kError, "kvs.restart_failed")("why", why)("error", std::strerror(errno));
}

void WaitOutRestartGrace(std::chrono::milliseconds grace) {
  const int64_t wait_ms = RestartedAtMs() + grace.count() - NowMs();
  if (RestartedAtMs() > 0 && wait_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
  }
}

}  // namespace penncloud::kvs::server
