#include "common/node_name.h"

#include "absl/flags/flag.h"
#include "common/log.h"

ABSL_FLAG(std::string, node_name, "",
          "this node's name in log lines (node=...) and heartbeats; default derived from the "
          "binary's identity: kvs-g<group>-<id> (kvs-<id> outside a data group), coordinator, "
          "frontend-<port>, smtp, pop3");

namespace penncloud {

std::string InitNodeName(std::string_view derived) {
  std::string name = absl::GetFlag(FLAGS_node_name);
  if (name.empty()) name = std::string(derived);
  log::SetNode(name);
  return name;
}

}  // namespace penncloud
