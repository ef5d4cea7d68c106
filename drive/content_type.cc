#include "drive/content_type.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace penncloud::drive {

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

namespace {

// RFC 9110 5.6.2: the characters of a token.
bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void SkipSpaces(std::string_view& s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
}

// Takes a non-empty token from the front of `s`.
bool TakeToken(std::string_view& s, std::string* out) {
  size_t n = 0;
  while (n < s.size() && IsTokenChar(s[n])) ++n;
  if (n == 0) return false;
  out->assign(s.substr(0, n));
  s.remove_prefix(n);
  return true;
}

// Takes a quoted-string (RFC 9110 5.6.4) from the front of `s`, quotes and escapes kept.
bool TakeQuoted(std::string_view& s, std::string* out) {
  if (s.empty() || s.front() != '"') return false;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;  // the escaped character is checked as printable with the rest
    } else if (s[i] == '"') {
      out->assign(s.substr(0, i + 1));
      s.remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

absl::Status Invalid(const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("invalid Content-Type: ", why));
}

}  // namespace

absl::StatusOr<std::string> NormalizeContentType(std::string_view given) {
  if (given.size() > kMaxContentTypeBytes) {
    return Invalid(absl::StrCat("longer than ", kMaxContentTypeBytes, " bytes"));
  }
  for (char c : given) {
    // Printable ASCII and tabs only: no controls (header injection) and no bytes that are
    // not text (the type goes back out in headers and in XML).
    if ((c < 0x20 && c != '\t') || c >= 0x7f) return Invalid("not printable ASCII");
  }
  std::string_view s = given;
  SkipSpaces(s);
  std::string type, subtype;
  if (!TakeToken(s, &type) || s.empty() || s.front() != '/') return Invalid("not type/subtype");
  s.remove_prefix(1);
  if (!TakeToken(s, &subtype)) return Invalid("not type/subtype");
  std::string out = absl::AsciiStrToLower(absl::StrCat(type, "/", subtype));
  for (;;) {
    SkipSpaces(s);
    if (s.empty()) return out;
    if (s.front() != ';') return Invalid("expected ';' between parameters");
    s.remove_prefix(1);
    SkipSpaces(s);
    if (s.empty()) return out;  // a trailing ';' is common and harmless
    std::string name, value;
    if (!TakeToken(s, &name)) return Invalid("bad parameter name");
    SkipSpaces(s);
    if (s.empty() || s.front() != '=') return Invalid("parameter without a value");
    s.remove_prefix(1);
    SkipSpaces(s);
    if (!TakeToken(s, &value) && !TakeQuoted(s, &value)) return Invalid("bad parameter value");
    absl::StrAppend(&out, "; ", absl::AsciiStrToLower(name), "=", value);
  }
}

}  // namespace penncloud::drive
