// JSON responses, the shape of every answer the API gives (DESIGN.md): errors are an HTTP
// status with a `{"error": "..."}` body.
#pragma once

#include <string_view>

#include "http/types.h"
#include "nlohmann/json.hpp"

namespace penncloud::http {

Response JsonResponse(int status, const nlohmann::json& body);
Response ErrorResponse(int status, std::string_view message);

}  // namespace penncloud::http
