#include "http/json_response.h"

#include "http/json_writer.h"

namespace penncloud::http {

Response JsonResponse(int status, const nlohmann::json& body) {
  // Invalid UTF-8 (a client's Content-Type stored with a file, say) is replaced rather than
  // thrown: dump() throws on it, and an exception escaping a handler ends the frontend
  // (found by fuzz/http_api_fuzz.cc).
  return JsonTextResponse(status,
                          body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Response JsonTextResponse(int status, std::string json) {
  Response res;
  res.status = status;
  res.headers.Set("Content-Type", "application/json");
  res.headers.Set("Cache-Control", "no-store");
  res.body = std::move(json);
  return res;
}

Response ErrorResponse(int status, std::string_view message) {
  return JsonTextResponse(status, JsonObjectWriter().String("error", message).Finish());
}

}  // namespace penncloud::http
