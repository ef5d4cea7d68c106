// Reading and writing RFC 5322 / MIME messages, through GMime. Nothing here parses MIME by
// hand; this file only turns GMime's objects into plain values and back.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace penncloud::mail {

struct Attachment {
  std::string filename;
  std::string content_type;  // e.g. "application/pdf"
  std::string data;          // decoded bytes
};

struct ParsedMessage {
  std::string from, to, cc, subject, date, message_id, references;
  std::string text;  // the text/plain body (decoded, UTF-8); empty if none
  std::string html;  // the text/html body (decoded, UTF-8); empty if none
  std::vector<Attachment> attachments;
};

// Parses a message's source. Never fails on odd input: whatever GMime can make of it.
ParsedMessage ParseMessage(std::string_view source);

// What a user composes in webmail.
struct Draft {
  std::string from;  // "alice@penncloud.local"
  std::vector<std::string> to, cc;
  std::string subject, text;
  std::string in_reply_to, references;  // set when replying
  std::vector<Attachment> attachments;
};

// Builds the RFC 5322 source (CRLF line ends) of a draft, with a Date and a Message-ID
// under `domain`.
std::string BuildMessage(const Draft& draft, std::string_view domain);

// Converts bare LF (and lone CR) line ends to CRLF, the form messages are stored in.
std::string ToCrlf(std::string_view text);

}  // namespace penncloud::mail
