// A QR code as an SVG image, for the two-factor enrollment page: the otpauth:// URI an
// authenticator app scans. Debian's libqrencode makes the symbol (version, masking, error
// correction); this only draws its modules as one SVG path, so the page needs no script
// library and the secret never leaves the server for a third party to render.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace penncloud::frontend {

// Black modules on white with the standard four-module quiet zone, error correction level
// M, scaled by the viewBox (crisp at any size). kInvalidArgument if `text` does not fit.
absl::StatusOr<std::string> QrSvg(std::string_view text);

}  // namespace penncloud::frontend
