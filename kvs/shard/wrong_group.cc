#include "kvs/shard/wrong_group.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace penncloud::kvs::shard {

absl::Status WrongGroupError(uint64_t map_version, std::string_view detail) {
  if (detail.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(kWrongGroupPrefix, map_version));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      kWrongGroupPrefix, map_version, "; ", absl::string_view(detail.data(), detail.size())));
}

std::optional<uint64_t> ParseWrongGroup(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kFailedPrecondition) return std::nullopt;
  absl::string_view message = status.message();
  if (!absl::StartsWith(message, kWrongGroupPrefix)) return std::nullopt;
  message.remove_prefix(sizeof(kWrongGroupPrefix) - 1);
  const size_t end = message.find(';');
  uint64_t version = 0;
  if (!absl::SimpleAtoi(message.substr(0, end), &version)) return std::nullopt;
  return version;
}

}  // namespace penncloud::kvs::shard
