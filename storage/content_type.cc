#include "storage/content_type.h"

#include <map>

#include "absl/strings/ascii.h"

namespace penncloud::storage {

std::string GuessContentType(std::string_view name) {
  static const auto* kTypes = new std::map<std::string, std::string>{
      {"txt", "text/plain"},        {"md", "text/markdown"},
      {"html", "text/html"},        {"htm", "text/html"},
      {"css", "text/css"},          {"js", "text/javascript"},
      {"json", "application/json"}, {"xml", "application/xml"},
      {"csv", "text/csv"},          {"pdf", "application/pdf"},
      {"zip", "application/zip"},   {"gz", "application/gzip"},
      {"tar", "application/x-tar"}, {"iso", "application/x-iso9660-image"},
      {"png", "image/png"},         {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},       {"gif", "image/gif"},
      {"webp", "image/webp"},       {"svg", "image/svg+xml"},
      {"mp3", "audio/mpeg"},        {"wav", "audio/wav"},
      {"ogg", "audio/ogg"},         {"mp4", "video/mp4"},
      {"webm", "video/webm"},       {"mov", "video/quicktime"},
      {"mkv", "video/x-matroska"},
  };
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == name.size()) return "application/octet-stream";
  auto it = kTypes->find(absl::AsciiStrToLower(std::string(name.substr(dot + 1))));
  return it == kTypes->end() ? "application/octet-stream" : it->second;
}

}  // namespace penncloud::storage
