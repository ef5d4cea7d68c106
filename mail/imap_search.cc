// ImapSession's SEARCH (RFC 9051 6.4.4, every search key; ESEARCH's RETURN options).
// Keys on the listing fields (flags, sizes, dates, From/To/Cc/Subject) read only the
// index; BCC, HEADER, BODY, TEXT and the SENT* dates read message sources, at most
// ImapConfig::max_search_bodies of them per SEARCH (NO [LIMIT] beyond). In a larger folder
// the full-text index (mail/search.h) first narrows TEXT and BODY to the messages holding
// their words; there they match whole words, as the index does, not any substring.
#include <algorithm>
#include <memory>
#include <numeric>

#include "absl/time/time.h"
#include "mail/imap_session.h"
#include "mail/imap_sources.h"
#include "mail/search.h"
#include "mail/search_tokenizer.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

SessionOutput Tagged(std::string_view tag, std::string_view text) {
  return {Cat(tag, " ", text, "\r\n")};
}

// Case-insensitive substring (RFC 9051 6.4.4: ASCII case folding).
bool Contains(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (EqualsIgnoreCase(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

// The value of header `name` in a header block (unfolded, all instances joined).
std::string HeaderValue(std::string_view header, std::string_view name) {
  std::string out;
  bool in = false;
  while (!header.empty()) {
    size_t end = header.find('\n');
    std::string_view line = header.substr(0, end == std::string_view::npos ? header.size() : end);
    header.remove_prefix(std::min(header.size(), line.size() + 1));
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      if (in) out += Cat(" ", Trim(line));
      continue;
    }
    size_t colon = line.find(':');
    in = colon != std::string_view::npos && EqualsIgnoreCase(Trim(line.substr(0, colon)), name);
    if (in) out += Cat(out.empty() ? "" : " ", Trim(line.substr(colon + 1)));
  }
  return out;
}

int64_t DayOf(int64_t micros) { return micros / (86'400LL * 1'000'000); }

std::optional<int64_t> ParseDay(std::string_view text) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime("%d-%b-%Y", std::string(text), &t, &err)) return std::nullopt;
  return DayOf(absl::ToUnixMicros(t));
}

std::optional<int64_t> SentDay(std::string_view header) {
  std::string date = HeaderValue(header, "Date");
  absl::Time t;
  std::string err;
  for (const char* format : {"%a, %d %b %Y %H:%M:%S %z", "%d %b %Y %H:%M:%S %z"}) {
    if (absl::ParseTime(format, date, &t, &err)) return DayOf(absl::ToUnixMicros(t));
  }
  return std::nullopt;
}

}  // namespace

// One search key, parsed; Match evaluates it for one message.
struct SearchKey {
  enum Kind {
    kAll,
    kFlag,
    kNot,
    kOr,
    kAnd,
    kSet,
    kUidSet,
    kLarger,
    kSmaller,
    kBefore,
    kOn,
    kSince,
    kSentBefore,
    kSentOn,
    kSentSince,
    kField,
    kHeader,
    kBody,
    kText,
    kModseq
  };
  Kind kind = kAll;
  std::string flag;  // kFlag: \SEEN etc. or a keyword; `want` says set or not
  bool want = true;
  std::string field, value;
  uint64_t number = 0;
  SequenceSet set;
  std::vector<std::unique_ptr<SearchKey>> children;
  bool NeedsSource() const {
    if (kind == kHeader || kind == kBody || kind == kText || kind == kSentBefore ||
        kind == kSentOn || kind == kSentSince || (kind == kField && field == "BCC")) {
      return true;
    }
    for (const auto& c : children) {
      if (c->NeedsSource()) return true;
    }
    return false;
  }
};

namespace {

class KeyParser {
 public:
  KeyParser(ImapParser& p, int max_depth) : p_(p), max_depth_(max_depth) {}

  std::unique_ptr<SearchKey> Key(int depth) {
    if (depth > max_depth_) return Fail("search keys nest too deep");
    auto key = std::make_unique<SearchKey>();
    if (p_.Consume('(')) {
      key->kind = SearchKey::kAnd;
      while (!p_.Consume(')')) {
        auto child = Key(depth + 1);
        if (!child) return nullptr;
        key->children.push_back(std::move(child));
        if (p_.Peek() != ')' && !p_.Space()) return nullptr;
      }
      return key;
    }
    if ((p_.Peek() >= '0' && p_.Peek() <= '9') || p_.Peek() == '*') {
      auto set = p_.Sequence();
      if (!set) return nullptr;
      key->kind = SearchKey::kSet;
      key->set = std::move(*set);
      return key;
    }
    auto atom = p_.Atom();
    if (!atom) return nullptr;
    std::string k = ToLower(*atom);
    static const std::pair<const char*, std::pair<const char*, bool>> kFlags[] = {
        {"answered", {"\\ANSWERED", true}},
        {"unanswered", {"\\ANSWERED", false}},
        {"deleted", {"\\DELETED", true}},
        {"undeleted", {"\\DELETED", false}},
        {"draft", {"\\DRAFT", true}},
        {"undraft", {"\\DRAFT", false}},
        {"flagged", {"\\FLAGGED", true}},
        {"unflagged", {"\\FLAGGED", false}},
        {"seen", {"\\SEEN", true}},
        {"unseen", {"\\SEEN", false}},
        {"old", {"", true}},
        {"new", {"\\SEEN", false}},
        {"recent", {"\\RECENT", true}}};
    for (const auto& [name, flag] : kFlags) {
      if (k != name) continue;
      key->kind = flag.first[0] == '\0' ? SearchKey::kAll : SearchKey::kFlag;
      key->flag = flag.first;
      key->want = flag.second;
      return key;
    }
    if (k == "all") return key;
    if (k == "not" || k == "or") {
      key->kind = k == "not" ? SearchKey::kNot : SearchKey::kOr;
      for (int i = 0; i < (k == "or" ? 2 : 1); ++i) {
        if (!p_.Space()) return nullptr;
        auto child = Key(depth + 1);
        if (!child) return nullptr;
        key->children.push_back(std::move(child));
      }
      return key;
    }
    if (!p_.Space()) return nullptr;
    if (k == "keyword" || k == "unkeyword") {
      auto word = p_.Atom();
      if (!word) return nullptr;
      key->kind = SearchKey::kFlag;
      key->flag = *word;
      key->want = k == "keyword";
      return key;
    }
    if (k == "uid") {
      auto set = p_.Sequence();
      if (!set) return nullptr;
      key->kind = SearchKey::kUidSet;
      key->set = std::move(*set);
      return key;
    }
    if (k == "larger" || k == "smaller" || k == "modseq") {
      auto n = p_.Number64();
      if (!n) return nullptr;
      key->kind = k == "larger"    ? SearchKey::kLarger
                  : k == "smaller" ? SearchKey::kSmaller
                                   : SearchKey::kModseq;
      key->number = *n;
      return key;
    }
    static const std::pair<const char*, SearchKey::Kind> kDates[] = {
        {"before", SearchKey::kBefore}, {"on", SearchKey::kOn},
        {"since", SearchKey::kSince},   {"sentbefore", SearchKey::kSentBefore},
        {"senton", SearchKey::kSentOn}, {"sentsince", SearchKey::kSentSince}};
    for (const auto& [name, kind] : kDates) {
      if (k != name) continue;
      auto text = p_.AString();
      auto day = text ? ParseDay(*text) : std::nullopt;
      if (!day) return Fail("bad date (expected d-Mon-yyyy)");
      key->kind = kind;
      key->number = static_cast<uint64_t>(*day);
      return key;
    }
    if (k == "header") {
      auto field = p_.AString();
      if (!field || !p_.Space()) return nullptr;
      auto value = p_.AString();
      if (!value) return nullptr;
      key->kind = SearchKey::kHeader;
      key->field = *field;
      key->value = *value;
      return key;
    }
    if (k == "from" || k == "to" || k == "cc" || k == "bcc" || k == "subject" || k == "body" ||
        k == "text") {
      auto value = p_.AString();
      if (!value) return nullptr;
      key->kind = k == "body"   ? SearchKey::kBody
                  : k == "text" ? SearchKey::kText
                                : SearchKey::kField;
      key->field = ToLower(k) == "bcc" ? "BCC" : k;
      key->value = *value;
      return key;
    }
    return Fail("unknown search key");
  }

  std::nullptr_t Fail(std::string_view why) {
    p_.Fail(why);
    return nullptr;
  }

 private:
  ImapParser& p_;
  int max_depth_;
};

bool HasFlag(const pb::MessageMeta& m, const std::string& flag) {
  if (flag == "\\SEEN") return m.seen();
  if (flag == "\\ANSWERED") return m.answered();
  if (flag == "\\FLAGGED") return m.flagged();
  if (flag == "\\DELETED") return m.deleted();
  if (flag == "\\DRAFT") return m.draft();
  if (flag == "\\RECENT") return false;
  for (const std::string& k : m.keywords()) {
    if (EqualsIgnoreCase(k, flag)) return true;
  }
  return false;
}

struct Candidate {
  const pb::MessageMeta& meta;
  uint32_t seq, largest_seq, largest_uid;
  const std::string* source;  // null unless a key needs it
};

bool Match(const SearchKey& key, const Candidate& c) {
  const pb::MessageMeta& m = c.meta;
  int64_t day = DayOf(m.received_micros());
  switch (key.kind) {
    case SearchKey::kAll:
      return true;
    case SearchKey::kFlag:
      return HasFlag(m, key.flag) == key.want;
    case SearchKey::kNot:
      return !Match(*key.children[0], c);
    case SearchKey::kOr:
      return Match(*key.children[0], c) || Match(*key.children[1], c);
    case SearchKey::kAnd:
      for (const auto& child : key.children) {
        if (!Match(*child, c)) return false;
      }
      return true;
    case SearchKey::kSet:
      return key.set.Contains(c.seq, c.largest_seq);
    case SearchKey::kUidSet:
      return key.set.Contains(m.uid(), c.largest_uid);
    case SearchKey::kLarger:
      return static_cast<uint64_t>(m.size()) > key.number;
    case SearchKey::kSmaller:
      return static_cast<uint64_t>(m.size()) < key.number;
    case SearchKey::kModseq:
      return m.modseq() >= key.number;
    case SearchKey::kBefore:
      return day < static_cast<int64_t>(key.number);
    case SearchKey::kOn:
      return day == static_cast<int64_t>(key.number);
    case SearchKey::kSince:
      return day >= static_cast<int64_t>(key.number);
    case SearchKey::kSentBefore:
    case SearchKey::kSentOn:
    case SearchKey::kSentSince: {
      auto sent = SentDay(HeaderBlock(*c.source));
      if (!sent) return false;
      int64_t want = static_cast<int64_t>(key.number);
      if (key.kind == SearchKey::kSentBefore) return *sent < want;
      if (key.kind == SearchKey::kSentOn) return *sent == want;
      return *sent >= want;
    }
    case SearchKey::kField:
      if (key.field == "from") return Contains(m.from(), key.value);
      if (key.field == "to") return Contains(m.to(), key.value);
      if (key.field == "cc") return Contains(m.cc(), key.value);
      if (key.field == "subject") return Contains(m.subject(), key.value);
      return Contains(HeaderValue(HeaderBlock(*c.source), "Bcc"), key.value);
    case SearchKey::kHeader: {
      std::string value = HeaderValue(HeaderBlock(*c.source), key.field);
      return (!value.empty() || key.value.empty()) && Contains(value, key.value);
    }
    case SearchKey::kBody:
      return Contains(BodyOf(*c.source), key.value);
    case SearchKey::kText:
      return Contains(*c.source, key.value);
  }
  return false;
}

// The words of the TEXT and BODY keys every hit must satisfy (those right under the
// top-level AND), for the index to narrow a folder too large to read.
std::vector<std::string> RequiredWords(const SearchKey& all) {
  std::vector<std::string> words;
  for (const auto& c : all.children) {
    if (c->kind != SearchKey::kText && c->kind != SearchKey::kBody) continue;
    for (std::string& w : Words(c->value, kMaxQueryWords)) words.push_back(std::move(w));
  }
  return words;
}

}  // namespace

SessionOutput ImapSession::Search(const std::string& tag, ImapParser& p, bool uid) {
  if (!p.Space()) return Tagged(tag, "BAD Syntax: SEARCH keys");
  // ESEARCH (RFC 4731): RETURN (MIN MAX COUNT ALL).
  bool esearch = false, want_min = false, want_max = false, want_count = false, want_all = false;
  if (p.ConsumeWord("RETURN")) {
    esearch = true;
    if (!p.Space() || !p.Consume('(')) return Tagged(tag, "BAD Syntax: SEARCH RETURN (options)");
    while (!p.Consume(')')) {
      auto option = p.Atom();
      if (!option) return Tagged(tag, "BAD Bad RETURN option");
      std::string o = ToLower(*option);
      want_min |= o == "min";
      want_max |= o == "max";
      want_count |= o == "count";
      want_all |= o == "all";
      p.Space();
    }
    if (!want_min && !want_max && !want_count) want_all = true;
    if (!p.Space()) return Tagged(tag, "BAD Syntax: SEARCH keys");
  }
  if (p.ConsumeWord("CHARSET")) {
    auto charset = p.Space() ? p.AString() : std::nullopt;
    if (!charset || !p.Space()) return Tagged(tag, "BAD Syntax: SEARCH CHARSET name keys");
    std::string c = ToLower(*charset);
    if (c != "utf-8" && c != "us-ascii")
      return Tagged(tag, "NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
  }
  SearchKey all;
  all.kind = SearchKey::kAnd;
  KeyParser keys(p, config_.max_nesting);
  while (true) {
    auto key = keys.Key(0);
    if (!key) return Tagged(tag, Cat("BAD Bad search key (", p.error(), ")"));
    all.children.push_back(std::move(key));
    if (p.AtEnd()) break;
    if (!p.Space() || all.children.size() > 256) return Tagged(tag, "BAD Bad search keys");
  }
  const auto& messages = selected_->messages;
  // The messages to evaluate: all, or those the full-text index names.
  std::vector<size_t> todo;
  const bool needs_source = all.NeedsSource();
  if (needs_source && messages.size() > config_.max_search_bodies) {
    std::vector<std::string> words = RequiredWords(all);
    if (!words.empty()) {
      auto found = MailSearch(store_).Candidates(user_, words);
      if (!found.ok()) return Tagged(tag, "NO [UNAVAILABLE] Search failed, try again");
      for (size_t i = 0; i < messages.size() && todo.size() <= config_.max_search_bodies; ++i) {
        if (found->contains(messages[i].id())) todo.push_back(i);
      }
    }
    if (words.empty() || todo.size() > config_.max_search_bodies) {
      return Tagged(
          tag, Cat("NO [LIMIT] Searching message text is limited to ", config_.max_search_bodies,
                   " messages (TEXT or BODY words narrow it)"));
    }
  } else {
    todo.resize(messages.size());
    std::iota(todo.begin(), todo.end(), 0);
  }
  std::vector<uint32_t> hits;
  uint64_t highest = 0;
  std::vector<const pb::MessageMeta*> to_read;
  if (needs_source) {
    for (size_t i : todo) to_read.push_back(&messages[i]);
  }
  SourceBatches sources(store_, user_, std::move(to_read));
  for (size_t k = 0; k < todo.size(); ++k) {
    const size_t i = todo[k];
    const std::string* source = nullptr;
    if (needs_source) {
      const absl::StatusOr<std::string>& read = sources.At(k);
      // A message expunged meanwhile (its source gone) is left out, as one not matching.
      if (absl::IsNotFound(read.status())) continue;
      if (!read.ok()) return Tagged(tag, "NO [UNAVAILABLE] Search failed, try again");
      source = &*read;
    }
    Candidate c{messages[i], static_cast<uint32_t>(i + 1), static_cast<uint32_t>(messages.size()),
                messages.back().uid(), source};
    if (!Match(all, c)) continue;
    hits.push_back(uid ? messages[i].uid() : static_cast<uint32_t>(i + 1));
    highest = std::max(highest, messages[i].modseq());
  }
  std::string out;
  if (esearch) {
    out = Cat("* ESEARCH (TAG ", ImapString(tag), ")", uid ? " UID" : "");
    if (!hits.empty() && want_min) out += Cat(" MIN ", hits.front());
    if (!hits.empty() && want_max) out += Cat(" MAX ", hits.back());
    if (want_count) out += Cat(" COUNT ", hits.size());
    if (!hits.empty() && want_all) {
      out += " ALL ";
      for (size_t i = 0; i < hits.size(); ++i) out += Cat(i ? "," : "", hits[i]);
    }
  } else {
    out = "* SEARCH";
    for (uint32_t h : hits) out += Cat(" ", h);
    if (condstore_ && !hits.empty()) out += Cat(" (MODSEQ ", highest, ")");
  }
  return {Cat(out, "\r\n", tag, " OK ", uid ? "UID SEARCH" : "SEARCH", " completed\r\n")};
}

}  // namespace penncloud::mail
