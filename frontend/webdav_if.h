// The WebDAV If header (RFC 4918 section 10.4): lists of conditions on lock tokens and
// entity tags, optionally tagged with the resource they are about.
//   If: (<opaquelocktoken:a>) (Not <DAV:no-lock> ["etag"])
//   If: </dav/folder> (<opaquelocktoken:a>)
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace penncloud::frontend::dav {

inline constexpr size_t kMaxIfHeaderBytes = 8192;
inline constexpr size_t kMaxIfConditions = 64;

struct IfCondition {
  bool negated = false;
  bool is_etag = false;  // else a state token
  std::string value;     // the token, or the entity tag with its quotes
};

struct IfList {
  std::string tag;  // the tagged resource's URL as given, "" for the request's resource
  std::vector<IfCondition> conditions;
};

// kInvalidArgument for a header that does not follow the grammar or passes the limits.
absl::StatusOr<std::vector<IfList>> ParseIfHeader(std::string_view header);

// Every state token the header names outside a Not: the locks the client says it holds.
std::vector<std::string> SubmittedTokens(const std::vector<IfList>& lists);

}  // namespace penncloud::frontend::dav
