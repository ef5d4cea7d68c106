// Differential check of the drive's path rules (storage/path.h) against a reference model
// written here from the rules' own words, on generated paths: traversal tokens, repeated
// slashes, names at the length and depth limits, every class of UTF-8 error, and the
// Unicode categories a name may not hold. The model decodes UTF-8 by RFC 3629's table of
// well-formed byte sequences, a different method from path.cc's bit arithmetic.
#include <unicode/uchar.h>

#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "drive/path.h"
#include "gtest/gtest.h"

namespace penncloud::drive {
namespace {

// RFC 3629, section 4: the well-formed sequences as byte ranges. Returns the length of the
// sequence at s[i] and its code point, or 0 if none is well-formed there.
size_t ModelDecode(std::string_view s, size_t i, uint32_t* cp) {
  struct Row {
    unsigned char lo[4], hi[4];
    int n;
  };
  static constexpr Row kRows[] = {
      {{0x00}, {0x7F}, 1},
      {{0xC2, 0x80}, {0xDF, 0xBF}, 2},
      {{0xE0, 0xA0, 0x80}, {0xE0, 0xBF, 0xBF}, 3},
      {{0xE1, 0x80, 0x80}, {0xEC, 0xBF, 0xBF}, 3},
      {{0xED, 0x80, 0x80}, {0xED, 0x9F, 0xBF}, 3},
      {{0xEE, 0x80, 0x80}, {0xEF, 0xBF, 0xBF}, 3},
      {{0xF0, 0x90, 0x80, 0x80}, {0xF0, 0xBF, 0xBF, 0xBF}, 4},
      {{0xF1, 0x80, 0x80, 0x80}, {0xF3, 0xBF, 0xBF, 0xBF}, 4},
      {{0xF4, 0x80, 0x80, 0x80}, {0xF4, 0x8F, 0xBF, 0xBF}, 4},
  };
  for (const Row& row : kRows) {
    if (i + size_t(row.n) > s.size()) continue;
    bool match = true;
    for (int k = 0; k < row.n && match; ++k) {
      unsigned char b = static_cast<unsigned char>(s[i + k]);
      match = b >= row.lo[k] && b <= row.hi[k];
    }
    if (!match) continue;
    static constexpr unsigned char kLeadMask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    uint32_t v = static_cast<unsigned char>(s[i]) & kLeadMask[row.n];
    for (int k = 1; k < row.n; ++k) v = v << 6 | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    *cp = v;
    return size_t(row.n);
  }
  return 0;
}

// The rules of path.h, restated: 1..255 bytes of valid UTF-8, not "." or "..", no '/', no
// controls (C0, DEL, C1), no format characters, no line or paragraph separators.
bool ModelNameOk(std::string_view name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  for (size_t i = 0; i < name.size();) {
    uint32_t cp = 0;
    size_t n = ModelDecode(name, i, &cp);
    if (n == 0 || cp == '/' || cp < 0x20 || cp == 0x7F) return false;
    switch (u_charType(static_cast<UChar32>(cp))) {
      case U_CONTROL_CHAR:
      case U_FORMAT_CHAR:
      case U_LINE_SEPARATOR:
      case U_PARAGRAPH_SEPARATOR:
        return false;
      default:
        break;
    }
    i += n;
  }
  return true;
}

std::optional<std::vector<std::string>> ModelSplit(std::string_view path) {
  if (path.size() > 4096) return std::nullopt;
  if (!path.empty() && path[0] != '/') return std::nullopt;
  std::vector<std::string> parts;
  std::string current;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') {
      current += path[i];
      continue;
    }
    if (current.empty()) continue;
    if (!ModelNameOk(current)) return std::nullopt;
    parts.push_back(current);
    current.clear();
  }
  if (parts.size() > 64) return std::nullopt;
  return parts;
}

// Random paths built from the pieces where the rules have edges.
std::string GeneratePath(std::mt19937_64& rng) {
  static const std::vector<std::string> kPieces = {
      "/",
      "/",
      "/",
      "//",
      ".",
      "..",
      "a",
      "file.txt",
      " ",
      "\xC3\xA9",          // é
      "\xF0\x9F\x98\x80",  // an emoji
      "\xE2\x80\xAE",
      "\xE2\x81\xA6",
      "\xE2\x80\x8B",
      "\xC2\xAD",  // Cf: RLO, LRI, ZWSP, SHY
      "\xC2\x85",
      "\xE2\x80\xA8",
      "\xE2\x80\xA9",  // C1 NEL, Zl, Zp
      "\xC0\xAF",
      "\xE0\x80\xAF",
      "\xED\xA0\x80",
      "\xF4\x90\x80\x80",  // overlong, surrogate, too big
      "\x80",
      "\xFF",
      "\xE2\x82",
      "\xF0\x9F\x98",  // stray, truncated
      "\x01",
      "\x1F",
      "\x7F",
      std::string(1, '\0'),
      "\xEF\xBB\xBF",  // controls, BOM (Cf)
      "\xEF\xBF\xBD",
      "\xF3\xA0\x80\x81",  // U+FFFD, a tag (Cf)
  };
  std::string path;
  int pieces = std::uniform_int_distribution<int>(0, 12)(rng);
  switch (rng() % 8) {
    case 0:  // near the name length limit
      path.assign(1, '/').append(250 + rng() % 10, 'x');
      break;
    case 1:  // near the depth limit
      for (int d = 62 + int(rng() % 5); d > 0; --d) path += "/d";
      break;
    case 2:  // near the path length limit
      path.assign(1, '/').append(4090 + rng() % 10, 'p');
      break;
    default:
      break;
  }
  for (int k = 0; k < pieces; ++k) {
    if (rng() % 6 == 0) {
      path += static_cast<char>(rng() & 0xFF);
    } else {
      path += kPieces[rng() % kPieces.size()];
    }
  }
  if (rng() % 8 != 0 && (path.empty() || path[0] != '/')) {
    std::string rooted(1, '/');
    path = rooted.append(path);
  }
  return path;
}

TEST(PathModelTest, SplitPathAgreesWithTheReferenceModel) {
  std::mt19937_64 rng(17);
  int accepted = 0, refused = 0;
  for (int n = 0; n < 200000; ++n) {
    const std::string path = GeneratePath(rng);
    auto got = SplitPath(path);
    auto want = ModelSplit(path);
    ASSERT_EQ(got.ok(), want.has_value())
        << "path (" << path.size() << " bytes) " << testing::PrintToString(path) << ": "
        << (got.ok() ? "accepted" : got.status().ToString());
    if (!got.ok()) {
      ++refused;
      EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
      continue;
    }
    ++accepted;
    ASSERT_EQ(*got, *want) << testing::PrintToString(path);
    auto again = SplitPath(JoinPath(*got));
    ASSERT_TRUE(again.ok() && *again == *got) << testing::PrintToString(path);
  }
  // Both outcomes are well represented, so the agreement means something.
  EXPECT_GT(accepted, 10000);
  EXPECT_GT(refused, 20000);
}

TEST(PathModelTest, ModelDecodeMatchesTheTable) {
  uint32_t cp = 0;
  EXPECT_EQ(ModelDecode("\xE2\x80\xAE", 0, &cp), 3u);
  EXPECT_EQ(cp, 0x202Eu);
  EXPECT_EQ(ModelDecode("\xF4\x8F\xBF\xBF", 0, &cp), 4u);
  EXPECT_EQ(cp, 0x10FFFFu);
  EXPECT_EQ(ModelDecode("\xED\xA0\x80", 0, &cp), 0u);  // a surrogate
  EXPECT_EQ(ModelDecode("\xC1\xBF", 0, &cp), 0u);      // overlong
}

}  // namespace
}  // namespace penncloud::drive
