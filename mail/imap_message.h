// What IMAP FETCH shows of one stored message (RFC 9051 7.5.2): its ENVELOPE and
// BODYSTRUCTURE, and the bytes of a BODY[section]. GMime finds the MIME structure; the
// top level's HEADER, TEXT and whole source are cut from the stored bytes exactly, so
// RFC822.SIZE and BODY[] always agree.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/mail.pb.h"

namespace penncloud::mail {

// A BODY[...] section: part numbers ("1.2"), then "", HEADER, HEADER.FIELDS,
// HEADER.FIELDS.NOT, TEXT or MIME (upper case).
struct SectionSpec {
  std::vector<int> part;
  std::string text;
  std::vector<std::string> fields;  // for HEADER.FIELDS[.NOT], upper case
};

// The section's bytes, or nullopt if the message has no such part.
std::optional<std::string> MessageSection(std::string_view source, const SectionSpec& section);

// A BINARY[part] section (RFC 3516): a leaf part's content with its
// Content-Transfer-Encoding undone (GMime's decoder), the whole message for no part
// numbers, a container's bytes as encoded. `unknown_encoding` is set (and `bytes` empty)
// for a transfer encoding GMime does not know, which IMAP answers NO [UNKNOWN-CTE].
struct BinarySection {
  std::optional<std::string> bytes;  // nullopt: no such part
  bool unknown_encoding = false;
};
BinarySection DecodedSection(std::string_view source, const std::vector<int>& part);

// The parts of a message's ENVELOPE, parsed from its source: computed once when the
// message is stored (MailStore keeps it in the entry).
pb::Envelope EnvelopeOf(std::string_view source);
// The ENVELOPE parenthesized list of kept parts, or of a source (the same bytes as of the
// parts EnvelopeOf finds in it).
std::string ImapEnvelope(const pb::Envelope& envelope);
std::string ImapEnvelope(std::string_view source);
// The BODYSTRUCTURE parenthesized list (extensible form when `extended`).
std::string ImapBodyStructure(std::string_view source, bool extended);

// What FETCH answers of a message without its source, from one parse of it: sets the
// entry's envelope and body_structure (MailStore keeps them when it stores the message).
void KeepImapViews(std::string_view source, pb::MessageMeta* meta);

// The source's header block (through its blank line) and its body.
std::string_view HeaderBlock(std::string_view source);
std::string_view BodyOf(std::string_view source);

}  // namespace penncloud::mail
