// Graceful shutdown on SIGTERM / SIGINT without work in a signal handler: the signals are
// blocked in every thread and one thread waits for them with sigwait, then runs the
// binary's drain sequence as ordinary code (locks, joins and logging all allowed).
#pragma once

#include <chrono>
#include <functional>

namespace penncloud {

// Call first in main, before any thread starts (threads inherit the mask). Also ignores
// SIGPIPE, so a peer that hangs up shows as a write error.
void BlockStopSignals();

// Starts a detached thread that waits for SIGTERM or SIGINT and then runs `on_stop` once.
// If the process is still alive `bound` after the signal, it exits (code 0) anyway: a
// drain must never hang a stop.
void OnStopSignal(std::function<void()> on_stop,
                  std::chrono::milliseconds bound = std::chrono::seconds(20));

}  // namespace penncloud
