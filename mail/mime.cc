#include "mail/mime.h"

#include <gmime/gmime.h>

#include <mutex>

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

}  // namespace

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

ParsedMessage ParseMessage(std::string_view source) {
  InitGMime();
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
  g_mime_message_foreach(message, VisitPart, &out);
  g_object_unref(message);
  return out;
}

std::string BuildMessage(const Draft& draft, std::string_view domain) {
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
  add(GMIME_ADDRESS_TYPE_FROM, draft.from);
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
  std::string out = TakeString(g_mime_object_to_string(object, options));
  g_mime_format_options_free(options);
  g_object_unref(message);
  return ToCrlf(out);
}

}  // namespace penncloud::mail
