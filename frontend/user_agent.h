// A short, human name for the device behind a User-Agent header ("Firefox on Linux"), for
// the sessions list. A best guess from well-known tokens; never trusted for anything else.
#pragma once

#include <string>
#include <string_view>

namespace penncloud::frontend {

std::string DeviceName(std::string_view user_agent);

}  // namespace penncloud::frontend
