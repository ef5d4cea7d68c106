#include "kvs/server/fatal.h"

#include <cstdlib>

#include "common/log.h"

namespace penncloud::kvs::server {

void Fatal(const char* event, const absl::Status& status) {
  PC_LOG(kError, event)("error", status.ToString());
  std::abort();
}

}  // namespace penncloud::kvs::server
