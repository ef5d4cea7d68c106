// A random non-zero number: names a command without a client session (an OP_SET_MAP, a
// migration step, a sweep) among the pending writes, and a snapshot download's folder.
#pragma once

#include <cstdint>

namespace penncloud::kvs::server {

uint64_t Nonce();

}  // namespace penncloud::kvs::server
