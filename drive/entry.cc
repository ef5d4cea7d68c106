#include "drive/entry.h"

#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "drive/keys.h"

namespace penncloud::drive {

absl::StatusOr<pb::Entry> ParseEntry(std::string_view raw) {
  pb::Entry entry;
  if (!entry.ParseFromArray(raw.data(), static_cast<int>(raw.size())) ||
      entry.kind() == pb::Entry::KIND_UNSPECIFIED) {
    return absl::DataLossError("corrupt drive entry");
  }
  return entry;
}

std::string SerializeEntry(const pb::Entry& entry) {
  std::string out;
  entry.SerializeToString(&out);
  return out;
}

EntryInfo ToInfo(std::string_view name, const pb::Entry& entry) {
  EntryInfo info;
  info.name = std::string(name);
  info.folder = IsFolder(entry);
  info.size = info.folder ? 0 : entry.size();
  info.created_ms = entry.created_ms();
  info.modified_ms = entry.modified_ms();
  info.content_type = entry.content_type();
  info.etag = info.folder ? entry.folder_id() : entry.version();
  info.id = ItemId(entry);
  info.dead_props.insert(entry.dead_props().begin(), entry.dead_props().end());
  return info;
}

namespace keys {
std::string RandomId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // no entropy: nothing is safe
  return absl::BytesToHexString(std::string(reinterpret_cast<const char*>(bytes), sizeof bytes));
}
}  // namespace keys

}  // namespace penncloud::drive
