#include "frontend/webdav_xml.h"

#include <expat.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace penncloud::frontend::dav {
namespace {

constexpr char kSeparator = '\n';  // expat joins "namespace<sep>local"; '\n' is never in a URI
constexpr size_t kMaxDepth = 64;
constexpr std::string_view kXmlNamespace = "http://www.w3.org/XML/1998/namespace";

void SplitName(const char* qualified, std::string* ns, std::string* name) {
  std::string_view q(qualified);
  size_t sep = q.find(kSeparator);
  if (sep == std::string_view::npos) {
    ns->clear();
    *name = std::string(q);
  } else {
    *ns = std::string(q.substr(0, sep));
    *name = std::string(q.substr(sep + 1));
  }
}

struct ParseState {
  std::vector<XmlElement> stack;  // open elements; stack[0] is a synthetic document node
  std::vector<std::string> open_tags;
  bool too_deep = false;
  XML_Parser parser = nullptr;
};

void OnStart(void* data, const char* qname, const char** attrs) {
  auto* st = static_cast<ParseState*>(data);
  if (st->stack.size() > kMaxDepth) {
    st->too_deep = true;
    XML_StopParser(st->parser, XML_FALSE);
    return;
  }
  XmlElement e;
  SplitName(qname, &e.ns, &e.name);
  // Re-serialize the start tag with explicit declarations: the default namespace for the
  // element, numbered prefixes for namespaced attributes.
  std::string tag = absl::StrCat("<", e.name, " xmlns=\"", XmlEscape(e.ns), "\"");
  int prefix = 0;
  for (size_t i = 0; attrs[i] != nullptr; i += 2) {
    std::string ans, aname;
    SplitName(attrs[i], &ans, &aname);
    if (ans.empty()) {
      absl::StrAppend(&tag, " ", aname, "=\"", XmlEscape(attrs[i + 1]), "\"");
    } else if (ans == kXmlNamespace) {
      // xml:lang and xml:space: this namespace may only be written with its own prefix
      // (found by webdav_xml_fuzz: declaring a0 for it made the fragment malformed).
      absl::StrAppend(&tag, " xml:", aname, "=\"", XmlEscape(attrs[i + 1]), "\"");
    } else {
      std::string p = absl::StrCat("a", prefix++);
      absl::StrAppend(&tag, " xmlns:", p, "=\"", XmlEscape(ans), "\" ", p, ":", aname, "=\"",
                      XmlEscape(attrs[i + 1]), "\"");
    }
  }
  st->open_tags.push_back(tag);
  st->stack.push_back(std::move(e));
}

void OnEnd(void* data, const char*) {
  auto* st = static_cast<ParseState*>(data);
  XmlElement e = std::move(st->stack.back());
  st->stack.pop_back();
  std::string tag = std::move(st->open_tags.back());
  st->open_tags.pop_back();
  XmlElement& parent = st->stack.back();
  if (e.inner_xml.empty()) {
    absl::StrAppend(&parent.inner_xml, tag, "/>");
  } else {
    absl::StrAppend(&parent.inner_xml, tag, ">", e.inner_xml, "</", e.name, ">");
  }
  parent.children.push_back(std::move(e));
}

void OnText(void* data, const char* s, int len) {
  auto* st = static_cast<ParseState*>(data);
  std::string_view text(s, static_cast<size_t>(len));
  XmlElement& top = st->stack.back();
  top.text += text;
  top.inner_xml += XmlEscape(text);
}

}  // namespace

const XmlElement* XmlElement::Child(std::string_view ns_, std::string_view name_) const {
  for (const auto& c : children) {
    if (c.Is(ns_, name_)) return &c;
  }
  return nullptr;
}

absl::StatusOr<XmlElement> ParseXml(std::string_view document) {
  std::unique_ptr<XML_ParserStruct, decltype(&XML_ParserFree)> parser(
      XML_ParserCreateNS("UTF-8", kSeparator), &XML_ParserFree);
  if (!parser) return absl::ResourceExhaustedError("out of memory");
  ParseState st;
  st.parser = parser.get();
  st.stack.emplace_back();
  XML_SetUserData(parser.get(), &st);
  XML_SetElementHandler(parser.get(), OnStart, OnEnd);
  XML_SetCharacterDataHandler(parser.get(), OnText);
  if (XML_Parse(parser.get(), document.data(), static_cast<int>(document.size()), XML_TRUE) !=
      XML_STATUS_OK) {
    if (st.too_deep) return absl::InvalidArgumentError("XML nested too deep");
    return absl::InvalidArgumentError(
        absl::StrCat("malformed XML: ", XML_ErrorString(XML_GetErrorCode(parser.get()))));
  }
  if (st.stack.size() != 1 || st.stack[0].children.size() != 1) {
    return absl::InvalidArgumentError("malformed XML: no root element");
  }
  return std::move(st.stack[0].children[0]);
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string ElementXml(std::string_view ns, std::string_view name, std::string_view inner) {
  std::string n(name);
  std::string out = absl::StrCat("<", n, " xmlns=\"", XmlEscape(ns), "\"");
  if (inner.empty()) return absl::StrCat(out, "/>");
  return absl::StrCat(out, ">", std::string(inner), "</", n, ">");
}

}  // namespace penncloud::frontend::dav
