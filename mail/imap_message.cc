#include "mail/imap_message.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <mutex>

#include "mail/imap_parser.h"
#include "mail/mime.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

void InitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

// Owns a parsed message for the length of one call.
class Parsed {
 public:
  explicit Parsed(std::string_view source) {
    InitOnce();
    source = source.substr(0, MimeParseLength(source));
    GMimeStream* stream = g_mime_stream_mem_new_with_buffer(source.data(), source.size());
    GMimeParser* parser = g_mime_parser_new_with_stream(stream);
    message_ = g_mime_parser_construct_message(parser, nullptr);
    g_object_unref(parser);
    g_object_unref(stream);
  }
  ~Parsed() {
    if (message_ != nullptr) g_object_unref(message_);
  }
  Parsed(const Parsed&) = delete;
  Parsed& operator=(const Parsed&) = delete;
  GMimeMessage* message() const { return message_; }

 private:
  GMimeMessage* message_ = nullptr;
};

std::string Unfold(std::string_view raw) {
  std::string out;
  for (char c : raw) {
    if (c == '\r' || c == '\n') continue;
    out.push_back(c == '\t' ? ' ' : c);
  }
  return std::string(Trim(out));
}

std::string RawHeader(GMimeObject* object, const char* name) {
  GMimeHeaderList* headers = g_mime_object_get_header_list(object);
  GMimeHeader* header = headers ? g_mime_header_list_get_header(headers, name) : nullptr;
  if (header == nullptr) return "";
  const char* raw = g_mime_header_get_raw_value(header);
  return raw ? Unfold(raw) : "";
}

std::string ObjectText(GMimeObject* object) {
  char* text = g_mime_object_to_string(object, nullptr);
  std::string out = text ? text : "";
  g_free(text);
  return ToCrlf(out);
}

// The body of one part as it is encoded in the message: a leaf's content as written, an
// attached message's whole text, a multipart's text after its header.
std::string PartBody(GMimeObject* object) {
  if (GMIME_IS_PART(object)) {
    GMimeDataWrapper* content = g_mime_part_get_content(GMIME_PART(object));
    GMimeStream* stream = content ? g_mime_data_wrapper_get_stream(content) : nullptr;
    if (stream == nullptr) return "";
    g_mime_stream_reset(stream);
    std::string out;
    char buffer[4096];
    ssize_t n;
    while ((n = g_mime_stream_read(stream, buffer, sizeof(buffer))) > 0) {
      out.append(buffer, static_cast<size_t>(n));
    }
    g_mime_stream_reset(stream);
    return ToCrlf(out);
  }
  if (GMIME_IS_MESSAGE_PART(object)) {
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
    return inner ? ObjectText(GMIME_OBJECT(inner)) : "";
  }
  return std::string(BodyOf(ObjectText(object)));
}

using AddressList = google::protobuf::RepeatedPtrField<pb::Envelope::Address>;

void AddAddress(std::string name, std::string mailbox, std::string host, AddressList* out) {
  pb::Envelope::Address* address = out->Add();
  address->set_name(std::move(name));
  address->set_mailbox(std::move(mailbox));
  address->set_host(std::move(host));
}

void AddMailbox(InternetAddressMailbox* box, AddressList* out) {
  const char* name = internet_address_get_name(INTERNET_ADDRESS(box));
  std::string encoded;
  if (name != nullptr && *name != '\0') {
    char* e = g_mime_utils_header_encode_phrase(nullptr, name, nullptr);
    encoded = e ? e : "";
    g_free(e);
  }
  std::string addr = internet_address_mailbox_get_addr(box);
  size_t at = addr.rfind('@');
  std::string local = at == std::string::npos ? addr : addr.substr(0, at);
  std::string domain = at == std::string::npos ? "" : addr.substr(at + 1);
  AddAddress(std::move(encoded), std::move(local), std::move(domain), out);
}

// A group is its start (the group's name), its mailboxes, then its end.
void AddAddresses(InternetAddressList* list, AddressList* out) {
  for (int i = 0; list != nullptr && i < internet_address_list_length(list); ++i) {
    InternetAddress* a = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
      AddMailbox(INTERNET_ADDRESS_MAILBOX(a), out);
    } else if (INTERNET_ADDRESS_IS_GROUP(a)) {
      const char* name = internet_address_get_name(a);
      AddAddress("", name ? name : "", "", out);
      InternetAddressList* members = internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a));
      for (int j = 0; members && j < internet_address_list_length(members); ++j) {
        InternetAddress* m = internet_address_list_get_address(members, j);
        if (INTERNET_ADDRESS_IS_MAILBOX(m)) AddMailbox(INTERNET_ADDRESS_MAILBOX(m), out);
      }
      AddAddress("", "", "", out);
    }
  }
}

bool SameAddresses(const AddressList& a, const AddressList& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.name() == y.name() && x.mailbox() == y.mailbox() && x.host() == y.host();
  });
}

std::string AddressesText(const AddressList& list) {
  if (list.empty()) return "NIL";
  std::string out = "(";
  for (const pb::Envelope::Address& a : list) {
    out += Cat("(", ImapNString(a.name()), " NIL ", ImapNString(a.mailbox()), " ",
               ImapNString(a.host()), ")");
  }
  return out + ")";
}

std::string Params(GMimeParamList* params) {
  int n = params ? g_mime_param_list_length(params) : 0;
  if (n == 0) return "NIL";
  std::string out = "(";
  for (int i = 0; i < n; ++i) {
    GMimeParam* p = g_mime_param_list_get_parameter_at(params, i);
    if (i > 0) out += ' ';
    out += Cat(ImapString(g_mime_param_get_name(p)), " ",
               ImapString(g_mime_param_get_value(p) ? g_mime_param_get_value(p) : ""));
  }
  return out + ")";
}

std::string Disposition(GMimeObject* object) {
  GMimeContentDisposition* d = g_mime_object_get_content_disposition(object);
  if (d == nullptr) return "NIL";
  return Cat("(", ImapString(g_mime_content_disposition_get_disposition(d)), " ",
             Params(g_mime_content_disposition_get_parameters(d)), ")");
}

int CountLines(std::string_view s) {
  int lines = 0;
  for (char c : s) lines += c == '\n' ? 1 : 0;
  if (!s.empty() && s.back() != '\n') ++lines;
  return lines;
}

std::string Structure(GMimeObject* object, bool extended, int depth) {
  GMimeContentType* type = g_mime_object_get_content_type(object);
  std::string media = type ? g_mime_content_type_get_media_type(type) : "text";
  std::string subtype = type ? g_mime_content_type_get_media_subtype(type) : "plain";
  if (GMIME_IS_MULTIPART(object) && depth < 32) {
    GMimeMultipart* multi = GMIME_MULTIPART(object);
    std::string out = "(";
    int n = g_mime_multipart_get_count(multi);
    for (int i = 0; i < n; ++i) {
      out += Structure(g_mime_multipart_get_part(multi, i), extended, depth + 1);
    }
    if (n == 0) out += "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 0 0)";
    out += Cat(" ", ImapString(subtype));
    if (extended)
      out += Cat(" ", Params(g_mime_content_type_get_parameters(type)), " ", Disposition(object),
                 " NIL NIL");
    return out + ")";
  }
  std::string body = PartBody(object);
  std::string encoding = "7bit";
  if (GMIME_IS_PART(object)) {
    const char* e =
        g_mime_content_encoding_to_string(g_mime_part_get_content_encoding(GMIME_PART(object)));
    if (e != nullptr && *e != '\0') encoding = e;
  }
  std::string out = Cat("(", ImapString(media), " ", ImapString(subtype), " ",
                        Params(type ? g_mime_content_type_get_parameters(type) : nullptr), " ",
                        ImapNString(RawHeader(object, "Content-Id")), " ",
                        ImapNString(RawHeader(object, "Content-Description")), " ",
                        ImapString(encoding), " ", body.size());
  if (GMIME_IS_MESSAGE_PART(object) && depth < 32) {
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
    std::string inner_text = inner ? ObjectText(GMIME_OBJECT(inner)) : "";
    out += Cat(" ", ImapEnvelope(inner_text), " ",
               inner && g_mime_message_get_mime_part(inner)
                   ? Structure(g_mime_message_get_mime_part(inner), extended, depth + 1)
                   : "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 0 0)",
               " ", CountLines(body));
  } else if (EqualsIgnoreCase(media, "text")) {
    out += Cat(" ", CountLines(body));
  }
  if (extended) out += Cat(" NIL ", Disposition(object), " NIL NIL");
  return out + ")";
}

// The object `part` names below `root` (RFC 9051 6.4.5), or nullptr.
GMimeObject* FindPart(GMimeObject* root, const std::vector<int>& part) {
  GMimeObject* at = root;
  for (size_t i = 0; i < part.size(); ++i) {
    if (at == nullptr) return nullptr;
    if (GMIME_IS_MESSAGE_PART(at)) {
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(at));
      at = inner ? g_mime_message_get_mime_part(inner) : nullptr;
      if (at == nullptr) return nullptr;
    }
    if (GMIME_IS_MULTIPART(at)) {
      GMimeMultipart* multi = GMIME_MULTIPART(at);
      if (part[i] < 1 || part[i] > g_mime_multipart_get_count(multi)) return nullptr;
      at = g_mime_multipart_get_part(multi, part[i] - 1);
    } else if (part[i] != 1) {
      return nullptr;  // a single part has only part 1: itself
    }
  }
  return at;
}

std::string FilterFields(std::string_view header, const std::vector<std::string>& fields,
                         bool keep) {
  std::string out;
  bool keeping = false;
  while (!header.empty()) {
    size_t end = header.find('\n');
    std::string_view line =
        header.substr(0, end == std::string_view::npos ? header.size() : end + 1);
    header.remove_prefix(line.size());
    if (Trim(line).empty()) break;
    if (line.front() != ' ' && line.front() != '\t') {
      std::string name(Trim(line.substr(0, line.find(':'))));
      bool listed = false;
      for (const std::string& f : fields) listed = listed || EqualsIgnoreCase(f, name);
      keeping = listed == keep;
    }
    if (keeping) out += line;
  }
  return out + "\r\n";
}

std::string Cut(std::string_view whole, const SectionSpec& section) {
  if (section.text == "HEADER" || section.text == "MIME") return std::string(HeaderBlock(whole));
  if (section.text == "HEADER.FIELDS")
    return FilterFields(HeaderBlock(whole), section.fields, true);
  if (section.text == "HEADER.FIELDS.NOT") {
    return FilterFields(HeaderBlock(whole), section.fields, false);
  }
  if (section.text == "TEXT") return std::string(BodyOf(whole));
  return std::string(whole);
}

}  // namespace

std::string_view HeaderBlock(std::string_view source) {
  size_t end = source.find("\r\n\r\n");
  if (end != std::string_view::npos) return source.substr(0, end + 4);
  end = source.find("\n\n");
  if (end != std::string_view::npos) return source.substr(0, end + 2);
  return source;
}

std::string_view BodyOf(std::string_view source) {
  return source.substr(HeaderBlock(source).size());
}

std::optional<std::string> MessageSection(std::string_view source, const SectionSpec& section) {
  if (section.part.empty()) return Cut(source, section);
  Parsed parsed(source);
  if (parsed.message() == nullptr) return std::nullopt;
  GMimeObject* root = g_mime_message_get_mime_part(parsed.message());
  GMimeObject* part = FindPart(root, section.part);
  if (part == nullptr) return std::nullopt;
  if (section.text.empty()) {
    // A single-part message's part 1 is its body: the stored bytes exactly.
    if (part == root && !GMIME_IS_MULTIPART(root)) return std::string(BodyOf(source));
    return PartBody(part);
  }
  if (section.text == "MIME") return std::string(HeaderBlock(ObjectText(part)));
  // HEADER/TEXT of a part are those of the message it holds (message/rfc822).
  if (!GMIME_IS_MESSAGE_PART(part)) return std::nullopt;
  return Cut(PartBody(part), section);
}

BinarySection DecodedSection(std::string_view source, const std::vector<int>& part) {
  if (part.empty()) return {std::string(source)};
  Parsed parsed(source);
  if (parsed.message() == nullptr) return {};
  GMimeObject* object = FindPart(g_mime_message_get_mime_part(parsed.message()), part);
  if (object == nullptr) return {};
  if (!GMIME_IS_PART(object)) return {MessageSection(source, SectionSpec{part, "", {}})};
  GMimePart* leaf = GMIME_PART(object);
  std::string declared = RawHeader(object, "Content-Transfer-Encoding");
  if (!declared.empty() &&
      g_mime_content_encoding_from_string(declared.c_str()) == GMIME_CONTENT_ENCODING_DEFAULT) {
    return {std::nullopt, true};
  }
  GMimeDataWrapper* content = g_mime_part_get_content(leaf);
  if (content == nullptr) return {std::string()};
  GMimeStream* out = g_mime_stream_mem_new();
  g_mime_data_wrapper_write_to_stream(content, out);  // decodes the transfer encoding
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
  std::string decoded(reinterpret_cast<const char*>(bytes->data), bytes->len);
  g_object_unref(out);
  return {std::move(decoded)};
}

namespace {

pb::Envelope EnvelopeOf(const Parsed& parsed) {
  pb::Envelope envelope;
  GMimeMessage* m = parsed.message();
  if (m == nullptr) return envelope;
  GMimeObject* o = GMIME_OBJECT(m);
  envelope.set_date(RawHeader(o, "Date"));
  envelope.set_subject(RawHeader(o, "Subject"));
  AddAddresses(g_mime_message_get_from(m), envelope.mutable_from());
  AddAddresses(g_mime_message_get_sender(m), envelope.mutable_sender());
  AddAddresses(g_mime_message_get_reply_to(m), envelope.mutable_reply_to());
  AddAddresses(g_mime_message_get_to(m), envelope.mutable_to());
  AddAddresses(g_mime_message_get_cc(m), envelope.mutable_cc());
  AddAddresses(g_mime_message_get_bcc(m), envelope.mutable_bcc());
  if (SameAddresses(envelope.sender(), envelope.from())) envelope.clear_sender();
  if (SameAddresses(envelope.reply_to(), envelope.from())) envelope.clear_reply_to();
  envelope.set_in_reply_to(RawHeader(o, "In-Reply-To"));
  envelope.set_message_id(RawHeader(o, "Message-Id"));
  return envelope;
}

std::string ImapBodyStructure(const Parsed& parsed, std::string_view source, bool extended) {
  GMimeObject* root = parsed.message() ? g_mime_message_get_mime_part(parsed.message()) : nullptr;
  if (root == nullptr) {
    return Cat("(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" ",
               BodyOf(source).size(), " ", CountLines(BodyOf(source)), ")");
  }
  return Structure(root, extended, 0);
}

}  // namespace

pb::Envelope EnvelopeOf(std::string_view source) { return EnvelopeOf(Parsed(source)); }

std::string ImapEnvelope(const pb::Envelope& e) {
  std::string from = AddressesText(e.from());
  // RFC 9051 7.5.2: Sender and Reply-To default to From.
  std::string sender = e.sender().empty() ? from : AddressesText(e.sender());
  std::string reply_to = e.reply_to().empty() ? from : AddressesText(e.reply_to());
  return Cat("(", ImapNString(e.date()), " ", ImapNString(e.subject()), " ", from, " ", sender, " ",
             reply_to, " ", AddressesText(e.to()), " ", AddressesText(e.cc()), " ",
             AddressesText(e.bcc()), " ", ImapNString(e.in_reply_to()), " ",
             ImapNString(e.message_id()), ")");
}

std::string ImapEnvelope(std::string_view source) { return ImapEnvelope(EnvelopeOf(source)); }

std::string ImapBodyStructure(std::string_view source, bool extended) {
  return ImapBodyStructure(Parsed(source), source, extended);
}

void KeepImapViews(std::string_view source, pb::MessageMeta* meta) {
  Parsed parsed(source);
  *meta->mutable_envelope() = EnvelopeOf(parsed);
  meta->set_body_structure(ImapBodyStructure(parsed, source, /*extended=*/true));
}

}  // namespace penncloud::mail
