// A user's sender profile: the display name on the From line of what webmail sends, and a
// signature the compose page puts under new messages. Row "mailprofile/<user>", column
// "p", JSON {"display_name","signature"}; GET/PUT /api/account/profile edit it.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"
#include "nlohmann/json.hpp"

namespace penncloud::frontend {

inline constexpr size_t kMaxDisplayNameBytes = 100;
inline constexpr size_t kMaxSignatureBytes = 4 << 10;

struct MailProfile {
  std::string display_name;
  std::string signature;
};

// An absent profile is the empty one.
absl::StatusOr<MailProfile> LoadMailProfile(kvs::Client& store, const std::string& user);
// kInvalidArgument if a field is over its limit, not UTF-8, or has control characters
// (the signature may have line breaks and tabs).
absl::Status SaveMailProfile(kvs::Client& store, const std::string& user,
                             const MailProfile& profile);
absl::StatusOr<MailProfile> ProfileFromJson(const nlohmann::json& body);
nlohmann::json ProfileJson(const MailProfile& profile);

}  // namespace penncloud::frontend
