// The small XML document model WebDAV needs: PROPFIND / PROPPATCH request bodies parsed
// with expat (namespace-aware), and escaping for the responses we write.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace penncloud::frontend::dav {

struct XmlElement {
  std::string ns;    // namespace URI ("" if none)
  std::string name;  // local name
  std::vector<XmlElement> children;
  // The element's content re-serialized as a self-contained fragment: every element
  // declares its own namespace, so the fragment stays well-formed wherever it is pasted
  // (this is what a dead property's value is stored as).
  std::string inner_xml;
  // Direct character data (concatenated).
  std::string text;

  bool Is(std::string_view ns_, std::string_view name_) const { return ns == ns_ && name == name_; }
  const XmlElement* Child(std::string_view ns_, std::string_view name_) const;
};

// Parses a whole document; kInvalidArgument if it is not well-formed namespaced XML
// (including an undeclared or emptied prefix) or nests deeper than 64 elements.
absl::StatusOr<XmlElement> ParseXml(std::string_view document);

// Escapes text for element content and attribute values.
std::string XmlEscape(std::string_view text);

// `<name xmlns="ns">inner</name>` (or an empty-element tag when inner is empty).
std::string ElementXml(std::string_view ns, std::string_view name, std::string_view inner);

}  // namespace penncloud::frontend::dav
