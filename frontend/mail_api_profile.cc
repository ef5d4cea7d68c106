#include "frontend/mail_api_profile.h"

#include <algorithm>

#include "mail/text.h"

namespace penncloud::frontend {
namespace {

using nlohmann::json;

std::string ProfileRow(const std::string& user) { return "mailprofile/" + user; }
constexpr char kColumn[] = "p";

absl::Status CheckText(std::string_view what, std::string_view text, size_t limit, bool multiline) {
  if (text.size() > limit) {
    return absl::InvalidArgumentError(std::string(what) + " is over " + std::to_string(limit) +
                                      " bytes");
  }
  if (!mail::IsValidUtf8(text))
    return absl::InvalidArgumentError(std::string(what) + ": not UTF-8");
  bool control = std::any_of(text.begin(), text.end(), [multiline](char c) {
    auto u = static_cast<unsigned char>(c);
    if (multiline && (c == '\n' || c == '\r' || c == '\t')) return false;
    return u < 0x20 || u == 0x7f;
  });
  if (control) return absl::InvalidArgumentError(std::string(what) + " has control characters");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<MailProfile> LoadMailProfile(kvs::Client& store, const std::string& user) {
  auto value = store.Get(ProfileRow(user), kColumn);
  if (absl::IsNotFound(value.status())) return MailProfile{};
  if (!value.ok()) return value.status();
  json stored = json::parse(*value, nullptr, false);
  if (!stored.is_object()) return absl::DataLossError("bad mail profile cell");
  return ProfileFromJson(stored);
}

absl::StatusOr<MailProfile> ProfileFromJson(const json& body) {
  MailProfile p;
  for (auto [key, field] :
       {std::pair{"display_name", &p.display_name}, std::pair{"signature", &p.signature}}) {
    if (!body.contains(key)) continue;
    if (!body[key].is_string())
      return absl::InvalidArgumentError(std::string(key) + " must be text");
    *field = body[key].get<std::string>();
  }
  if (auto s = CheckText("display_name", p.display_name, kMaxDisplayNameBytes, false); !s.ok()) {
    return s;
  }
  if (auto s = CheckText("signature", p.signature, kMaxSignatureBytes, true); !s.ok()) return s;
  return p;
}

json ProfileJson(const MailProfile& profile) {
  return {{"display_name", profile.display_name}, {"signature", profile.signature}};
}

absl::Status SaveMailProfile(kvs::Client& store, const std::string& user,
                             const MailProfile& profile) {
  auto checked = ProfileFromJson(ProfileJson(profile));
  if (!checked.ok()) return checked.status();
  return store.Put(ProfileRow(user), kColumn, ProfileJson(profile).dump());
}

}  // namespace penncloud::frontend
