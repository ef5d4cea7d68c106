#include "mail/imap_parser.h"

#include <algorithm>
#include <cctype>

#include "mail/text.h"

namespace penncloud::mail {
namespace {

bool IsAtomChar(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  // CHAR is 7-bit (RFC 9051 9): an 8-bit byte is never part of an atom (nor of a keyword
  // stored in a protobuf string, which must be UTF-8).
  if (u <= 0x20 || u >= 0x7f) return false;
  return std::string_view("(){%*\"\\]").find(c) == std::string_view::npos;
}

}  // namespace

bool SequenceSet::Contains(uint32_t n, uint32_t largest) const {
  for (auto [lo, hi] : ranges) {
    uint32_t a = lo == 0 ? largest : lo;
    uint32_t b = hi == 0 ? largest : hi;
    if (a > b) std::swap(a, b);
    if (n >= a && n <= b) return true;
  }
  return false;
}

bool ImapParser::Consume(char c) {
  if (Peek() != c || AtEnd()) return false;
  ++pos_;
  return true;
}

bool ImapParser::ConsumeWord(std::string_view word) {
  if (in_.size() - pos_ < word.size()) return false;
  if (!EqualsIgnoreCase(in_.substr(pos_, word.size()), word)) return false;
  size_t end = pos_ + word.size();
  if (end < in_.size() && IsAtomChar(in_[end]) && in_[end] != '[' && in_[end] != '.') {
    return false;
  }
  pos_ = end;
  return true;
}

std::optional<std::string> ImapParser::Atom(std::string_view extra) {
  size_t start = pos_;
  while (!AtEnd() && (IsAtomChar(in_[pos_]) || extra.find(in_[pos_]) != std::string_view::npos)) {
    ++pos_;
  }
  if (pos_ == start) {
    Fail("expected an atom");
    return std::nullopt;
  }
  return std::string(in_.substr(start, pos_ - start));
}

std::optional<std::string> ImapParser::Keyword() {
  size_t start = pos_;
  while (!AtEnd() && (std::isalnum(static_cast<unsigned char>(in_[pos_])) || in_[pos_] == '.' ||
                      in_[pos_] == '-')) {
    ++pos_;
  }
  if (pos_ == start) {
    Fail("expected a keyword");
    return std::nullopt;
  }
  return std::string(in_.substr(start, pos_ - start));
}

std::optional<std::string> ImapParser::Quoted() {
  if (!Consume('"')) return std::nullopt;
  std::string out;
  while (!AtEnd()) {
    char c = in_[pos_++];
    if (c == '"') return out;
    if (c == '\r' || c == '\n') break;
    if (c == '\\') {
      if (AtEnd() || (in_[pos_] != '"' && in_[pos_] != '\\')) break;
      c = in_[pos_++];
    }
    out.push_back(c);
  }
  Fail("bad quoted string");
  return std::nullopt;
}

std::optional<std::string> ImapParser::Literal() {
  if (!Consume('{')) return std::nullopt;
  auto n = Number64();
  if (!n && Peek() == '0') {
    ++pos_;
    n = 0;
  }
  Consume('+');
  if (!n || !Consume('}') || !Consume('\r') || !Consume('\n') || in_.size() - pos_ < *n) {
    Fail("bad literal");
    return std::nullopt;
  }
  std::string out(in_.substr(pos_, *n));
  pos_ += *n;
  return out;
}

std::optional<std::string> ImapParser::String() {
  if (Peek() == '"') return Quoted();
  if (Peek() == '{') return Literal();
  Fail("expected a string");
  return std::nullopt;
}

std::optional<std::string> ImapParser::AString() {
  if (Peek() == '"' || Peek() == '{') return String();
  return Atom("]");
}

std::optional<std::string> ImapParser::ListMailbox() {
  if (Peek() == '"' || Peek() == '{') return String();
  return Atom("%*]");
}

std::optional<uint64_t> ImapParser::Number64() {
  size_t start = pos_;
  uint64_t value = 0;
  while (!AtEnd() && in_[pos_] >= '0' && in_[pos_] <= '9') {
    if (pos_ - start >= 19) {
      Fail("number too large");
      return std::nullopt;
    }
    value = value * 10 + static_cast<uint64_t>(in_[pos_++] - '0');
  }
  if (pos_ == start) {
    Fail("expected a number");
    return std::nullopt;
  }
  return value;
}

std::optional<uint32_t> ImapParser::Number() {
  auto n = Number64();
  if (!n || *n == 0 || *n > UINT32_MAX) {
    Fail("expected a number from 1 to 4294967295");
    return std::nullopt;
  }
  return static_cast<uint32_t>(*n);
}

std::optional<SequenceSet> ImapParser::Sequence() {
  SequenceSet set;
  auto one = [this]() -> std::optional<uint32_t> {
    if (Consume('*')) return 0u;
    return Number();
  };
  do {
    if (set.ranges.size() >= kMaxSequenceRanges) {
      Fail("sequence set too long");
      return std::nullopt;
    }
    auto lo = one();
    if (!lo) return std::nullopt;
    uint32_t hi = *lo;
    if (Consume(':')) {
      auto h = one();
      if (!h) return std::nullopt;
      hi = *h;
    }
    set.ranges.push_back({*lo, hi});
  } while (Consume(','));
  return set;
}

std::optional<std::vector<std::string>> ImapParser::FlagList() {
  std::vector<std::string> flags;
  bool parens = Consume('(');
  while (!parens || Peek() != ')') {
    bool system = Consume('\\');
    auto atom = Atom(system ? "*" : "");
    if (!atom) return std::nullopt;
    flags.push_back(system ? Cat("\\", *atom) : *atom);
    if (!parens || Peek() == ')') break;
    if (!Space()) return std::nullopt;
    if (flags.size() > 100) {
      Fail("too many flags");
      return std::nullopt;
    }
  }
  if (parens && !Consume(')')) {
    Fail("expected )");
    return std::nullopt;
  }
  return flags;
}

std::string ImapString(std::string_view s) {
  bool literal = std::any_of(s.begin(), s.end(), [](char c) {
    return c == '\r' || c == '\n' || c == '\0' || static_cast<unsigned char>(c) >= 0x80;
  });
  if (literal) return Cat("{", s.size(), "}\r\n", s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string ImapNString(std::string_view s) { return s.empty() ? "NIL" : ImapString(s); }

std::string SequenceText(const std::vector<uint32_t>& numbers) {
  std::string out;
  for (size_t i = 0; i < numbers.size();) {
    size_t end = i;
    while (end + 1 < numbers.size() && numbers[end + 1] == numbers[end] + 1) ++end;
    out += Cat(out.empty() ? "" : ",", numbers[i]);
    if (end > i) out += Cat(":", numbers[end]);
    i = end + 1;
  }
  return out;
}

}  // namespace penncloud::mail
