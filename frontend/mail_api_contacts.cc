#include "frontend/mail_api_contacts.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "mail/text.h"

namespace penncloud::frontend {
namespace {

using nlohmann::json;

constexpr size_t kMaxEntries = 100;
constexpr size_t kMaxAddressBytes = 254;
constexpr double kHalfLifeDays = 30;

std::string Unquoted(std::string_view name) {
  name = mail::Trim(name);
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
  }
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '\\' && i + 1 < name.size()) ++i;
    out += name[i];
  }
  return out;
}

std::optional<NamedAddress> ParseEntry(std::string_view entry) {
  entry = mail::Trim(entry);
  NamedAddress out;
  size_t open = entry.rfind('<');
  if (open != std::string_view::npos && entry.ends_with('>')) {
    out.name = Unquoted(entry.substr(0, open));
    entry = entry.substr(open + 1, entry.size() - open - 2);
  }
  out.address = mail::ToLower(mail::Trim(entry));
  size_t at = out.address.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == out.address.size() ||
      out.address.size() > kMaxAddressBytes ||
      out.address.find_first_of(" \t<>\"") != std::string::npos) {
    return std::nullopt;
  }
  return out;
}

struct Score {
  NamedAddress who;
  double score = 0;
};

// Adds each address of `field` in the newest messages of `folder` with `weight`, decayed.
absl::Status Tally(MailServices& mail, const std::string& user, std::string_view folder,
                   bool recipients, double weight, std::map<std::string, Score>& scores) {
  auto page = mail.store.List(user, folder, "", kContactScan);
  if (!page.ok()) return page.status();
  const double now_days = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()) / 86400;
  for (const auto& m : page->messages) {
    double age_days = std::max(0.0, now_days - m.received_micros() / 86400e6);
    double add = weight * std::exp2(-age_days / kHalfLifeDays);
    for (NamedAddress& who : SplitAddressList(recipients ? m.to() : m.from())) {
      Score& s = scores[who.address];
      if (s.who.address.empty() || (s.who.name.empty() && !who.name.empty())) s.who = who;
      s.score += add;
    }
  }
  return absl::OkStatus();
}

Response Contacts(MailServices& mail, const ApiContext& ctx, Request& req,
                  const accounts::Session& s) {
  int limit = 8;
  if (!req.Query("limit").empty() &&
      (!absl::SimpleAtoi(req.Query("limit"), &limit) || limit < 1 || limit > 20)) {
    return ErrorResponse(400, "limit must be 1..20");
  }
  std::string q = mail::ToLower(mail::Trim(req.Query("q")));
  if (q.size() > kMaxAddressBytes) return ErrorResponse(400, "q is over 254 bytes");
  std::map<std::string, Score> scores;
  for (auto [folder, recipients, weight] :
       {std::tuple{mail::kSent, true, 2.0}, std::tuple{mail::kInbox, false, 1.0}}) {
    if (auto status = Tally(mail, s.username, folder, recipients, weight, scores); !status.ok()) {
      return FromStatus(status);
    }
  }
  scores.erase(s.username + "@" + ctx.mail_domain);
  std::vector<Score> hits;
  for (auto& [address, score] : scores) {
    if (address.find(q) != std::string::npos ||
        mail::ToLower(score.who.name).find(q) != std::string::npos) {
      hits.push_back(std::move(score));
    }
  }
  std::sort(hits.begin(), hits.end(), [](const Score& a, const Score& b) {
    return a.score != b.score ? a.score > b.score : a.who.address < b.who.address;
  });
  json out = json::array();
  for (size_t i = 0; i < hits.size() && i < static_cast<size_t>(limit); ++i) {
    out.push_back({{"address", hits[i].who.address}, {"name", hits[i].who.name}});
  }
  return MailJson(200, {{"contacts", out}});
}

}  // namespace

std::vector<NamedAddress> SplitAddressList(std::string_view list) {
  std::vector<NamedAddress> out;
  bool quoted = false;
  size_t start = 0, entries = 0;
  for (size_t i = 0; i <= list.size() && entries < kMaxEntries; ++i) {
    if (i < list.size()) {
      if (list[i] == '\\' && quoted) {
        ++i;
        continue;
      }
      if (list[i] == '"') quoted = !quoted;
      if (list[i] != ',' || quoted) continue;
    }
    ++entries;
    if (auto entry = ParseEntry(list.substr(start, std::min(i, list.size()) - start))) {
      out.push_back(std::move(*entry));
    }
    start = i + 1;
  }
  return out;
}

void AddContactRoutes(Router& router, const ApiContext& ctx,
                      const std::shared_ptr<MailServices>& mail) {
  AddMailRoute(router, ctx, mail, "GET", "/api/mail/contacts", Contacts);
}

}  // namespace penncloud::frontend
