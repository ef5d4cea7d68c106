#include "common/version.h"

// PENNCLOUD_VERSION is set for this file alone by common/CMakeLists.txt, so a new commit
// recompiles one file.
#ifndef PENNCLOUD_VERSION
#define PENNCLOUD_VERSION "unknown"
#endif

namespace penncloud {

std::string_view Version() { return PENNCLOUD_VERSION; }

}  // namespace penncloud
