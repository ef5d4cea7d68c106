// Where drive shares are kept (proto/drive_share.proto) and how a record is read and
// written: shared by share.cc and share_handover.cc. Internal to drive/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "drive/share.h"
#include "kvs/client/client.h"
#include "proto/drive_share.pb.h"

namespace penncloud::drive::share_records {

inline constexpr std::string_view kLinkColumn = "s";

std::string SharesRow(std::string_view owner);
std::string CountsRow(std::string_view owner);
std::string IncomingRow(std::string_view user);
std::string IncomingColumn(std::string_view owner, std::string_view id);
// Keyed by the token's SHA-256, so the store's row listings (the admin console shows them)
// never show a working token.
std::string LinkRow(std::string_view token);

// Every cell of `row` with its value, up to kMaxSharesPerOwner.
absl::StatusOr<std::vector<kvs::Cell>> ListRow(kvs::Client* kvs, const std::string& row);

absl::StatusOr<pb::Share> Parse(std::string_view raw);
std::string Serialize(const pb::Share& share);
// The record as the module hands it out (the recipient's name filled in for old records).
Share FromProto(const pb::Share& record);

}  // namespace penncloud::drive::share_records
