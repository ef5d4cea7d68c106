#include "common/stop_signal.h"

#include <pthread.h>

#include <csignal>
#include <cstdlib>
#include <thread>

#include "common/log.h"

namespace penncloud {
namespace {

sigset_t StopSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void BlockStopSignals() {
  sigset_t set = StopSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

void OnStopSignal(std::function<void()> on_stop, std::chrono::milliseconds bound) {
  std::thread([on_stop = std::move(on_stop), bound] {
    sigset_t set = StopSet();
    int sig = 0;
    sigwait(&set, &sig);
    PC_LOG(kInfo, "process.draining")
    ("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT")("bound_ms", bound.count());
    std::thread([bound] {
      std::this_thread::sleep_for(bound);
      PC_LOG(kWarn, "process.drain_timeout")("bound_ms", bound.count());
      std::_Exit(0);
    }).detach();
    on_stop();
  }).detach();
}

}  // namespace penncloud
