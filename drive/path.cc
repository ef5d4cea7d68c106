#include "drive/path.h"

#include <unicode/uchar.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace penncloud::drive {
namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 if it is not well-formed (overlong
// forms, surrogates and code points above U+10FFFF included); its code point in `*out`.
size_t Utf8SequenceLength(std::string_view s, size_t i, uint32_t* out) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  *out = c;
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  *out = cp;
  return n;
}

// Characters a name may not hold although they are valid UTF-8, by Unicode general
// category (ICU's tables, so new code points are covered as Unicode adds them):
// - Cf, format characters: the bidi overrides and isolates (U+202A-202E, U+2066-2069)
//   make "evil\u202Efdp.exe" display as "evilexe.pdf"; zero-width ones (U+200B-200D,
//   U+2060, U+FEFF) and the soft hyphen make two names look alike. (The cost: emoji joined
//   by U+200D are refused too.)
// - Cc: C1 controls (U+0080-009F); C0 and DEL are refused above with a plainer message.
// - Zl, Zp: line and paragraph separators, which break a name over lines.
const char* ForbiddenCategory(uint32_t cp) {
  switch (u_charType(static_cast<UChar32>(cp))) {
    case U_FORMAT_CHAR:
      return "invisible or text-direction (format) characters";
    case U_CONTROL_CHAR:
      return "control characters";
    case U_LINE_SEPARATOR:
    case U_PARAGRAPH_SEPARATOR:
      return "line or paragraph separators";
    default:
      return nullptr;
  }
}

}  // namespace

absl::Status ValidateUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    size_t n = Utf8SequenceLength(text, i, &cp);
    if (n == 0) return absl::InvalidArgumentError("text is not valid UTF-8");
    i += n;
  }
  return absl::OkStatus();
}

absl::Status ValidateName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("name is empty");
  if (name.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("name is longer than ", kMaxNameBytes, " bytes"));
  }
  if (name == "." || name == "..") {
    return absl::InvalidArgumentError("name may not be \".\" or \"..\"");
  }
  for (size_t i = 0; i < name.size();) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    if (c == '/') return absl::InvalidArgumentError("name may not contain '/'");
    if (c < 0x20 || c == 0x7F) {
      return absl::InvalidArgumentError("name may not contain control characters");
    }
    uint32_t cp = 0;
    size_t n = Utf8SequenceLength(name, i, &cp);
    if (n == 0) return absl::InvalidArgumentError("name is not valid UTF-8");
    if (const char* why = ForbiddenCategory(cp)) {
      return absl::InvalidArgumentError(
          absl::StrCat("name may not contain ", why, " (U+",
                       absl::AsciiStrToUpper(absl::StrCat(absl::Hex(cp, absl::kZeroPad4))), ")"));
    }
    i += n;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> SplitPath(std::string_view path) {
  if (path.size() > kMaxPathBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("path is longer than ", kMaxPathBytes, " bytes"));
  }
  if (!path.empty() && path.front() != '/') {
    return absl::InvalidArgumentError("path must start with '/'");
  }
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (!part.empty()) {
      if (auto s = ValidateName(part); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("bad path component: ", s.message()));
      }
      parts.emplace_back(part);
      if (parts.size() > kMaxDepth) {
        return absl::InvalidArgumentError(
            absl::StrCat("path is deeper than ", kMaxDepth, " folders"));
      }
    }
    i = j + 1;
  }
  return parts;
}

std::string JoinPath(const std::vector<std::string>& components) {
  if (components.empty()) return "/";
  std::string out;
  for (const auto& c : components) absl::StrAppend(&out, "/", c);
  return out;
}

absl::Status ValidateUser(std::string_view user) {
  if (user.empty() || user.size() > 128) return absl::InvalidArgumentError("bad user name");
  for (unsigned char c : user) {
    if (c == '/' || c < 0x21 || c == 0x7F) return absl::InvalidArgumentError("bad user name");
  }
  return absl::OkStatus();
}

}  // namespace penncloud::drive
