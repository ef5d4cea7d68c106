// Differential check of our MIME extraction (mail/mime.h, over GMime) against Python's
// email package (mail/mime_reference.py, Debian's /usr/bin/python3, stdlib only), on
// generated messages: encoded-word subjects and names, UTF-8 and Latin-1 bodies in 7bit,
// quoted-printable and base64, multipart/alternative inside multipart/mixed, attachments
// with plain, RFC 2231 and encoded-word file names. Both must extract the same subject,
// addresses, text and HTML bodies, and attachments (name, type and exact bytes).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "mail/mime.h"
#include "nlohmann/json.hpp"

namespace penncloud::mail {
namespace {

struct Generated {
  std::string source;
};

// Words with and without accents; Latin-1 bodies only use the accented letters Latin-1 has.
const std::vector<std::string> kWords = {"hello",
                                         "caf\xC3\xA9",
                                         "na\xC3\xAFve",
                                         "report",
                                         "\xC3\xBC"
                                         "ber",
                                         "plan",
                                         "r\xC3\xA9sum\xC3\xA9",
                                         "42"};

std::string Words(std::mt19937& rng, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(kWords[rng() % kWords.size()]);
  return absl::StrJoin(out, " ");
}

// UTF-8 text (only code points below U+0100) to Latin-1 bytes.
std::string ToLatin1(const std::string& utf8) {
  std::string out;
  for (size_t i = 0; i < utf8.size(); ++i) {
    unsigned char c = utf8[i];
    if (c == 0xC3) {
      out += static_cast<char>(0xC0 | (static_cast<unsigned char>(utf8[++i]) & 0x3F));
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string QuotedPrintable(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c == '=' || c >= 0x80) {
      absl::StrAppend(&out, "=", absl::BytesToHexString(std::string(1, char(c))));
    } else {
      out += static_cast<char>(c);
    }
  }
  return absl::AsciiStrToUpper(out);  // hex digits upper case; the words are ASCII letters
}

std::string EncodedWord(std::mt19937& rng, const std::string& utf8) {
  if (rng() % 2) return absl::StrCat("=?utf-8?B?", absl::Base64Escape(utf8), "?=");
  std::string q;
  for (unsigned char c : ToLatin1(utf8)) {
    if (c == ' ') {
      q += '_';
    } else if (c >= 0x80 || c == '=' || c == '?' || c == '_') {
      absl::StrAppend(&q, "=", absl::AsciiStrToUpper(absl::BytesToHexString(std::string(1, c))));
    } else {
      q += static_cast<char>(c);
    }
  }
  return absl::StrCat("=?iso-8859-1?Q?", q, "?=");
}

// A text part: headers, blank line, encoded body.
std::string TextPart(std::mt19937& rng, const std::string& subtype, const std::string& utf8) {
  bool latin1 = rng() % 3 == 0;
  std::string bytes = latin1 ? ToLatin1(utf8) : utf8;
  std::string charset = latin1 ? "iso-8859-1" : "utf-8";
  std::string encoding, body;
  switch (rng() % 3) {
    case 0:
      encoding = "8bit";
      body = bytes;
      break;
    case 1:
      encoding = "quoted-printable";
      body = QuotedPrintable(bytes);
      break;
    default:
      encoding = "base64";
      body = absl::Base64Escape(bytes);
      break;
  }
  return absl::StrCat("Content-Type: text/", subtype, "; charset=", charset,
                      "\r\nContent-Transfer-Encoding: ", encoding, "\r\n\r\n", body, "\r\n");
}

std::string AttachmentPart(std::mt19937& rng, std::string* name_utf8) {
  static const std::vector<std::string> kTypes = {"application/octet-stream", "image/png",
                                                  "text/csv", "application/pdf"};
  std::string type = kTypes[rng() % kTypes.size()];
  *name_utf8 = absl::StrCat(Words(rng, 1), rng() % 10, ".bin");
  std::string disposition;
  switch (rng() % 3) {
    case 0:
      disposition =
          absl::StrCat("attachment; filename=\"", absl::StrCat("file", rng() % 100, ".bin"), "\"");
      *name_utf8 = disposition.substr(22, disposition.size() - 23);
      break;
    case 1: {
      std::string pct;
      for (unsigned char c : *name_utf8) {
        if (isalnum(c) || c == '.') {
          pct += static_cast<char>(c);
        } else {
          absl::StrAppend(&pct, "%",
                          absl::AsciiStrToUpper(absl::BytesToHexString(std::string(1, c))));
        }
      }
      disposition = absl::StrCat("attachment; filename*=UTF-8''", pct);
      break;
    }
    default:
      disposition =
          absl::StrCat("attachment; filename=\"=?utf-8?B?", absl::Base64Escape(*name_utf8), "?=\"");
      break;
  }
  std::string data;
  for (int n = int(rng() % 300); n > 0; --n) data += static_cast<char>(rng() & 0xFF);
  return absl::StrCat("Content-Type: ", type, "\r\nContent-Disposition: ", disposition,
                      "\r\nContent-Transfer-Encoding: base64\r\n\r\n", absl::Base64Escape(data),
                      "\r\n");
}

std::string Multipart(const std::string& subtype, const std::string& boundary,
                      const std::vector<std::string>& parts) {
  std::string out =
      absl::StrCat("Content-Type: multipart/", subtype, "; boundary=\"", boundary, "\"\r\n\r\n");
  for (const auto& p : parts) absl::StrAppend(&out, "--", boundary, "\r\n", p);
  absl::StrAppend(&out, "--", boundary, "--\r\n");
  return out;
}

std::string GenerateMessage(std::mt19937& rng) {
  std::string from_name = Words(rng, 2), to_name = Words(rng, 1);
  std::string headers = absl::StrCat(
      "From: ", EncodedWord(rng, from_name), " <sender", rng() % 10, "@example.org>\r\n",
      "To: ", EncodedWord(rng, to_name), " <alice@penncloud.local>, bob@penncloud.local\r\n",
      rng() % 2 ? "Cc: carol@example.net\r\n" : "", "Subject: ", EncodedWord(rng, Words(rng, 3)),
      "\r\nMIME-Version: 1.0\r\n");
  std::string text = TextPart(rng, "plain", Words(rng, 5 + int(rng() % 20)));
  std::string body;
  switch (rng() % 3) {
    case 0:
      body = text;
      break;
    case 1:
      body = Multipart("alternative", "alt",
                       {text, TextPart(rng, "html", absl::StrCat("<p>", Words(rng, 4), "</p>"))});
      break;
    default: {
      std::vector<std::string> parts = {
          rng() % 2 ? text
                    : Multipart("alternative", "alt",
                                {text, TextPart(rng, "html",
                                                absl::StrCat("<b>", Words(rng, 3), "</b>"))})};
      std::string name;
      for (int n = 1 + int(rng() % 3); n > 0; --n) parts.push_back(AttachmentPart(rng, &name));
      body = Multipart("mixed", "mix", parts);
      break;
    }
  }
  return headers + body;
}

std::vector<std::string> AddrSpecs(const std::string& list) {
  std::vector<std::string> out;
  static const std::regex kAddr(R"(([^\s<>,"]+@[^\s<>,"]+))");
  for (std::sregex_iterator it(list.begin(), list.end(), kAddr), end; it != end; ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

std::string Lines(std::string s) {
  s = absl::StrReplaceAll(s, {{"\r\n", "\n"}});
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

TEST(MimeDifferentialTest, ExtractionAgreesWithPythonEmail) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/python3"));
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / absl::StrCat("mime_diff_", ::getpid());
  std::filesystem::create_directories(dir);
  std::mt19937 rng(2026);
  constexpr int kMessages = 300;
  std::vector<std::string> sources;
  std::string command =
      absl::StrCat("/usr/bin/python3 ", PENNCLOUD_SOURCE_DIR, "/mail/mime_reference.py");
  for (int i = 0; i < kMessages; ++i) {
    sources.push_back(GenerateMessage(rng));
    auto path = dir / absl::StrCat(i, ".eml");
    std::ofstream(path, std::ios::binary) << sources.back();
    absl::StrAppend(&command, " ", path.string());
  }
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[65536];
  for (size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) output.append(buf, n);
  ASSERT_EQ(::pclose(pipe), 0) << output;
  std::filesystem::remove_all(dir);

  std::vector<std::string> lines = absl::StrSplit(output, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), size_t(kMessages));
  int attachments = 0;
  for (int i = 0; i < kMessages; ++i) {
    SCOPED_TRACE(absl::StrCat("message ", i, ":\n", sources[i]));
    nlohmann::json want = nlohmann::json::parse(lines[i]);
    ParsedMessage got = ParseMessage(sources[i]);
    EXPECT_EQ(got.subject, want["subject"].get<std::string>());
    EXPECT_EQ(AddrSpecs(got.from), want["from"].get<std::vector<std::string>>());
    EXPECT_EQ(AddrSpecs(got.to), want["to"].get<std::vector<std::string>>());
    EXPECT_EQ(AddrSpecs(got.cc), want["cc"].get<std::vector<std::string>>());
    EXPECT_EQ(Lines(got.text), Lines(want["text"].get<std::string>()));
    EXPECT_EQ(Lines(got.html), Lines(want["html"].get<std::string>()));
    ASSERT_EQ(got.attachments.size(), want["attachments"].size());
    for (size_t k = 0; k < got.attachments.size(); ++k) {
      const auto& w = want["attachments"][k];
      EXPECT_EQ(got.attachments[k].filename, w["filename"].get<std::string>());
      EXPECT_EQ(got.attachments[k].content_type, w["content_type"].get<std::string>());
      std::string data;
      ASSERT_TRUE(absl::Base64Unescape(w["data"].get<std::string>(), &data));
      EXPECT_EQ(got.attachments[k].data, data);
      ++attachments;
    }
    if (HasFailure()) break;  // one message's differences at a time
  }
  EXPECT_GT(attachments, 100);
}

}  // namespace
}  // namespace penncloud::mail
