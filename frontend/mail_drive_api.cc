#include "frontend/mail_drive_api.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "drive/drive.h"
#include "drive/path.h"
#include "frontend/drive_api.h"
#include "frontend/mail_api_compose.h"
#include "frontend/share_api.h"
#include "mail/mail_store.h"

namespace penncloud::frontend {
namespace {

using nlohmann::json;

// Tries of "name (2).ext", "name (3).ext", ... before giving up on a crowded folder.
constexpr int kMaxNameTries = 20;

// An attachment's file name made fit for the drive: the sender chose it, so separators and
// control characters become '_'; a name the drive still refuses becomes "attachment".
std::string DriveName(const std::string& filename) {
  std::string name;
  for (char c : filename) {
    auto u = static_cast<unsigned char>(c);
    name += (c == '/' || c == '\\' || u < 0x20 || u == 0x7f) ? '_' : c;
  }
  if (name.empty() || !drive::ValidateName(name).ok()) return "attachment";
  return name;
}

// "report.pdf", n = 2 → "report (2).pdf"; a leading dot is not an extension.
std::string Numbered(const std::string& name, int n) {
  size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0) return absl::StrCat(name, " (", n, ")");
  return absl::StrCat(name.substr(0, dot), " (", n, ")", name.substr(dot));
}

std::string Join(const std::string& folder, const std::string& name) {
  return folder == "/" ? "/" + name : folder + "/" + name;
}

// Writes `data` as a new file named `name` (or a numbered variant) in `folder`; never
// replaces: the commit is conditional on the path still being free.
absl::StatusOr<std::pair<std::string, drive::EntryInfo>> SaveNew(drive::Drive& drive,
                                                                 const std::string& user,
                                                                 const std::string& folder,
                                                                 const std::string& name,
                                                                 const std::string& data) {
  for (int n = 1; n <= kMaxNameTries; ++n) {
    std::string candidate = n == 1 ? name : Numbered(name, n);
    if (!drive::ValidateName(candidate).ok()) break;  // numbering made it too long
    std::string path = Join(folder, candidate);
    auto existing = drive.Stat(user, path);
    if (existing.ok()) continue;
    if (!absl::IsNotFound(existing.status())) return existing.status();
    drive::UploadOptions options;
    options.if_none_match = true;
    auto upload = drive.BeginUpload(user, path, options);
    if (!upload.ok()) return upload.status();
    if (auto s = (*upload)->Append(data); !s.ok()) return s;
    auto entry = (*upload)->Commit();
    if (entry.ok()) return std::pair{path, *entry};
    if (!drive::IsConditionFailed(entry.status())) return entry.status();
    // Someone took the name between the look and the commit: try the next one.
  }
  return absl::AlreadyExistsError("too many files of that name in the folder");
}

Response SaveAttachment(const ApiContext& ctx, mail::MailStore& store, Request& req,
                        const accounts::Session& s) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return FromStatus(body.status());
  auto folder = JsonString(*body, "path");
  if (!folder.ok()) return ErrorResponse(400, "\"path\" names the folder to save into");
  auto parts = drive::SplitPath(*folder);
  if (!parts.ok()) return FromStatus(parts.status());
  std::string folder_path = drive::JoinPath(*parts);

  size_t n = 0;
  if (!absl::SimpleAtoi(req.params["n"], &n)) return ErrorResponse(404, "no such attachment");
  auto meta = store.Find(s.username, req.params["id"]);
  if (!meta.ok()) return FromStatus(meta.status());
  auto source = store.Source(s.username, *meta);
  if (!source.ok()) return FromStatus(source.status());
  mail::ParsedMessage parsed = mail::ParseMessage(*source);
  if (n >= parsed.attachments.size()) return ErrorResponse(404, "no such attachment");
  mail::Attachment& a = parsed.attachments[n];

  std::string name = DriveName(a.filename);
  if (body->contains("name")) {
    auto chosen = JsonString(*body, "name");
    if (!chosen.ok()) return ErrorResponse(400, "\"name\" is a string");
    if (auto valid = drive::ValidateName(*chosen); !valid.ok()) return FromStatus(valid);
    name = *chosen;
  }

  auto drive = SharedDrive(ctx);
  auto spot = ResolvePlace(ctx, s.username, folder_path, PlaceUse::kWrite);
  if (!spot.ok()) return DriveError(spot.status());
  auto target = drive->Stat(spot->owner, spot->path);
  if (!target.ok()) return DriveError(spot->Seen(target.status()));
  if (!target->folder) return ErrorResponse(409, "\"path\" is a file, not a folder");
  auto saved = SaveNew(*drive, spot->owner, spot->path, name, a.data);
  if (!saved.ok()) return DriveError(spot->Seen(saved.status()));
  const std::string& stored = saved->first;
  json answer = spot->share ? SharedEntryJson(saved->second) : EntryJson(saved->second);
  answer["path"] = Join(folder_path, stored.substr(stored.rfind('/') + 1));
  return JsonResponse(201, answer);
}

}  // namespace

void RegisterMailDriveRoutes(Router& router, const ApiContext& ctx) {
  auto store = std::make_shared<mail::MailStore>(*ctx.store);
  router.Add("POST", "/api/mail/{id}/attachments/{n}/save",
             WithSession(ctx, [&ctx, store](Request& req, const accounts::Session& s) {
               return SaveAttachment(ctx, *store, req, s);
             }));
}

absl::Status AddDriveAttachments(const ApiContext& ctx, const std::string& user, const json& body,
                                 mail::Draft& message) {
  auto it = body.find("drive_attachments");
  if (it == body.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_array())
    return absl::InvalidArgumentError("drive_attachments must be a list of paths");
  if (it->size() > kMaxDriveAttachments) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most ", kMaxDriveAttachments, " files from the drive per message"));
  }
  uint64_t attached = 0;  // what the message carries already
  for (const auto& a : message.attachments) attached += a.data.size();
  uint64_t total = attached;
  auto drive = SharedDrive(ctx);
  // Every file is looked at before any is read, so a request over the limit costs no reads.
  std::vector<std::pair<DrivePlace, drive::EntryInfo>> files;
  for (const json& p : *it) {
    if (!p.is_string()) return absl::InvalidArgumentError("drive_attachments: not a path");
    std::string path = p.get<std::string>();
    auto spot = ResolvePlace(ctx, user, path, PlaceUse::kRead);
    if (!spot.ok()) return spot.status();
    auto info = drive->Stat(spot->owner, spot->path);
    if (!info.ok()) return spot->Seen(info.status());
    if (info->folder) return absl::InvalidArgumentError(path + " is a folder, not a file");
    total += info->size;
    if (total > kMaxComposedBytes) {
      return absl::InvalidArgumentError(
          "attachments over 32 MiB: share a link to the file instead");
    }
    files.emplace_back(*std::move(spot), std::move(*info));
  }
  uint64_t read = attached;  // files may grow after their look: the limit holds all the same
  for (auto& [spot, info] : files) {
    auto reader = drive->Open(spot.owner, spot.path);
    if (!reader.ok()) return spot.Seen(reader.status());
    mail::Attachment att;
    att.filename = info.name;
    att.content_type = info.content_type.empty() ? "application/octet-stream" : info.content_type;
    for (;;) {
      auto piece = (*reader)->Next();
      if (!piece.ok()) return piece.status();
      if (piece->empty()) break;
      read += piece->size();
      if (read > kMaxComposedBytes) return absl::InvalidArgumentError("attachments over 32 MiB");
      att.data += *piece;
    }
    message.attachments.push_back(mail::Forwardable(std::move(att)));
  }
  return absl::OkStatus();
}

}  // namespace penncloud::frontend
