// The node's name, from the one --node_name flag every long-running binary has: it is the
// node= field of every log line and the name the node reports in heartbeats, so the lines
// of one process can be found among those of the whole cluster and matched to its row in
// the admin console.
#pragma once

#include <string>
#include <string_view>

namespace penncloud {

// --node_name if it is set, else `derived` (each binary derives one from its identity,
// e.g. kvs-g1-2 or frontend-8001); made the node of every log line from now on. Call once
// from main, after the flags are parsed and before other threads start.
std::string InitNodeName(std::string_view derived);

}  // namespace penncloud
