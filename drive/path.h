// Drive paths: "/" is the user's root, "/a/b.txt" a file in folder "a". Every path from a
// client passes through SplitPath, which is where traversal attempts and bad names stop.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace penncloud::drive {

inline constexpr size_t kMaxNameBytes = 255;
inline constexpr size_t kMaxPathBytes = 4096;
inline constexpr size_t kMaxDepth = 64;

// OK if `name` may be one component of a path: 1..255 bytes of valid UTF-8, not "." or
// "..", no '/', no control characters, no format characters (bidi overrides, zero-width
// characters: Unicode category Cf) and no line or paragraph separators. Otherwise
// kInvalidArgument saying which rule broke (and naming the code point).
absl::Status ValidateName(std::string_view name);

// Splits an absolute path into validated components. Repeated and trailing slashes are
// ignored ("/a//b/" is {"a","b"}); "/" and "" give no components. "." and ".." are
// rejected rather than resolved, so no path can climb out of the user's tree.
absl::StatusOr<std::vector<std::string>> SplitPath(std::string_view path);

// "/" + components joined by "/".
std::string JoinPath(const std::vector<std::string>& components);

// OK if `text` is well-formed UTF-8; otherwise kInvalidArgument.
absl::Status ValidateUtf8(std::string_view text);

// User names become part of row keys: they must not contain '/' or control characters.
absl::Status ValidateUser(std::string_view user);

}  // namespace penncloud::drive
