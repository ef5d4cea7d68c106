// ImapSession's FETCH and STORE (RFC 9051 6.4.5, 6.4.6; CONDSTORE's MODSEQ and
// UNCHANGEDSINCE from RFC 7162).
#include <algorithm>

#include "mail/imap_session.h"
#include "mail/imap_sources.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

SessionOutput Tagged(std::string_view tag, std::string_view text) {
  return {Cat(tag, " ", text, "\r\n")};
}

struct FetchItem {
  explicit FetchItem(std::string n) : name(std::move(n)) {}
  std::string name;  // FLAGS, UID, BODY, BODY.PEEK, BINARY, BINARY.PEEK, RFC822, ...
  SectionSpec section;
  std::string section_text;  // as the client wrote it, for the response
  bool has_section = false;
  bool partial = false;
  uint64_t offset = 0, length = 0;
};

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool ParseSection(ImapParser& p, FetchItem* item) {
  size_t start = p.position();
  std::string_view rest = p.Rest();
  // Part numbers: 1.2.3, each followed by '.' or ']'.
  while (p.Peek() >= '0' && p.Peek() <= '9') {
    auto n = p.Number();
    if (!n || *n > 10000) return p.Fail("bad part number");
    item->section.part.push_back(static_cast<int>(*n));
    if (!p.Consume('.')) break;
  }
  if (p.Peek() != ']') {
    auto text = p.Atom();
    if (!text) return false;
    item->section.text = Upper(*text);
    const std::string& t = item->section.text;
    if (t != "HEADER" && t != "TEXT" && t != "MIME" && t != "HEADER.FIELDS" &&
        t != "HEADER.FIELDS.NOT") {
      return p.Fail("unknown section");
    }
    if (t == "MIME" && item->section.part.empty()) return p.Fail("MIME needs a part");
    if (t.starts_with("HEADER.FIELDS")) {
      if (!p.Space() || !p.Consume('(')) return p.Fail("expected a field list");
      while (!p.Consume(')')) {
        auto field = p.AString();
        if (!field || item->section.fields.size() > 100) return p.Fail("bad field list");
        item->section.fields.push_back(Upper(*field));
        p.Consume(' ');
      }
    }
  }
  item->section_text = std::string(rest.substr(0, p.position() - start));
  return p.Consume(']') || p.Fail("expected ]");
}

std::optional<std::vector<FetchItem>> ParseItems(ImapParser& p) {
  std::vector<FetchItem> items;
  auto one = [&]() -> bool {
    auto atom = p.Keyword();
    if (!atom) return false;
    std::string name = Upper(*atom);
    bool bracket = p.Consume('[');
    if (name == "ALL" || name == "FAST" || name == "FULL") {
      for (const char* n : {"FLAGS", "INTERNALDATE", "RFC822.SIZE"}) items.emplace_back(n);
      if (name != "FAST") items.emplace_back("ENVELOPE");
      if (name == "FULL") items.emplace_back("BODY");
      return !bracket;
    }
    static const char* kPlain[] = {"FLAGS",         "UID",           "INTERNALDATE", "RFC822.SIZE",
                                   "ENVELOPE",      "BODYSTRUCTURE", "BODY",         "RFC822",
                                   "RFC822.HEADER", "RFC822.TEXT",   "MODSEQ",       "BINARY.SIZE"};
    FetchItem item{name};
    if (bracket) {
      if (name != "BODY" && name != "BODY.PEEK" && name != "BINARY" && name != "BINARY.PEEK" &&
          name != "BINARY.SIZE") {
        return p.Fail("unknown fetch item");
      }
      item.has_section = true;
      if (!ParseSection(p, &item)) return false;
      if (name.starts_with("BINARY") && !item.section.text.empty()) {
        return p.Fail("BINARY takes part numbers only");  // RFC 3516 section-binary
      }
      if (name == "BINARY.SIZE" && p.Peek() == '<') return p.Fail("BINARY.SIZE has no partial");
      if (p.Consume('<')) {
        auto offset = p.Number64();
        if (!offset || !p.Consume('.')) return p.Fail("bad partial");
        auto length = p.Number64();
        if (!length || !p.Consume('>')) return p.Fail("bad partial");
        item.partial = true;
        item.offset = *offset;
        item.length = *length;
      }
    } else if (std::find(std::begin(kPlain), std::end(kPlain), name) == std::end(kPlain)) {
      return p.Fail("unknown fetch item");
    }
    items.push_back(std::move(item));
    return items.size() <= 64 || p.Fail("too many fetch items");
  };
  if (p.Consume('(')) {
    while (!p.Consume(')')) {
      if (!one()) return std::nullopt;
      p.Consume(' ');
    }
  } else if (!one()) {
    return std::nullopt;
  }
  return items;
}

std::string Literal(std::string_view bytes) { return Cat("{", bytes.size(), "}\r\n", bytes); }

}  // namespace

SessionOutput ImapSession::Fetch(const std::string& tag, ImapParser& p, bool uid) {
  std::optional<SequenceSet> set;
  if (!p.Space() || !(set = p.Sequence()) || !p.Space()) {
    return Tagged(tag, Cat("BAD Syntax: FETCH sequence items (", p.error(), ")"));
  }
  auto items = ParseItems(p);
  if (!items) return Tagged(tag, Cat("BAD Bad fetch items (", p.error(), ")"));
  uint64_t changed_since = 0;
  bool vanished = false;
  if (p.Space()) {  // (CHANGEDSINCE n [VANISHED]), in either order
    if (!p.Consume('(')) return Tagged(tag, "BAD Bad FETCH modifier");
    do {
      if (p.ConsumeWord("VANISHED")) {
        vanished = true;
      } else if (p.ConsumeWord("CHANGEDSINCE") && p.Space()) {
        auto n = p.Number64();
        if (!n) return Tagged(tag, "BAD Bad CHANGEDSINCE");
        changed_since = *n;
        condstore_ = true;
      } else {
        return Tagged(tag, "BAD Bad FETCH modifier");
      }
    } while (p.Consume(' '));
    if (!p.Consume(')')) return Tagged(tag, "BAD Bad FETCH modifier");
  }
  if (!p.AtEnd()) return Tagged(tag, "BAD Syntax: FETCH sequence items");
  if (vanished && (!uid || !qresync_ || changed_since == 0)) {  // RFC 7162 3.2.6
    return Tagged(tag, "BAD VANISHED needs UID FETCH, CHANGEDSINCE and ENABLE QRESYNC");
  }
  bool want_modseq =
      condstore_ || std::any_of(items->begin(), items->end(),
                                [](const FetchItem& i) { return i.name == "MODSEQ"; });
  // An entry answers these items alone; ENVELOPE and BODYSTRUCTURE only once it keeps them
  // (entries written before have theirs parsed from the source).
  auto from_entry = [](const FetchItem& i, const pb::MessageMeta& m) {
    return i.name == "UID" || i.name == "FLAGS" || i.name == "INTERNALDATE" ||
           i.name == "RFC822.SIZE" || i.name == "MODSEQ" ||
           (i.name == "ENVELOPE" && m.has_envelope()) ||
           (i.name == "BODYSTRUCTURE" && !m.body_structure().empty());
  };
  std::string out = vanished ? VanishedEarlier(*set) : "";
  std::vector<size_t> indexes;
  // The sources to read, and where each fetched message's is among them.
  std::vector<const pb::MessageMeta*> to_read;
  std::vector<size_t> source_at;
  for (size_t index : Resolve(*set, uid)) {
    const pb::MessageMeta& m = selected_->messages[index];
    if (changed_since > 0 && m.modseq() <= changed_since) continue;
    indexes.push_back(index);
    source_at.push_back(to_read.size());
    if (!std::all_of(items->begin(), items->end(),
                     [&](const FetchItem& i) { return from_entry(i, m); })) {
      to_read.push_back(&m);
    }
  }
  SourceBatches sources(store_, user_, std::move(to_read));
  for (size_t k = 0; k < indexes.size(); ++k) {
    const size_t index = indexes[k];
    pb::MessageMeta& m = selected_->messages[index];
    auto load = [&]() -> const std::string* {
      const absl::StatusOr<std::string>& source = sources.At(source_at[k]);
      return source.ok() ? &*source : nullptr;
    };
    std::vector<std::string> parts;
    bool seen_now = false;
    if (uid) parts.push_back(Cat("UID ", m.uid()));
    bool failed = false, unknown_cte = false;
    for (const FetchItem& item : *items) {
      const std::string& n = item.name;
      if (n == "UID") {
        if (!uid) parts.push_back(Cat("UID ", m.uid()));
      } else if (n == "FLAGS") {
        continue;  // added last, after any \Seen this fetch sets
      } else if (n == "INTERNALDATE") {
        parts.push_back(Cat("INTERNALDATE \"", ImapDate(m.received_micros()), "\""));
      } else if (n == "RFC822.SIZE") {
        parts.push_back(Cat("RFC822.SIZE ", m.size()));
      } else if (n == "MODSEQ") {
        continue;
      } else if (n == "ENVELOPE" && m.has_envelope()) {
        parts.push_back(Cat("ENVELOPE ", ImapEnvelope(m.envelope())));
      } else if (n == "BODYSTRUCTURE" && !m.body_structure().empty()) {
        parts.push_back(Cat("BODYSTRUCTURE ", m.body_structure()));
      } else {
        const std::string* src = load();
        if (src == nullptr) {
          failed = true;
          break;
        }
        if (n == "ENVELOPE") {
          parts.push_back(Cat("ENVELOPE ", ImapEnvelope(*src)));
        } else if (n == "BODYSTRUCTURE" || (n == "BODY" && !item.has_section)) {
          parts.push_back(Cat(n, " ", ImapBodyStructure(*src, n == "BODYSTRUCTURE")));
        } else if (n == "RFC822" || n == "RFC822.HEADER" || n == "RFC822.TEXT") {
          std::string_view bytes = n == "RFC822"          ? std::string_view(*src)
                                   : n == "RFC822.HEADER" ? HeaderBlock(*src)
                                                          : BodyOf(*src);
          parts.push_back(Cat(n, " ", Literal(bytes)));
          seen_now = seen_now || n != "RFC822.HEADER";
        } else {  // BODY[...], BODY.PEEK[...], BINARY[...], BINARY.SIZE[...]
          bool binary = n.starts_with("BINARY");
          std::optional<std::string> bytes;
          if (binary) {
            BinarySection decoded = DecodedSection(*src, item.section.part);
            if (decoded.unknown_encoding) {
              unknown_cte = true;
              break;
            }
            bytes = std::move(decoded.bytes);
          } else {
            bytes = MessageSection(*src, item.section);
          }
          if (n == "BINARY.SIZE") {
            parts.push_back(
                Cat("BINARY.SIZE[", item.section_text, "] ", bytes ? bytes->size() : 0));
            continue;
          }
          std::string text = bytes.value_or("");
          std::string origin;
          if (item.partial) {
            text = item.offset >= text.size() ? "" : text.substr(item.offset, item.length);
            origin = Cat("<", item.offset, ">");
          }
          // Decoded bytes may hold NUL, which only a literal8 (~{n}) may carry.
          bool literal8 = binary && text.find('\0') != std::string::npos;
          parts.push_back(Cat(binary ? "BINARY" : "BODY", "[", item.section_text, "]", origin, " ",
                              !bytes ? "NIL" : Cat(literal8 ? "~" : "", Literal(text))));
          seen_now = seen_now || !n.ends_with(".PEEK");
        }
      }
    }
    if (unknown_cte) {
      return {Cat(out, tag, " NO [UNKNOWN-CTE] Message ", index + 1,
                  " has a part in a transfer encoding the server cannot decode\r\n")};
    }
    if (failed) continue;  // gone meanwhile, or the store is down: say nothing of it
    if (seen_now && !m.seen() && !selected_->read_only) {
      auto updated = store_.UpdateFlags(user_, selected_->folder, m.id(),
                                        [](MessageFlags& f) { f.seen = true; });
      if (updated.ok()) m = *updated;
    }
    bool want_flags = std::any_of(items->begin(), items->end(),
                                  [](const FetchItem& i) { return i.name == "FLAGS"; });
    if (want_flags || seen_now) parts.push_back(Cat("FLAGS ", FlagsText(m)));
    if (want_modseq) parts.push_back(Cat("MODSEQ (", m.modseq(), ")"));
    out += Cat("* ", index + 1, " FETCH (");
    for (size_t i = 0; i < parts.size(); ++i) out += Cat(i ? " " : "", parts[i]);
    out += ")\r\n";
  }
  return {Cat(out, tag, " OK ", uid ? "UID FETCH" : "FETCH", " completed\r\n")};
}

SessionOutput ImapSession::Store(const std::string& tag, ImapParser& p, bool uid) {
  if (selected_->read_only) return Tagged(tag, "NO [READ-ONLY] Mailbox is read-only");
  std::optional<SequenceSet> set;
  if (!p.Space() || !(set = p.Sequence()) || !p.Space()) {
    return Tagged(tag, "BAD Syntax: STORE sequence [+-]FLAGS[.SILENT] (flags)");
  }
  uint64_t unchanged_since = 0;
  bool conditional = false;
  if (p.Consume('(')) {
    if (!p.ConsumeWord("UNCHANGEDSINCE") || !p.Space())
      return Tagged(tag, "BAD Bad STORE modifier");
    auto n = p.Number64();
    if (!n || !p.Consume(')') || !p.Space()) return Tagged(tag, "BAD Bad UNCHANGEDSINCE");
    unchanged_since = *n;
    conditional = true;
    condstore_ = true;
  }
  int mode = 0;  // 0 replace, 1 add, -1 remove
  if (p.Consume('+'))
    mode = 1;
  else if (p.Consume('-'))
    mode = -1;
  auto what = p.Atom();
  std::string upper = what ? Upper(*what) : "";
  if (upper != "FLAGS" && upper != "FLAGS.SILENT") return Tagged(tag, "BAD Expected FLAGS");
  bool silent = upper == "FLAGS.SILENT";
  std::optional<std::vector<std::string>> flags;
  if (!p.Space() || !(flags = p.FlagList()) || !p.AtEnd()) {
    return Tagged(tag, "BAD Bad flag list");
  }
  for (const std::string& f : *flags) {
    static const char* kSystem[] = {"\\SEEN", "\\ANSWERED", "\\FLAGGED", "\\DELETED", "\\DRAFT"};
    if (f[0] == '\\' &&
        std::find(std::begin(kSystem), std::end(kSystem), Upper(f)) == std::end(kSystem)) {
      return Tagged(tag, Cat("BAD Unknown flag ", f));
    }
  }
  auto apply = [&](MessageFlags& m) {
    auto set_flag = [&](std::string_view name, bool on) {
      std::string u = Upper(std::string(name));
      if (u == "\\SEEN")
        m.seen = on;
      else if (u == "\\ANSWERED")
        m.answered = on;
      else if (u == "\\FLAGGED")
        m.flagged = on;
      else if (u == "\\DELETED")
        m.deleted = on;
      else if (u == "\\DRAFT")
        m.draft = on;
      else if (on)
        m.keywords.push_back(std::string(name));
      else
        std::erase(m.keywords, std::string(name));
    };
    if (mode == 0) m = MessageFlags{};
    for (const std::string& f : *flags) set_flag(f, mode >= 0);
  };
  std::string out;
  std::vector<uint32_t> modified;
  for (size_t index : Resolve(*set, uid)) {
    pb::MessageMeta& m = selected_->messages[index];
    if (conditional) {
      auto current = store_.UpdateFlags(user_, selected_->folder, m.id(), [](MessageFlags&) {});
      if (current.ok() && current->modseq() > unchanged_since) {
        modified.push_back(uid ? m.uid() : static_cast<uint32_t>(index + 1));
        continue;
      }
    }
    auto updated = store_.UpdateFlags(user_, selected_->folder, m.id(), apply);
    if (!updated.ok()) continue;  // expunged meanwhile: RFC 9051 allows ignoring it
    m = *updated;
    if (!silent || condstore_) {
      out += Cat("* ", index + 1, " FETCH (", uid ? Cat("UID ", m.uid(), " ") : "", "FLAGS ",
                 FlagsText(m), condstore_ ? Cat(" MODSEQ (", m.modseq(), ")") : "", ")\r\n");
    }
  }
  std::string code;
  if (!modified.empty()) {
    code = "[MODIFIED ";
    for (size_t i = 0; i < modified.size(); ++i) code += Cat(i ? "," : "", modified[i]);
    code += "] ";
  }
  return {Cat(out, tag, " OK ", code, uid ? "UID STORE" : "STORE", " completed\r\n")};
}

}  // namespace penncloud::mail
