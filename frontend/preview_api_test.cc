// What inline=1 may show, type by type (frontend/preview_api.h).
#include "frontend/preview_api.h"

#include "gtest/gtest.h"

namespace penncloud::frontend {
namespace {

TEST(InlineContentTypeTest, TextIsShownAsUtf8PlainText) {
  for (const char* type : {"text/plain", "text/plain; charset=iso-8859-1", "Text/Markdown",
                           "text/csv; header=present", "text/plain; charset=utf-7"}) {
    EXPECT_EQ(InlineContentType(type), "text/plain; charset=utf-8") << type;
  }
}

TEST(InlineContentTypeTest, PdfImagesAudioAndVideoKeepTheirType) {
  EXPECT_EQ(InlineContentType("application/pdf"), "application/pdf");
  EXPECT_EQ(InlineContentType("Application/PDF; x=1"), "application/pdf");
  EXPECT_EQ(InlineContentType("image/png"), "image/png");
  EXPECT_EQ(InlineContentType("image/jpeg; q=1"), "image/jpeg");
  EXPECT_EQ(InlineContentType("video/mp4"), "video/mp4");
  EXPECT_EQ(InlineContentType("audio/mpeg"), "audio/mpeg");
}

TEST(InlineContentTypeTest, AnythingThatCanRunScriptIsDownloaded) {
  for (const char* type :
       {"text/html", "text/html; charset=utf-8", "TEXT/HTML", "image/svg+xml",
        "image/svg+xml; charset=utf-8", "application/xhtml+xml", "application/xml", "text/xml",
        "text/javascript", "application/javascript", "text/css", "application/octet-stream",
        "application/x-shockwave-flash", "multipart/x-mixed-replace", "", ";", "text"}) {
    EXPECT_EQ(InlineContentType(type), std::nullopt) << type;
  }
}

}  // namespace
}  // namespace penncloud::frontend
