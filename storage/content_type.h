// A file's media type from its name, for uploads that do not say (WebDAV clients, curl).
#pragma once

#include <string>
#include <string_view>

namespace penncloud::storage {

// "application/octet-stream" when the extension is not known.
std::string GuessContentType(std::string_view name);

}  // namespace penncloud::storage
