// `thumbnailer --zygote`: a long-lived process that loads libvips once and then only forks,
// one fresh child per image, so that each image pays for a fork (a copy of a process that
// has never seen an image) instead of starting a process that opens 144 shared libraries.
//
// The zygote itself never reads an image: the frontend hands it the child's three
// descriptors (drive/thumbnailer_protocol.h, ZygoteRequest) and it passes them on unread.
// Children are made with CLONE_PARENT, so they are the frontend's children: the frontend
// waits for them, kills them and reads how they ended exactly as for a spawned thumbnailer,
// and a zygote that dies leaves no child without a parent that waits for it.
#pragma once

#include "drive/thumbnailer_protocol.h"

namespace penncloud::drive {

// What a child runs, with the image on descriptor 0, the thumbnail going to 1 and a reason
// to 2, nothing else open. Returns the exit code (ThumbnailerExit). It must confine itself
// before reading (ConfineThumbnailer).
using ZygoteChildMain = int (*)(int side, const ThumbnailerLimits& limits);

// The number of threads this process runs, or -1 if /proc cannot say.
int CountThreads();

// Serves the frontend on `control_fd` until it closes its end; returns the exit code.
// Forking is safe only in a single-threaded process (a thread holding a lock at the fork
// leaves it locked in the child forever), so the thread count is checked when the zygote
// starts and before every fork; if it is not 1, the zygote says so (kZygoteThreaded) and
// exits, and the frontend spawns a thumbnailer per image instead.
int RunThumbnailerZygote(int control_fd, const ThumbnailerLimits& limits,
                         ZygoteChildMain child_main);

}  // namespace penncloud::drive
