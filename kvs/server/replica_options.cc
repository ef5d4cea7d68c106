#include "kvs/server/replica_options.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace penncloud::kvs::server {

absl::StatusOr<std::map<uint64_t, std::string>> ParseMembers(const std::string& text) {
  std::map<uint64_t, std::string> members;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
    uint64_t id = 0;
    if (!absl::SimpleAtoi(kv.first, &id) || id == 0 || kv.second.find(':') == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad member '", part, "': want id=host:port with id >= 1"));
    }
    if (!members.emplace(id, kv.second).second) {
      return absl::InvalidArgumentError(absl::StrCat("member id ", id, " given twice"));
    }
  }
  if (members.empty()) return absl::InvalidArgumentError("no members given");
  return members;
}

}  // namespace penncloud::kvs::server
