#include "coordinator/node_id.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace penncloud::coordinator {
namespace {

// A positive decimal number written without leading zeros (so every id has one spelling).
std::optional<uint64_t> CanonicalNumber(const std::string& text) {
  uint64_t n = 0;
  if (text.empty() || text.size() > 19 || !absl::SimpleAtoi(text, &n) || n == 0 ||
      absl::StrCat(n) != text) {
    return std::nullopt;
  }
  return n;
}

}  // namespace

std::string ServiceNodeId(const std::string& kind, const std::string& address) {
  size_t colon = address.rfind(':');
  return absl::StrCat(kind, "-", colon == std::string::npos ? address : address.substr(colon + 1));
}

std::string KvsNodeId(const std::string& group, uint64_t replica) {
  if (group == kConfigGroup) return absl::StrCat("kvs-config-", replica);
  return absl::StrCat("kvs-g", group, "-", replica);
}

bool IsGroupId(const std::string& group) {
  return group == kConfigGroup || CanonicalNumber(group).has_value();
}

std::optional<KvsNodeName> ParseKvsNodeId(const std::string& id) {
  std::string group;
  std::string rest;
  if (id.starts_with("kvs-config-")) {
    group = kConfigGroup;
    rest = id.substr(11);
  } else if (id.starts_with("kvs-g")) {
    size_t dash = id.find('-', 5);
    if (dash == std::string::npos) return std::nullopt;
    group = id.substr(5, dash - 5);
    if (!CanonicalNumber(group)) return std::nullopt;
    rest = id.substr(dash + 1);
  } else {
    return std::nullopt;
  }
  std::optional<uint64_t> replica = CanonicalNumber(rest);
  if (!replica) return std::nullopt;
  return KvsNodeName{group, *replica};
}

}  // namespace penncloud::coordinator
