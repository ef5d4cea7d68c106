// A flat JSON object written straight into a string, for the small answers every page
// load or refusal pays for (GET /api/me, errors). Building an nlohmann::json for them (a
// std::map of nodes, each string copied in) and dumping it (a UTF-8 state machine per
// byte) cost ~16k instructions of a GET /api/me's ~78k at the frontend.
//
// The text is what nlohmann's dump(-1, ' ', false, error_handler_t::replace) writes for
// the same fields in the same order (nlohmann orders keys by byte value, so a caller that
// wants the very same text adds them in that order): the same escapes, and invalid UTF-8
// replaced by U+FFFD the way nlohmann replaces it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace penncloud::http {

// Appends `text` as a JSON string literal, quotes included.
void AppendJsonString(std::string& out, std::string_view text);

class JsonObjectWriter {
 public:
  JsonObjectWriter();
  JsonObjectWriter& String(std::string_view key, std::string_view value);
  JsonObjectWriter& Bool(std::string_view key, bool value);
  JsonObjectWriter& Int(std::string_view key, int64_t value);
  // The object's text; the writer is spent.
  std::string Finish();

 private:
  void Key(std::string_view key);
  std::string out_;
};

}  // namespace penncloud::http
