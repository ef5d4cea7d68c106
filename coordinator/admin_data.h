// The admin console's raw data view: a group's rows, a row's columns, one cell, a page at
// a time, read straight from that group's replicas (not through the sharded client, so the
// view shows exactly what the group holds). Nothing ever loads a whole group or row: rows
// and columns are paged by the store, and column sizes are read a few values at a time.
//
// Names are bytes; in JSON each is {"key": base64, "text": the bytes if printable UTF-8,
// else null}. Requests name them by the base64 key.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/cluster_poller.h"
#include "kvs/client/group_admin.h"
#include "nlohmann/json.hpp"

namespace penncloud::coordinator {

inline constexpr int kDefaultPage = 50;
inline constexpr int kMaxPage = 200;
inline constexpr size_t kCellTextBytes = 64 << 10;
inline constexpr size_t kCellHexBytes = 4096;

// {"key": base64(bytes), "text": bytes if printable UTF-8 else null}
nlohmann::json NameJson(std::string_view bytes);
// The bytes of a base64 key from a query string (a '+' turned into ' ' is forgiven);
// kInvalidArgument if it is not base64.
absl::StatusOr<std::string> DecodeKey(std::string_view key);
// "limit" from a query string: default kDefaultPage, 1..kMaxPage, else kInvalidArgument.
absl::StatusOr<int> ParseLimit(const std::string& text);
bool IsValidUtf8(std::string_view bytes);
// The longest prefix of at most `max` bytes that does not cut a UTF-8 sequence.
std::string_view Utf8Prefix(std::string_view bytes, size_t max);

class DataBrowser {
 public:
  explicit DataBrowser(ClusterPoller* poller) : poller_(poller) {}

  // {"rows": [...], "next": key|null}
  absl::StatusOr<nlohmann::json> Rows(const std::string& group, const std::string& after,
                                      int limit);
  // {"columns": [{"key","text","size"}], "next": key|null}
  absl::StatusOr<nlohmann::json> Columns(const std::string& group, const std::string& row,
                                         const std::string& after, int limit);
  // {"size","text","hex","truncated"}; kNotFound if the cell is absent.
  absl::StatusOr<nlohmann::json> Cell(const std::string& group, const std::string& row,
                                      const std::string& column);

 private:
  // A client of the group's replicas; kNotFound for an unknown group.
  absl::StatusOr<std::shared_ptr<kvs::GroupAdmin>> ClientFor(const std::string& group);

  ClusterPoller* const poller_;
  std::mutex mu_;
  // By group id, with the addresses it was made for (remade when they change).
  std::map<std::string, std::pair<std::vector<std::string>, std::shared_ptr<kvs::GroupAdmin>>>
      clients_;  // GUARDED_BY(mu_)
};

}  // namespace penncloud::coordinator
