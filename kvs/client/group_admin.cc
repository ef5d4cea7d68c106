#include "kvs/client/group_admin.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace penncloud::kvs {
namespace {

// "round.node" as StatusResponse.ballot prints it, comparable as a pair.
std::pair<uint64_t, uint64_t> BallotOf(const std::string& text) {
  std::pair<std::string, std::string> parts = absl::StrSplit(text, absl::MaxSplits('.', 1));
  std::pair<uint64_t, uint64_t> ballot{0, 0};
  if (!absl::SimpleAtoi(parts.first, &ballot.first) ||
      !absl::SimpleAtoi(parts.second, &ballot.second)) {
    return {0, 0};
  }
  return ballot;
}

}  // namespace

GroupAdmin::GroupAdmin(std::vector<std::string> addresses, ReplicaGroupOptions options)
    : client_(std::move(addresses), options) {}

absl::StatusOr<RowPage> GroupAdmin::ListRows(std::string_view after, int limit) {
  pb::ListRowsRequest request;
  request.set_after(std::string(after));
  request.set_limit(limit);
  absl::StatusOr<pb::ListRowsResponse> response = client_.ListRows(request);
  if (!response.ok()) return response.status();
  RowPage page;
  page.more = response->more();
  page.rows.reserve(response->rows_size());
  for (std::string& row : *response->mutable_rows()) page.rows.push_back(std::move(row));
  return page;
}

absl::StatusOr<ColumnPage> GroupAdmin::ListColumns(std::string_view row,
                                                   const ListOptions& options) {
  return client_.List(row, options);
}

absl::StatusOr<std::string> GroupAdmin::GetCell(std::string_view row, std::string_view column) {
  return client_.Get(row, column);
}

std::vector<std::pair<std::string, absl::StatusOr<pb::StatusResponse>>> GroupAdmin::StatusAll() {
  return client_.StatusAll();
}

absl::StatusOr<pb::StatusResponse> GroupAdmin::LeaderStatus() {
  std::optional<pb::StatusResponse> best;
  std::string errors;
  for (auto& [address, status] : StatusAll()) {
    if (!status.ok()) {
      absl::StrAppend(&errors, errors.empty() ? "" : "; ", address, ": ",
                      status.status().message());
      continue;
    }
    if (status->role() != "leader") continue;
    // A deposed leader that has not heard of its successor yet has the lower ballot.
    if (!best || BallotOf(status->ballot()) > BallotOf(best->ballot())) best = *status;
  }
  if (!best) {
    return absl::UnavailableError(
        absl::StrCat("kvs: no reachable replica of [", absl::StrJoin(client_.addresses(), ","),
                     "] is leader", errors.empty() ? "" : " (", errors, errors.empty() ? "" : ")"));
  }
  return *best;
}

}  // namespace penncloud::kvs
