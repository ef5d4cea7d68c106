#include "coordinator/admin_data.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace penncloud::coordinator {
namespace {

// absl here has its own string_view type.
absl::string_view A(std::string_view v) { return absl::string_view(v.data(), v.size()); }

// Values are read this many at a time to learn column sizes: the store has no size-only
// listing, and a cell may hold up to kvs::kMaxValueBytes.
constexpr int kSizeBatch = 8;

bool IsPrintable(std::string_view bytes) {
  for (unsigned char c : bytes) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return IsValidUtf8(bytes);
}

nlohmann::json KeyOrNull(bool more, std::string_view last) {
  return more ? nlohmann::json(absl::Base64Escape(A(last))) : nlohmann::json(nullptr);
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
      unsigned char cc = s[i + k];
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
      return false;
    }
    i += n;
  }
  return true;
}

std::string_view Utf8Prefix(std::string_view bytes, size_t max) {
  if (bytes.size() <= max) return bytes;
  size_t end = max;
  // Step back over continuation bytes to the start of the cut sequence.
  while (end > 0 && (static_cast<unsigned char>(bytes[end]) >> 6) == 0x2) --end;
  return bytes.substr(0, end);
}

nlohmann::json NameJson(std::string_view bytes) {
  return {{"key", absl::Base64Escape(A(bytes))},
          {"text", IsPrintable(bytes) ? nlohmann::json(std::string(bytes)) : nullptr}};
}

absl::StatusOr<std::string> DecodeKey(std::string_view key) {
  std::string fixed = absl::StrReplaceAll(A(key), {{" ", "+"}});
  std::string out;
  if (!absl::Base64Unescape(fixed, &out) && !absl::WebSafeBase64Unescape(fixed, &out)) {
    return absl::InvalidArgumentError("key is not base64");
  }
  if (out.size() > kvs::kMaxKeyBytes) return absl::InvalidArgumentError("key too long");
  return out;
}

absl::StatusOr<int> ParseLimit(const std::string& text) {
  if (text.empty()) return kDefaultPage;
  int limit = 0;
  if (!absl::SimpleAtoi(text, &limit) || limit < 1 || limit > kMaxPage) {
    return absl::InvalidArgumentError(absl::StrCat("limit must be 1..", kMaxPage));
  }
  return limit;
}

absl::StatusOr<std::shared_ptr<kvs::GroupAdmin>> DataBrowser::ClientFor(const std::string& group) {
  std::vector<std::string> addresses = poller_->GroupAddresses(group);
  if (addresses.empty()) return absl::NotFoundError(absl::StrCat("no group ", group));
  std::lock_guard lock(mu_);
  auto& [known, client] = clients_[group];
  if (!client || known != addresses) {
    kvs::ReplicaGroupOptions options;
    options.deadline = std::chrono::milliseconds(5000);
    options.attempt_timeout = std::chrono::milliseconds(1000);
    client = std::make_shared<kvs::GroupAdmin>(addresses, options);
    known = addresses;
  }
  return client;
}

absl::StatusOr<nlohmann::json> DataBrowser::Rows(const std::string& group, const std::string& after,
                                                 int limit) {
  absl::StatusOr<std::shared_ptr<kvs::GroupAdmin>> client = ClientFor(group);
  if (!client.ok()) return client.status();
  absl::StatusOr<kvs::RowPage> page = (*client)->ListRows(after, limit);
  if (!page.ok()) return page.status();
  nlohmann::json rows = nlohmann::json::array();
  for (const std::string& row : page->rows) rows.push_back(NameJson(row));
  bool more = page->more && !page->rows.empty();
  return nlohmann::json{{"rows", std::move(rows)},
                        {"next", KeyOrNull(more, more ? page->rows.back() : "")}};
}

absl::StatusOr<nlohmann::json> DataBrowser::Columns(const std::string& group,
                                                    const std::string& row,
                                                    const std::string& after, int limit) {
  absl::StatusOr<std::shared_ptr<kvs::GroupAdmin>> client = ClientFor(group);
  if (!client.ok()) return client.status();
  nlohmann::json columns = nlohmann::json::array();
  std::string cursor = after;
  bool more = true;
  while (more && static_cast<int>(columns.size()) < limit) {
    kvs::ListOptions options;
    options.after = cursor;
    options.limit = std::min(kSizeBatch, limit - static_cast<int>(columns.size()));
    options.with_values = true;
    absl::StatusOr<kvs::ColumnPage> page = (*client)->ListColumns(row, options);
    if (!page.ok()) return page.status();
    for (const kvs::Cell& cell : page->cells) {
      nlohmann::json name = NameJson(cell.column);
      name["size"] = cell.value.size();
      columns.push_back(std::move(name));
      cursor = cell.column;
    }
    more = page->more && !page->cells.empty();
  }
  return nlohmann::json{{"columns", std::move(columns)}, {"next", KeyOrNull(more, cursor)}};
}

absl::StatusOr<nlohmann::json> DataBrowser::Cell(const std::string& group, const std::string& row,
                                                 const std::string& column) {
  absl::StatusOr<std::shared_ptr<kvs::GroupAdmin>> client = ClientFor(group);
  if (!client.ok()) return client.status();
  absl::StatusOr<std::string> value = (*client)->GetCell(row, column);
  if (!value.ok()) return value.status();
  const bool utf8 = IsValidUtf8(*value);
  std::string_view text = Utf8Prefix(*value, kCellTextBytes);
  std::string_view hex_part = std::string_view(*value).substr(0, kCellHexBytes);
  return nlohmann::json{
      {"size", value->size()},
      {"text", utf8 ? nlohmann::json(std::string(text)) : nlohmann::json(nullptr)},
      {"hex", absl::BytesToHexString(A(hex_part))},
      {"truncated", value->size() > kCellHexBytes || (utf8 && text.size() < value->size())}};
}

}  // namespace penncloud::coordinator
