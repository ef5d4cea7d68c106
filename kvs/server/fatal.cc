#include "kvs/server/fatal.h"

#include <cstdlib>

#include "common/log.h"
#include "kvs/server/self_restart.h"

namespace penncloud::kvs::server {

void Fatal(const char* event, const absl::Status& status) {
  PC_LOG(kError, event)("error", status.ToString());
  // A full disk is cured by space, which a fresh start waits for; a failed fsync or a
  // broken rule is not, and needs a person.
  if (absl::IsResourceExhausted(status)) RestartFromDisk(event);
  std::abort();
}

}  // namespace penncloud::kvs::server
