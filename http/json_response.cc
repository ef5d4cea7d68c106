#include "http/json_response.h"

namespace penncloud::http {

Response JsonResponse(int status, const nlohmann::json& body) {
  Response res;
  res.status = status;
  res.headers.Set("Content-Type", "application/json");
  res.headers.Set("Cache-Control", "no-store");
  // Invalid UTF-8 (a client's Content-Type stored with a file, say) is replaced rather than
  // thrown: dump() throws on it, and an exception escaping a handler ends the frontend
  // (found by fuzz/http_api_fuzz.cc).
  res.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return res;
}

Response ErrorResponse(int status, std::string_view message) {
  // Emplaced rather than written as an initializer list, which builds each member as a
  // two-element array and copies it into the object: every refusal pays for this.
  nlohmann::json body = nlohmann::json::object();
  body.emplace("error", message);
  return JsonResponse(status, body);
}

}  // namespace penncloud::http
