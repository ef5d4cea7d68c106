// Reading IMAP command arguments (RFC 9051 9, the formal syntax) from one assembled
// command: its lines joined by CRLF with every literal's bytes in place, exactly as they
// came over the wire. Every reader returns nullopt/false on bad syntax and leaves
// error() saying why; nothing here allocates more than the command's own size.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace penncloud::mail {

// A sequence set ("1:3,7,9:*"); `*` is stored as 0 and resolved by Contains.
struct SequenceSet {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  // Whether n is in the set when `*` means `largest` (RFC 9051 6.4.8: 3:* with largest 2
  // is 2:3).
  bool Contains(uint32_t n, uint32_t largest) const;
};

inline constexpr size_t kMaxSequenceRanges = 1000;

class ImapParser {
 public:
  explicit ImapParser(std::string_view input) : in_(input) {}

  bool AtEnd() const { return pos_ >= in_.size(); }
  char Peek() const { return AtEnd() ? '\0' : in_[pos_]; }
  bool Consume(char c);
  bool ConsumeWord(std::string_view word);  // case-insensitive, not followed by an atom char
  bool Space() { return Consume(' ') || Fail("expected a space"); }

  // ATOM-CHARs (anything but ( ) { SP CTL % * " \ ]). `extra` lists more characters taken
  // (e.g. "]" or "\\" where the grammar allows them).
  std::optional<std::string> Atom(std::string_view extra = "");
  // Letters, digits, '.' and '-' only: a FETCH item's name, which '[' may follow.
  std::optional<std::string> Keyword();
  std::optional<std::string> AString();      // atom, quoted string or literal
  std::optional<std::string> String();       // quoted string or literal
  std::optional<std::string> ListMailbox();  // LIST's pattern: atom chars plus % and *
  std::optional<uint32_t> Number();          // 1..2^32-1
  std::optional<uint64_t> Number64();
  std::optional<SequenceSet> Sequence();
  // A parenthesized list of flags, or one flag; "\Seen"-style or keyword atoms.
  std::optional<std::vector<std::string>> FlagList();

  std::string_view Rest() const { return in_.substr(pos_); }
  size_t position() const { return pos_; }
  const std::string& error() const { return error_; }
  bool Fail(std::string_view why) {
    if (error_.empty()) error_ = std::string(why);
    return false;
  }

 private:
  std::optional<std::string> Quoted();
  std::optional<std::string> Literal();

  std::string_view in_;
  size_t pos_ = 0;
  std::string error_;
};

// The text of a string for a response: an atom-safe quoted string, or a literal when it
// holds CR, LF, NUL, or 8-bit bytes.
std::string ImapString(std::string_view s);
// NIL for empty.
std::string ImapNString(std::string_view s);
// Numbers as a sequence set in the order given, runs of consecutive ones as ranges
// ("1:3,7"): COPYUID, APPENDUID and VANISHED lists.
std::string SequenceText(const std::vector<uint32_t>& numbers);

}  // namespace penncloud::mail
