// The WebDAV XML reader (frontend/webdav_xml.h) on arbitrary documents. A parsed element's
// inner_xml is stored as a dead property and pasted into later responses, so it must be a
// well-formed fragment on its own: wrapped in any element it parses again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "frontend/webdav_xml.h"
#include "fuzz/check.h"

namespace {

size_t Depth(const penncloud::frontend::dav::XmlElement& e) {
  size_t deepest = 0;
  for (const auto& c : e.children) deepest = std::max(deepest, Depth(c));
  return deepest + 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace penncloud::frontend::dav;
  std::string_view doc(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseXml(doc);
  if (!parsed.ok()) return 0;
  FUZZ_CHECK(Depth(*parsed) <= 64);
  for (const auto& child : parsed->children) {
    auto again = ParseXml("<w>" + child.inner_xml + "</w>");
    FUZZ_CHECK(again.ok());
  }
  auto whole = ParseXml("<w>" + parsed->inner_xml + "</w>");
  FUZZ_CHECK(whole.ok());
  // Escaped text is safe inside an element.
  FUZZ_CHECK(ParseXml("<t>" + XmlEscape(parsed->text) + "</t>").ok());
  return 0;
}
