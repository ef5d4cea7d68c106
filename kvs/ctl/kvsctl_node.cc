#include "kvs/ctl/kvsctl_node.h"

#include <chrono>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "kvs/shard/node_membership.h"

namespace penncloud::kvs::kvsctl {
namespace {

int Usage(const std::string& why) {
  std::cerr << "kvsctl: " << why << " (see kvsctl --help)\n";
  return 2;
}

bool ParseId(const std::string& text, uint64_t* id) {
  return absl::SimpleAtoi(text, id) && *id > 0;
}

}  // namespace

int RunNodeCommand(const std::vector<std::string>& args, const NodeFlags& flags) {
  if (args.size() < 2) return Usage("node takes add, remove or replace");
  const std::string& verb = args[1];
  // With --config the first argument names the group; an unsharded group is --group.
  const bool sharded = !flags.config.empty();
  if (!sharded && flags.group.empty()) {
    return Usage("node needs --config=host:port,... (and a group id) or --group=host:port,...");
  }
  std::vector<std::string> rest(args.begin() + 2, args.end());
  shard::GroupTarget target;
  if (sharded) {
    if (rest.empty() || !ParseId(rest[0], &target.group)) {
      return Usage("with --config, node " + verb + " takes the group id first");
    }
    target.config = flags.config;
    rest.erase(rest.begin());
  } else {
    for (absl::string_view a : absl::StrSplit(flags.group, ',', absl::SkipWhitespace())) {
      target.addresses.emplace_back(a);
    }
  }
  shard::NodeChangeOptions options;
  options.timeout = std::chrono::milliseconds(flags.timeout_ms);
  options.progress = [](std::string_view line) { std::cerr << "kvsctl: " << line << "\n"; };
  auto finish = [](const absl::Status& s) {
    if (s.ok()) return 0;
    std::cerr << "kvsctl: " << s << "\n";
    return 1;
  };
  shard::NewReplica replica;
  replica.peer_address = flags.peer_address;
  if (verb == "add") {
    if (rest.size() != 2 || !ParseId(rest[0], &replica.id)) {
      return Usage("node add takes [GROUP] ID ADDRESS [--peer_address=host:port]");
    }
    replica.address = rest[1];
    return finish(shard::AddReplica(target, replica, options));
  }
  if (verb == "remove") {
    uint64_t id = 0;
    if (rest.size() != 1 || !ParseId(rest[0], &id)) return Usage("node remove takes [GROUP] ID");
    return finish(shard::RemoveReplica(target, id, options));
  }
  if (verb == "replace") {
    uint64_t old_id = 0;
    if (rest.size() != 3 || !ParseId(rest[0], &old_id) || !ParseId(rest[1], &replica.id)) {
      return Usage("node replace takes [GROUP] OLD_ID NEW_ID ADDRESS [--peer_address=host:port]");
    }
    replica.address = rest[2];
    return finish(shard::ReplaceReplica(target, old_id, replica, options));
  }
  return Usage("unknown node command '" + verb + "' (add, remove or replace)");
}

}  // namespace penncloud::kvs::kvsctl
