// Stable node ids of the admin console: "coordinator", "frontend-8001", "smtp-2500",
// "pop3-11000", "kvs-config-2" (config group, replica 2), "kvs-g1-3" (group 1, replica 3).
// Group ids are "config" or the data group's number as text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace penncloud::coordinator {

inline constexpr char kConfigGroup[] = "config";

// "<kind>-<port>" for a heartbeat-registered node serving at host:port.
std::string ServiceNodeId(const std::string& kind, const std::string& address);
std::string KvsNodeId(const std::string& group, uint64_t replica);

struct KvsNodeName {
  std::string group;
  uint64_t replica = 0;
};
// The group and replica of a KVS node id; nullopt if `id` is not one.
std::optional<KvsNodeName> ParseKvsNodeId(const std::string& id);

// True for "config" and for a positive decimal group number without leading zeros.
bool IsGroupId(const std::string& group);

}  // namespace penncloud::coordinator
