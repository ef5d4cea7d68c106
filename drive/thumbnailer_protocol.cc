#include "drive/thumbnailer_protocol.h"

#include "absl/strings/str_cat.h"

namespace penncloud::drive {
namespace {

std::vector<std::string> LimitArgs(const ThumbnailerLimits& limits) {
  return {absl::StrCat("--address_space_bytes=", limits.address_space_bytes),
          absl::StrCat("--cpu_seconds=", limits.cpu_seconds),
          absl::StrCat("--max_input_bytes=", limits.max_input_bytes),
          absl::StrCat("--max_pixels=", limits.max_pixels)};
}

}  // namespace

int ThumbnailerExitFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kThumbnailerOk;
    case absl::StatusCode::kUnimplemented:
      return kThumbnailerNotAnImage;
    case absl::StatusCode::kResourceExhausted:
      return kThumbnailerTooManyPixels;
    case absl::StatusCode::kInvalidArgument:
      return kThumbnailerUndecodable;
    default:
      return kThumbnailerInternal;
  }
}

std::vector<std::string> ThumbnailerArgs(int side, const ThumbnailerLimits& limits) {
  std::vector<std::string> args = {absl::StrCat("--size=", side)};
  for (auto& arg : LimitArgs(limits)) args.push_back(std::move(arg));
  return args;
}

std::vector<std::string> ThumbnailerZygoteArgs(const ThumbnailerLimits& limits) {
  std::vector<std::string> args = {"--zygote"};
  for (auto& arg : LimitArgs(limits)) args.push_back(std::move(arg));
  return args;
}

}  // namespace penncloud::drive
