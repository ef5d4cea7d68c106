#include "frontend/webdav_if.h"

#include <cctype>

namespace penncloud::frontend::dav {
namespace {

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  void SkipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  bool AtEnd() {
    SkipSpace();
    return i_ >= s_.size();
  }
  char Peek() {
    SkipSpace();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  bool Eat(char c) {
    if (Peek() != c) return false;
    ++i_;
    return true;
  }
  bool EatWord(std::string_view w) {
    SkipSpace();
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  // The text up to `close` (excluded), which is consumed; false if it never comes.
  bool Until(char close, std::string* out) {
    size_t end = s_.find(close, i_);
    if (end == std::string_view::npos) return false;
    *out = std::string(s_.substr(i_, end - i_));
    i_ = end + 1;
    return true;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

absl::Status Bad(const char* why) {
  return absl::InvalidArgumentError(std::string("bad If header: ") + why);
}

}  // namespace

absl::StatusOr<std::vector<IfList>> ParseIfHeader(std::string_view header) {
  if (header.size() > kMaxIfHeaderBytes) return Bad("too long");
  Scanner in(header);
  std::vector<IfList> lists;
  size_t conditions = 0;
  std::string tag;
  while (!in.AtEnd()) {
    if (in.Eat('<')) {
      if (!in.Until('>', &tag)) return Bad("unclosed resource tag");
      if (in.Peek() != '(') return Bad("a resource tag needs a list");
      continue;
    }
    if (!in.Eat('(')) return Bad("expected '(' or '<'");
    IfList list;
    list.tag = tag;
    while (!in.Eat(')')) {
      if (in.AtEnd()) return Bad("unclosed list");
      if (++conditions > kMaxIfConditions) return Bad("too many conditions");
      IfCondition c;
      c.negated = in.EatWord("Not");
      if (in.Eat('<')) {
        if (!in.Until('>', &c.value)) return Bad("unclosed state token");
      } else if (in.Eat('[')) {
        c.is_etag = true;
        if (!in.Until(']', &c.value)) return Bad("unclosed entity tag");
      } else {
        return Bad("expected a state token or an entity tag");
      }
      list.conditions.push_back(std::move(c));
    }
    if (list.conditions.empty()) return Bad("empty list");
    lists.push_back(std::move(list));
  }
  if (lists.empty()) return Bad("no lists");
  return lists;
}

std::vector<std::string> SubmittedTokens(const std::vector<IfList>& lists) {
  std::vector<std::string> tokens;
  for (const auto& list : lists) {
    for (const auto& c : list.conditions) {
      if (!c.negated && !c.is_etag) tokens.push_back(c.value);
    }
  }
  return tokens;
}

}  // namespace penncloud::frontend::dav
