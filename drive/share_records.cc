#include "drive/share_records.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "drive/keys.h"
#include "drive/share.h"

namespace penncloud::drive::share_records {

std::string SharesRow(std::string_view owner) { return keys::UserRow(owner, "shares"); }
std::string CountsRow(std::string_view owner) { return keys::UserRow(owner, "share_counts"); }
std::string IncomingRow(std::string_view user) { return keys::UserRow(user, "incoming"); }
std::string IncomingColumn(std::string_view owner, std::string_view id) {
  return std::string(owner).append("/").append(id);
}

std::string LinkRow(std::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  return "share/link/" +
         absl::BytesToHexString(std::string(reinterpret_cast<char*>(digest), sizeof digest));
}

namespace {

std::string BaseName(const std::string& path) { return path.substr(path.rfind('/') + 1); }

}  // namespace

Share FromProto(const pb::Share& s) {
  Share out;
  out.id = s.id();
  out.kind = s.kind() == pb::Share::LINK ? ShareKind::kLink : ShareKind::kUser;
  out.owner = s.owner();
  out.path = s.path();
  out.permission = s.permission() == pb::Share::READ     ? SharePermission::kRead
                   : s.permission() == pb::Share::UPLOAD ? SharePermission::kUpload
                                                         : SharePermission::kWrite;
  out.token = s.token();
  out.password = !s.password_hash().empty();
  out.expires_ms = s.expires_ms();
  out.user = s.user();
  out.created_ms = s.created_ms();
  out.node_id = s.node_id();
  out.moving_to = s.moving_to();
  out.name = s.name().empty() ? BaseName(s.path()) : s.name();
  return out;
}

absl::StatusOr<pb::Share> Parse(std::string_view raw) {
  pb::Share share;
  if (!share.ParseFromArray(raw.data(), static_cast<int>(raw.size())) ||
      share.kind() == pb::Share::KIND_UNSPECIFIED ||
      share.permission() == pb::Share::PERMISSION_UNSPECIFIED) {
    return absl::DataLossError("corrupt share record");
  }
  return share;
}

std::string Serialize(const pb::Share& share) {
  std::string out;
  share.SerializeToString(&out);
  return out;
}

absl::StatusOr<std::vector<kvs::Cell>> ListRow(kvs::Client* kvs, const std::string& row) {
  std::vector<kvs::Cell> cells;
  kvs::ListOptions options{.after = "", .limit = 200, .with_values = true};
  while (cells.size() < kMaxSharesPerOwner) {
    auto page = kvs->List(row, options);
    if (!page.ok()) return page.status();
    for (auto& cell : page->cells) cells.push_back(std::move(cell));
    if (!page->more || page->cells.empty()) break;
    options.after = cells.back().column;
  }
  return cells;
}

}  // namespace penncloud::drive::share_records
