#include "mail/mime.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

void InitGMime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

// Takes ownership of a g_malloc'ed string.
std::string TakeString(char* s) {
  if (s == nullptr) return "";
  std::string out(s);
  g_free(s);
  return out;
}

std::string Header(GMimeObject* object, const char* name) {
  const char* v = g_mime_object_get_header(object, name);
  return v == nullptr ? "" : v;
}

std::string AddressList(InternetAddressList* list) {
  if (list == nullptr || internet_address_list_length(list) == 0) return "";
  return TakeString(internet_address_list_to_string(list, nullptr, FALSE));
}

std::string DecodedContent(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (content == nullptr) return "";
  GMimeStream* mem = g_mime_stream_mem_new();
  g_mime_data_wrapper_write_to_stream(content, mem);
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
  std::string out(reinterpret_cast<const char*>(bytes->data), bytes->len);
  g_object_unref(mem);
  return out;
}

void VisitPart(GMimeObject* /*parent*/, GMimeObject* object, gpointer data) {
  auto* out = static_cast<ParsedMessage*>(data);
  if (GMIME_IS_MESSAGE_PART(object)) {
    // A forwarded message travels as an attachment of its own.
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
    std::string source =
        inner == nullptr ? "" : TakeString(g_mime_object_to_string(GMIME_OBJECT(inner), nullptr));
    out->attachments.push_back({"message.eml", "message/rfc822", std::move(source)});
    return;
  }
  if (!GMIME_IS_PART(object)) return;  // multiparts: their children are visited too
  GMimePart* part = GMIME_PART(object);
  std::string type =
      TakeString(g_mime_content_type_get_mime_type(g_mime_object_get_content_type(object)));
  bool attachment = g_mime_part_is_attachment(part);
  if (!attachment && GMIME_IS_TEXT_PART(object)) {
    std::string* body = nullptr;
    if (type == "text/plain" && out->text.empty()) body = &out->text;
    if (type == "text/html" && out->html.empty()) body = &out->html;
    if (body != nullptr) {
      *body = TakeString(g_mime_text_part_get_text(GMIME_TEXT_PART(object)));
      return;
    }
  }
  const char* filename = g_mime_part_get_filename(part);
  out->attachments.push_back(
      {filename == nullptr ? "attachment" : filename, type, DecodedContent(part)});
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

// A value that may go into a header: nothing that ends the line or the string.
bool HeaderSafe(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// Appends every mailbox address of `list` (members of groups too).
void CollectAddresses(InternetAddressList* list, std::vector<std::string>* out) {
  if (list == nullptr) return;
  for (int i = 0; i < internet_address_list_length(list); ++i) {
    InternetAddress* address = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(address)) {
      const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address));
      out->push_back(addr == nullptr ? "" : addr);
    } else if (INTERNET_ADDRESS_IS_GROUP(address)) {
      CollectAddresses(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(address)), out);
    }
  }
}

// Whether `address` is one plain mailbox as GMime reads it ("a@b", no name, no group).
bool SingleMailbox(const std::string& address) {
  InternetAddressList* list = internet_address_list_parse(nullptr, address.c_str());
  if (list == nullptr) return false;
  std::vector<std::string> found;
  CollectAddresses(list, &found);
  bool one = internet_address_list_length(list) == 1 && found.size() == 1 &&
             ToLower(found[0]) == ToLower(address);
  g_object_unref(list);
  return one;
}

// RFC 2045 "type/subtype" with token characters only (no parameters, no spaces).
bool ContentTypeSafe(std::string_view type) {
  constexpr std::string_view kSpecials = "()<>@,;:\\\"/[]?= ";
  size_t slash = type.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == type.size()) return false;
  for (size_t i = 0; i < type.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(type[i]);
    if (i == slash) continue;
    if (c <= 0x20 || c >= 0x7f || kSpecials.find(static_cast<char>(c)) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::Status ValidateDraft(const Draft& draft) {
  InitGMime();
  auto bad = [](std::string_view what) {
    return absl::InvalidArgumentError(Cat(what, " may not contain CR, LF or NUL"));
  };
  if (!HeaderSafe(draft.from) || !SingleMailbox(draft.from)) {
    return absl::InvalidArgumentError("bad sender address");
  }
  for (const std::vector<std::string>* list : {&draft.to, &draft.cc}) {
    for (const std::string& address : *list) {
      if (!HeaderSafe(address) || !SingleMailbox(address)) {
        return absl::InvalidArgumentError(Cat("bad address: ", address));
      }
    }
  }
  if (!HeaderSafe(draft.from_name)) return bad("the sender's name");
  if (!HeaderSafe(draft.subject)) return bad("the subject");
  if (!HeaderSafe(draft.in_reply_to) || !HeaderSafe(draft.references)) {
    return bad("In-Reply-To and References");
  }
  for (const Attachment& a : draft.attachments) {
    if (!HeaderSafe(a.filename)) return bad("an attachment's file name");
    if (!a.content_type.empty() && !ContentTypeSafe(a.content_type)) {
      return absl::InvalidArgumentError(
          "an attachment's content type must be type/subtype (e.g. application/pdf)");
    }
  }
  return absl::OkStatus();
}

Attachment Forwardable(Attachment attachment) {
  for (char& c : attachment.filename) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '_';
  }
  if (!ContentTypeSafe(attachment.content_type)) {
    attachment.content_type = "application/octet-stream";
  }
  return attachment;
}

std::string CleanReferences(std::string_view header_value) {
  InitGMime();
  std::string text(header_value);
  GMimeReferences* refs = g_mime_references_parse(nullptr, text.c_str());
  if (refs == nullptr) return "";
  std::string out;
  for (int i = 0; i < g_mime_references_length(refs); ++i) {
    std::string_view id = g_mime_references_get_message_id(refs, i);
    bool printable = !id.empty();
    for (char c : id) printable = printable && c > 0x20 && c < 0x7f && c != '<' && c != '>';
    if (printable) out += Cat(out.empty() ? "" : " ", "<", id, ">");
  }
  g_mime_references_free(refs);
  return out;
}

// The From fields of a header section, with their folded lines, as a header section of
// their own; `*fields` counts them all, but only the first few are kept. For sections too
// big to hand GMime whole.
std::string FromFieldsOnly(std::string_view headers, int* fields) {
  constexpr int kKept = 4;  // more than one is refused anyway
  std::string out;
  bool in_from = false;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(headers.data(), headers.size()), "\r\n")) {
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      if (in_from) absl::StrAppend(&out, line, "\r\n");
      continue;
    }
    absl::string_view name = line.substr(0, line.find(':'));
    absl::string_view trimmed = absl::StripTrailingAsciiWhitespace(name);
    in_from = name.size() < line.size() &&
              EqualsIgnoreCase(std::string_view(trimmed.data(), trimmed.size()), "From");
    if (!in_from) continue;
    if (++*fields > kKept) {
      in_from = false;
      continue;
    }
    // Named plainly, so that GMime files "FROM :" under From as a mail client would.
    absl::StrAppend(&out, "From:", line.substr(name.size() + 1), "\r\n");
  }
  return out;
}

FromHeader ReadFromHeader(std::string_view source) {
  InitGMime();
  // Only the header section: a big body need not be parsed to read one header.
  size_t end = source.find("\r\n\r\n");
  std::string headers(source.substr(0, end == std::string_view::npos ? source.size() : end));
  FromHeader out;
  int from_fields = 0;
  if (MimeParseLength(headers) < headers.size()) {
    // Too many fields to hand GMime whole; every From field is still counted and read, so
    // one hidden past the limit cannot slip by a check of the sender.
    headers = FromFieldsOnly(headers, &from_fields);
  }
  headers += "\r\n\r\n";
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(headers.data(), headers.size());
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  g_object_unref(stream);
  GMimeMessage* message = g_mime_parser_construct_message(parser, nullptr);
  g_object_unref(parser);
  if (message == nullptr) {
    out.fields = from_fields;
    return out;
  }
  GMimeHeaderList* list = g_mime_object_get_header_list(GMIME_OBJECT(message));
  for (int i = 0; i < g_mime_header_list_get_count(list); ++i) {
    GMimeHeader* header = g_mime_header_list_get_header_at(list, i);
    if (!EqualsIgnoreCase(g_mime_header_get_name(header), "From")) continue;
    ++out.fields;
    const char* raw = g_mime_header_get_raw_value(header);
    InternetAddressList* addresses = internet_address_list_parse(nullptr, raw ? raw : "");
    CollectAddresses(addresses, &out.addresses);
    if (addresses != nullptr) g_object_unref(addresses);
  }
  g_object_unref(message);
  out.fields = std::max(out.fields, from_fields);
  return out;
}

std::string ToCrlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 40);
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

}  // namespace

size_t MimeParseLength(std::string_view source) {
  size_t fields = 0, containers = 0;
  bool in_header = true;          // the message's own header block comes first
  bool content_type = false;      // the field being read (with its folded lines) is Content-Type
  bool container = false;         // ...and names a multipart or message/* type
  bool attached_message = false;  // this block's Content-Type is message/*
  size_t pos = 0;
  while (pos < source.size()) {
    size_t end = source.find('\n', pos);
    size_t next = end == std::string_view::npos ? source.size() : end + 1;
    std::string_view line = source.substr(pos, next - pos);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (!in_header) {
      in_header = line.starts_with("--");  // a boundary may open a part's header block
    } else if (line.empty()) {
      // An attached message's own header block follows its part's header block.
      in_header = attached_message;
      attached_message = content_type = container = false;
    } else {
      bool folded = line.front() == ' ' || line.front() == '\t';
      if (!folded) {
        if (++fields > kMaxMimeHeaderFields) return pos;
        content_type = StartsWithNoCase(line, "content-type:");
        container = false;
      }
      if (content_type && !container) {
        std::string lower = ToLower(line);
        if (lower.find("multipart/") != std::string::npos ||
            lower.find("message/") != std::string::npos) {
          container = true;
          attached_message = lower.find("message/") != std::string::npos;
          if (++containers > kMaxMimeContainers) return pos;
        }
      }
    }
    pos = next;
  }
  return source.size();
}

ParsedMessage ParseMessage(std::string_view full_source) {
  InitGMime();
  const std::string_view source = full_source.substr(0, MimeParseLength(full_source));
  ParsedMessage out;
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(source.data(), source.size());
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  g_object_unref(stream);
  GMimeMessage* message = g_mime_parser_construct_message(parser, nullptr);
  g_object_unref(parser);
  if (message == nullptr) {
    out.text = std::string(source);
    return out;
  }
  GMimeObject* object = GMIME_OBJECT(message);
  out.from = AddressList(g_mime_message_get_from(message));
  out.to = AddressList(g_mime_message_get_to(message));
  out.cc = AddressList(g_mime_message_get_cc(message));
  const char* subject = g_mime_message_get_subject(message);
  out.subject = subject == nullptr ? "" : subject;
  out.date = Header(object, "Date");
  const char* id = g_mime_message_get_message_id(message);
  out.message_id = id == nullptr ? "" : id;
  out.references = Header(object, "References");
  out.in_reply_to = Header(object, "In-Reply-To");
  g_mime_message_foreach(message, VisitPart, &out);
  g_object_unref(message);
  return out;
}

absl::StatusOr<std::string> BuildMessage(const Draft& draft, std::string_view domain) {
  if (absl::Status s = ValidateDraft(draft); !s.ok()) return s;
  InitGMime();
  GMimeMessage* message = g_mime_message_new(TRUE);
  GMimeObject* object = GMIME_OBJECT(message);
  auto add = [&](GMimeAddressType type, const std::string& list) {
    if (list.empty()) return;
    InternetAddressList* parsed = internet_address_list_parse(nullptr, list.c_str());
    if (parsed == nullptr) return;
    internet_address_list_append(g_mime_message_get_addresses(message, type), parsed);
    g_object_unref(parsed);
  };
  if (draft.from_name.empty()) {
    add(GMIME_ADDRESS_TYPE_FROM, draft.from);
  } else {
    // GMime quotes or encodes the name as it needs (RFC 5322 phrase, RFC 2047 words).
    InternetAddress* sender =
        internet_address_mailbox_new(draft.from_name.c_str(), draft.from.c_str());
    internet_address_list_add(g_mime_message_get_addresses(message, GMIME_ADDRESS_TYPE_FROM),
                              sender);
    g_object_unref(sender);
  }
  add(GMIME_ADDRESS_TYPE_TO, Join(draft.to));
  add(GMIME_ADDRESS_TYPE_CC, Join(draft.cc));
  g_mime_message_set_subject(message, draft.subject.c_str(), "utf-8");
  GDateTime* now = g_date_time_new_now_utc();
  g_mime_message_set_date(message, now);
  g_date_time_unref(now);
  std::string fqdn(domain);
  char* message_id = g_mime_utils_generate_message_id(fqdn.c_str());
  g_mime_message_set_message_id(message, message_id);
  g_free(message_id);
  if (!draft.in_reply_to.empty()) {
    g_mime_object_set_header(object, "In-Reply-To", draft.in_reply_to.c_str(), nullptr);
  }
  if (!draft.references.empty()) {
    g_mime_object_set_header(object, "References", draft.references.c_str(), nullptr);
  }

  GMimeTextPart* text = g_mime_text_part_new_with_subtype("plain");
  g_mime_text_part_set_text(text, draft.text.c_str());
  g_mime_part_set_content_encoding(
      GMIME_PART(text),
      g_mime_part_get_best_content_encoding(GMIME_PART(text), GMIME_ENCODING_CONSTRAINT_7BIT));
  if (draft.attachments.empty()) {
    g_mime_message_set_mime_part(message, GMIME_OBJECT(text));
  } else {
    GMimeMultipart* mixed = g_mime_multipart_new_with_subtype("mixed");
    g_mime_multipart_add(mixed, GMIME_OBJECT(text));
    for (const Attachment& a : draft.attachments) {
      std::string type = a.content_type.empty() ? "application/octet-stream" : a.content_type;
      std::string major = type.substr(0, type.find('/'));
      std::string minor =
          type.find('/') == std::string::npos ? "octet-stream" : type.substr(type.find('/') + 1);
      GMimePart* part = g_mime_part_new_with_type(major.c_str(), minor.c_str());
      g_mime_part_set_filename(part, a.filename.c_str());
      GMimeStream* stream = g_mime_stream_mem_new_with_buffer(a.data.data(), a.data.size());
      GMimeDataWrapper* wrapper =
          g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
      g_mime_part_set_content(part, wrapper);
      g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
      g_object_unref(wrapper);
      g_object_unref(stream);
      g_mime_multipart_add(mixed, GMIME_OBJECT(part));
      g_object_unref(part);
    }
    g_mime_message_set_mime_part(message, GMIME_OBJECT(mixed));
    g_object_unref(mixed);
  }
  g_object_unref(text);

  GMimeFormatOptions* options = g_mime_format_options_new();
  g_mime_format_options_set_newline_format(options, GMIME_NEWLINE_FORMAT_DOS);
  // Non-ASCII file names as RFC 2231 parameters (filename*=utf-8''...), which every
  // current client reads, rather than RFC 2047 words, which the RFCs forbid in parameters.
  g_mime_format_options_set_param_encoding_method(options, GMIME_PARAM_ENCODING_METHOD_RFC2231);
  std::string out = TakeString(g_mime_object_to_string(object, options));
  g_mime_format_options_free(options);
  g_object_unref(message);
  return ToCrlf(out);
}

}  // namespace penncloud::mail
