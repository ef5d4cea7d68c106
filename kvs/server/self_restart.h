// Some failures are cured by starting afresh from what the disk holds: a full disk (the new
// start waits for space, then catches up) and damage found while serving (the new start
// rebuilds the store from the peers). Nobody may be there to do that start
// (scripts/start.sh supervises nothing), so the replica does it itself: it replaces its
// process with a new image of its own binary, with the same arguments and the same pid.
#pragma once

#include <chrono>

namespace penncloud::kvs::server {

// Remembers the command line a restart runs again. Call once, first thing in main.
void RememberCommandLine(int argc, char** argv);

// Replaces the process with a fresh start of the remembered command; `why` is logged.
// Returns only when it must not or cannot: nothing remembered, the process itself began
// with such a restart less than a minute ago (the fault outlived a fresh start, so another
// would only loop), or exec failed. The caller then aborts.
void RestartFromDisk(const char* why);

// In an image that RestartFromDisk started: sleeps until `grace` has passed since the old
// image ended. Elsewhere returns at once.
void WaitOutRestartGrace(std::chrono::milliseconds grace);

}  // namespace penncloud::kvs::server
