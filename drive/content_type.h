// A file's media type: guessed from its name for uploads that do not say (WebDAV clients,
// curl), and checked when a client does say, since the type is stored with the file and
// sent back as the download's Content-Type and in PROPFIND answers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace penncloud::drive {

// The longest Content-Type stored with a file.
inline constexpr size_t kMaxContentTypeBytes = 256;

// "application/octet-stream" when the extension is not known.
std::string GuessContentType(std::string_view name);

// A client's Content-Type as stored: RFC 9110's media-type (type "/" subtype, then
// "; name=value" parameters whose values are tokens or quoted strings), printable ASCII
// only, at most kMaxContentTypeBytes. Type, subtype and parameter names are lowercased and
// the spaces around ';' and '=' dropped ("Text/Plain ;Charset=UTF-8" becomes
// "text/plain; charset=UTF-8"). Anything else is kInvalidArgument, naming what is wrong.
absl::StatusOr<std::string> NormalizeContentType(std::string_view given);

}  // namespace penncloud::drive
