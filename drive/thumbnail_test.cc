// The decoder in-process: each format, sizes, and the limits that hold before decoding.
#include "drive/thumbnail.h"

#include <chrono>

#include "drive/thumbnail_test_util.h"
#include "gtest/gtest.h"

namespace penncloud::drive {
namespace {

using testing::DeclaredPng;
using testing::ImageSize;
using testing::TestImage;

class ThumbnailTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(InitThumbnailDecoder().ok()); }
};

TEST_F(ThumbnailTest, SniffsOnlyOurFormats) {
  EXPECT_EQ(SniffImageFormat(TestImage(ImageFormat::kJpeg, 8, 8)), ImageFormat::kJpeg);
  EXPECT_EQ(SniffImageFormat(TestImage(ImageFormat::kPng, 8, 8)), ImageFormat::kPng);
  EXPECT_EQ(SniffImageFormat(TestImage(ImageFormat::kWebp, 8, 8)), ImageFormat::kWebp);
  EXPECT_EQ(SniffImageFormat(TestImage(ImageFormat::kGif, 8, 8)), ImageFormat::kGif);
  EXPECT_EQ(SniffImageFormat("<svg xmlns='http://www.w3.org/2000/svg'/>"), std::nullopt);
  EXPECT_EQ(SniffImageFormat("RIFF\0\0\0\0WAVE"), std::nullopt);
  EXPECT_EQ(SniffImageFormat("\xFF\xD8"), std::nullopt);  // shorter than any magic
}

TEST_F(ThumbnailTest, EachFormatShrinksToTheLongestSide) {
  for (ImageFormat f :
       {ImageFormat::kJpeg, ImageFormat::kPng, ImageFormat::kWebp, ImageFormat::kGif}) {
    SCOPED_TRACE(static_cast<int>(f));
    auto thumb = MakeThumbnail(TestImage(f, 640, 480), 256, DecodeLimits{});
    ASSERT_TRUE(thumb.ok()) << thumb.status();
    EXPECT_EQ(SniffImageFormat(*thumb), ImageFormat::kJpeg);
    EXPECT_EQ(ImageSize(*thumb), std::make_pair(256, 192));
    auto tall = MakeThumbnail(TestImage(f, 300, 900), 64, DecodeLimits{});
    ASSERT_TRUE(tall.ok()) << tall.status();
    EXPECT_EQ(ImageSize(*tall), std::make_pair(21, 64));
  }
}

TEST_F(ThumbnailTest, NeverEnlarges) {
  auto thumb = MakeThumbnail(TestImage(ImageFormat::kPng, 100, 40), 512, DecodeLimits{});
  ASSERT_TRUE(thumb.ok()) << thumb.status();
  EXPECT_EQ(ImageSize(*thumb), std::make_pair(100, 40));
}

TEST_F(ThumbnailTest, TransparencyBecomesWhite) {
  auto thumb =
      MakeThumbnail(TestImage(ImageFormat::kPng, 64, 64, /*alpha=*/true), 64, DecodeLimits{});
  ASSERT_TRUE(thumb.ok()) << thumb.status();
  VipsImage* image = vips_image_new_from_buffer(thumb->data(), thumb->size(), "", nullptr);
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(vips_image_get_bands(image), 3);  // JPEG: no alpha left
  g_object_unref(image);
}

TEST_F(ThumbnailTest, SizeOutsideTheRangeIsRefused) {
  std::string png = TestImage(ImageFormat::kPng, 64, 64);
  EXPECT_TRUE(absl::IsInvalidArgument(MakeThumbnail(png, 31, DecodeLimits{}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(MakeThumbnail(png, 1025, DecodeLimits{}).status()));
  EXPECT_TRUE(MakeThumbnail(png, 32, DecodeLimits{}).ok());
  EXPECT_TRUE(MakeThumbnail(png, 1024, DecodeLimits{}).ok());
}

// A 60-byte PNG declaring 50000 x 50000 (2.5 gigapixels, 7.5 GB of RGB) is refused from
// its header. Were it decoded, its empty image stream would fail as undecodable
// (kInvalidArgument) instead, after libpng had asked for rows of 150 KB each.
TEST_F(ThumbnailTest, DecompressionBombIsRefusedFromItsHeader) {
  std::string bomb = DeclaredPng(50000, 50000);
  ASSERT_LT(bomb.size(), 100u);
  auto start = std::chrono::steady_clock::now();
  auto thumb = MakeThumbnail(bomb, 256, DecodeLimits{});
  EXPECT_TRUE(absl::IsResourceExhausted(thumb.status())) << thumb.status();
  EXPECT_NE(thumb.status().message().find("50000x50000"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  // The limit is exact: one pixel over is refused, the limit itself passes the check.
  EXPECT_TRUE(absl::IsResourceExhausted(
      MakeThumbnail(DeclaredPng(1001, 1000), 256, DecodeLimits{.max_pixels = 1'000'999}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(  // passes the check, then has no pixels to decode
      MakeThumbnail(DeclaredPng(1000, 1000), 256, DecodeLimits{.max_pixels = 1'000'000}).status()));
}

TEST_F(ThumbnailTest, TruncatedJpegIsUndecodable) {
  std::string jpeg = TestImage(ImageFormat::kJpeg, 640, 480);
  ASSERT_TRUE(MakeThumbnail(jpeg, 128, DecodeLimits{}).ok());
  auto thumb = MakeThumbnail(jpeg.substr(0, jpeg.size() / 2), 128, DecodeLimits{});
  EXPECT_TRUE(absl::IsInvalidArgument(thumb.status())) << thumb.status();
  auto header_only = MakeThumbnail(jpeg.substr(0, 20), 128, DecodeLimits{});
  EXPECT_TRUE(absl::IsInvalidArgument(header_only.status())) << header_only.status();
}

TEST_F(ThumbnailTest, BytesThatAreNotWhatTheirMagicSaysAreRefused) {
  EXPECT_TRUE(absl::IsUnimplemented(MakeThumbnail("hello, world", 64, DecodeLimits{}).status()));
  // A PNG signature in front of a JPEG: no loader is tried beyond the sniffed one.
  std::string mixed = std::string("\x89PNG\r\n\x1A\n", 8) + TestImage(ImageFormat::kJpeg, 64, 64);
  EXPECT_TRUE(absl::IsInvalidArgument(MakeThumbnail(mixed, 64, DecodeLimits{}).status()));
}

}  // namespace
}  // namespace penncloud::drive
