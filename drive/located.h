// Where a path points: its parent folder's row and name, and the entry there if any.
// Internal to storage/.
#pragma once

#include <optional>
#include <string>

#include "drive/drive.h"
#include "proto/drive.pb.h"

namespace penncloud::drive {

struct Drive::Located {
  bool is_root = false;
  std::string parent_id;
  std::string name;
  std::optional<std::string> raw;  // the cell's bytes, for compare-and-put
  pb::Entry entry;                 // parsed `raw` (or a synthetic folder for the root)
};

}  // namespace penncloud::drive
