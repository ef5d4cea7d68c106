#include "http/json_writer.h"

#include <array>

#include "nlohmann/json.hpp"

namespace penncloud::http {
namespace {

// The bytes a string cannot carry as they are: controls, '"' and '\\' (escaped), and
// every non-ASCII byte (checked as UTF-8 by nlohmann).
constexpr std::array<bool, 256> kSpecial = [] {
  std::array<bool, 256> special{};
  for (int c = 0; c < 256; ++c) special[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
  return special;
}();

// The escape nlohmann writes for an ASCII byte of kSpecial.
const char* EscapeOf(unsigned char c) {
  static constexpr const char* kControl[0x20] = {
      "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
      "\\b",     "\\t",     "\\n",     "\\u000b", "\\f",     "\\r",     "\\u000e", "\\u000f",
      "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
      "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f"};
  if (c < 0x20) return kControl[c];
  return c == '"' ? "\\\"" : "\\\\";
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
  const size_t start = out.size();
  out.push_back('"');
  size_t run = 0;  // start of the bytes not yet copied
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (!kSpecial[c]) continue;
    if (c >= 0x80) {
      // Rare here (names and tokens are ASCII): nlohmann's own decoder keeps multi-byte
      // characters and replaces broken ones exactly as a dump would.
      out.resize(start);
      out += nlohmann::json(std::string(text))
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return;
    }
    out.append(text, run, i - run);
    out += EscapeOf(c);
    run = i + 1;
  }
  out.append(text, run);
  out.push_back('"');
}

// Room for a small answer at once: growing a string step by step allocates at each step.
JsonObjectWriter::JsonObjectWriter() {
  out_.reserve(256);
  out_.push_back('{');
}

void JsonObjectWriter::Key(std::string_view key) {
  if (out_.size() > 1) out_.push_back(',');
  AppendJsonString(out_, key);
  out_.push_back(':');
}

JsonObjectWriter& JsonObjectWriter::String(std::string_view key, std::string_view value) {
  Key(key);
  AppendJsonString(out_, value);
  return *this;
}

JsonObjectWriter& JsonObjectWriter::Bool(std::string_view key, bool value) {
  Key(key);
  out_ += value ? "true" : "false";
  return *this;
}

JsonObjectWriter& JsonObjectWriter::Int(std::string_view key, int64_t value) {
  Key(key);
  out_ += std::to_string(value);
  return *this;
}

std::string JsonObjectWriter::Finish() {
  out_.push_back('}');
  return std::move(out_);
}

}  // namespace penncloud::http
