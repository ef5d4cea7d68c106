#include "frontend/qr_svg.h"

#include <qrencode.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace penncloud::frontend {

absl::StatusOr<std::string> QrSvg(std::string_view text) {
  std::string data(text);  // libqrencode wants a NUL-terminated string
  std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeString8bit(data.c_str(), 0, QR_ECLEVEL_M), &QRcode_free);
  if (code == nullptr) return absl::InvalidArgumentError("text too long for a QR code");
  constexpr int kQuiet = 4;
  const int width = code->width;
  const int size = width + 2 * kQuiet;
  std::string path;
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width; ++x) {
      // Bit 0 of each module byte is "dark"; the other bits say what part of the symbol it is.
      if (code->data[y * width + x] & 1) {
        absl::StrAppend(&path, "M", x + kQuiet, " ", y + kQuiet, "h1v1h-1z");
      }
    }
  }
  return absl::StrCat("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ", size, " ", size,
                      "\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code\">"
                      "<rect width=\"",
                      size, "\" height=\"", size, "\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
                      path, "\"/></svg>");
}

}  // namespace penncloud::frontend
