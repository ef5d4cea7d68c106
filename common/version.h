// The build's version: `git describe --always --dirty` of the checkout when CMake was
// configured ("unknown" outside a git checkout). Shown by the admin console for every node.
#pragma once

#include <string_view>

namespace penncloud {

std::string_view Version();

}  // namespace penncloud
