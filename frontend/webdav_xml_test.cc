#include "frontend/webdav_xml.h"

#include "gtest/gtest.h"

namespace penncloud::frontend::dav {
namespace {

TEST(WebDavXml, ParsesNamespacedPropfind) {
  auto doc = ParseXml(R"(<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/>)"
                      R"(<x:color xmlns:x="urn:x"/></D:prop></D:propfind>)");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_TRUE(doc->Is("DAV:", "propfind"));
  const XmlElement* prop = doc->Child("DAV:", "prop");
  ASSERT_NE(prop, nullptr);
  ASSERT_EQ(prop->children.size(), 2u);
  EXPECT_TRUE(prop->children[1].Is("urn:x", "color"));
}

TEST(WebDavXml, InnerXmlIsSelfContained) {
  auto doc = ParseXml(
      R"(<a:v xmlns:a="urn:a">x &amp; <b:i xmlns:b="urn:b" b:k="1" n="2">y</b:i><e/></a:v>)");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->inner_xml,
            R"(x &amp; <i xmlns="urn:b" xmlns:a0="urn:b" a0:k="1" n="2">y</i><e xmlns=""/>)");
  // The fragment parses again on its own, inside any wrapper.
  EXPECT_TRUE(ParseXml("<w>" + doc->inner_xml + "</w>").ok());
}

TEST(WebDavXml, RejectsMalformedAndHostileInput) {
  EXPECT_FALSE(ParseXml("<a><b></a>").ok());
  EXPECT_FALSE(ParseXml("").ok());
  EXPECT_FALSE(ParseXml(R"(<D:propfind xmlns:D="DAV:"><x:y xmlns:x=""/></D:propfind>)").ok());
  EXPECT_FALSE(ParseXml("<u:a/>").ok());  // undeclared prefix
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  for (int i = 0; i < 100; ++i) deep += "</a>";
  EXPECT_EQ(ParseXml(deep).status().code(), absl::StatusCode::kInvalidArgument);
  std::string bomb =
      R"(<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">)"
      R"(<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">)"
      R"(<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">)"
      R"(<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">]>)"
      R"(<r>&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;</r>)";
  EXPECT_FALSE(ParseXml(bomb).ok());  // expat's amplification limit stops entity bombs
}

TEST(WebDavXml, Escaping) {
  EXPECT_EQ(XmlEscape("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
  EXPECT_EQ(ElementXml("urn:x", "p", ""), R"(<p xmlns="urn:x"/>)");
  EXPECT_EQ(ElementXml("", "p", "v"), R"(<p xmlns="">v</p>)");
}

// Found by webdav_xml_fuzz: an xml:lang attribute was re-serialized as xmlns:a0 bound to
// the XML namespace, which no parser accepts, so the stored dead property was malformed.
TEST(WebDavXml, XmlLangSurvivesReserialization) {
  auto doc = ParseXml(R"(<a:v xmlns:a="urn:a"><t xml:lang="en" xml:space="preserve">hi</t></a:v>)");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->inner_xml, R"(<t xmlns="" xml:lang="en" xml:space="preserve">hi</t>)");
  EXPECT_TRUE(ParseXml("<w>" + doc->inner_xml + "</w>").ok());
}

// The nesting limit, at its edge: 64 elements deep parse, 65 do not.
TEST(WebDavXml, NestingLimitIsExact) {
  auto nested = [](int depth) {
    std::string doc;
    for (int i = 0; i < depth; ++i) doc += "<a>";
    for (int i = 0; i < depth; ++i) doc += "</a>";
    return doc;
  };
  EXPECT_TRUE(ParseXml(nested(64)).ok());
  auto over = ParseXml(nested(65));
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find("too deep"), std::string::npos);
}

// No XXE: external entities (general or parameter) are never fetched or expanded.
TEST(WebDavXml, ExternalEntitiesAreNotLoaded) {
  for (const char* doc : {
           R"(<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>)",
           R"(<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><r/>)",
           R"(<!DOCTYPE r SYSTEM "file:///etc/passwd"><r>x</r>)",
       }) {
    auto parsed = ParseXml(doc);
    if (parsed.ok()) {
      EXPECT_EQ(parsed->text.find("root"), std::string::npos) << doc;
      EXPECT_EQ(parsed->inner_xml.find("root"), std::string::npos) << doc;
    }
  }
}

}  // namespace
}  // namespace penncloud::frontend::dav
