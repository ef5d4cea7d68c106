// Reading and writing RFC 5322 / MIME messages, through GMime. Nothing here parses MIME by
// hand; this file only turns GMime's objects into plain values and back.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace penncloud::mail {

struct Attachment {
  std::string filename;
  std::string content_type;  // e.g. "application/pdf"
  std::string data;          // decoded bytes
};

struct ParsedMessage {
  std::string from, to, cc, subject, date, message_id, references, in_reply_to;
  std::string text;  // the text/plain body (decoded, UTF-8); empty if none
  std::string html;  // the text/html body (decoded, UTF-8); empty if none
  std::vector<Attachment> attachments;
};

// What GMime is handed at most, counted over the whole source, parts and attached
// messages included: GMime keeps ~0.5 KB per header field (a 28 MB message of 2 million
// fields took 1.1 GB and 10 s), and checks every line against each open boundary.
inline constexpr size_t kMaxMimeHeaderFields = 10000;
// Multipart and message/* containers (each one level of nesting at most).
inline constexpr size_t kMaxMimeContainers = 100;

// How much of `source` ParseMessage reads: all of it, or up to the line holding the header
// field past kMaxMimeHeaderFields or the container past kMaxMimeContainers. Lines count as
// header fields from the start of a header block (the message's, after a "--" boundary
// line, after an attached message's part header) to its blank line, so the count is never
// below what GMime parses.
size_t MimeParseLength(std::string_view source);

// Parses a message's source. Never fails on odd input: whatever GMime can make of it, of
// the first MimeParseLength(source) bytes (the stored source itself stays whole).
ParsedMessage ParseMessage(std::string_view source);

// What a user composes in webmail.
struct Draft {
  std::string from;       // "alice@penncloud.local"
  std::string from_name;  // the sender's display name on the From line ("" = none)
  std::vector<std::string> to, cc;
  std::string subject, text;
  std::string in_reply_to, references;  // set when replying
  std::vector<Attachment> attachments;
};

// Checks every field of a draft that becomes a header: no CR, LF or NUL anywhere (they
// would start a new header line), addresses that parse as addresses, a content type that
// is "type/subtype" tokens only. kInvalidArgument names the bad field.
absl::Status ValidateDraft(const Draft& draft);

// Builds the RFC 5322 source (CRLF line ends) of a draft, with a Date and a Message-ID
// under `domain`. Attachment file names go out as RFC 2231 parameters (GMime encodes them).
// Fails with ValidateDraft's error.
absl::StatusOr<std::string> BuildMessage(const Draft& draft, std::string_view domain);

// Someone else's attachment made fit to send on (forwarding): control characters in the
// file name become '_', and a content type ValidateDraft would refuse becomes
// application/octet-stream, so forwarding a hostile message never fails or injects.
Attachment Forwardable(Attachment attachment);

// The message ids of a References (or In-Reply-To) header value, re-parsed by GMime and
// written back as "<id1> <id2>": whatever else a hostile original put there is dropped.
std::string CleanReferences(std::string_view header_value);

// The From: header fields of a message's source: how many there are and every mailbox
// address in them (groups flattened). Only the header section is parsed.
struct FromHeader {
  int fields = 0;
  std::vector<std::string> addresses;
};
FromHeader ReadFromHeader(std::string_view source);

// Converts bare LF (and lone CR) line ends to CRLF, the form messages are stored in.
std::string ToCrlf(std::string_view text);

}  // namespace penncloud::mail
