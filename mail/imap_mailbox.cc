// ImapSession's folder commands: SELECT/EXAMINE, CREATE, DELETE, RENAME, (UN)SUBSCRIBE,
// LIST/LSUB, STATUS, APPEND, CLOSE/UNSELECT, and keeping the selected snapshot fresh.
#include <algorithm>
#include <map>

#include "mail/delivery.h"
#include "mail/imap_session.h"
#include "mail/mime.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

SessionOutput Tagged(std::string_view tag, std::string_view text) {
  return {Cat(tag, " ", text, "\r\n")};
}

SessionOutput StoreError(std::string_view tag, const absl::Status& s) {
  if (absl::IsNotFound(s)) return Tagged(tag, "NO [NONEXISTENT] No such mailbox");
  if (absl::IsAlreadyExists(s)) return Tagged(tag, "NO [ALREADYEXISTS] Mailbox exists");
  if (absl::IsInvalidArgument(s)) {
    return Tagged(tag, Cat("NO [CANNOT] ", std::string(s.message())));
  }
  if (absl::IsFailedPrecondition(s)) {
    return Tagged(tag, Cat("NO [INUSE] ", std::string(s.message())));
  }
  return Tagged(tag, "NO [UNAVAILABLE] Mail store unavailable, try again");
}

// LIST pattern match: '*' matches anything, '%' anything but the delimiter.
bool Matches(std::string_view pattern, std::string_view name) {
  if (pattern.empty()) return name.empty();
  if (pattern[0] == '*' || pattern[0] == '%') {
    for (size_t i = 0; i <= name.size(); ++i) {
      if (Matches(pattern.substr(1), name.substr(i))) return true;
      if (i < name.size() && pattern[0] == '%' && name[i] == '/') return false;
    }
    return false;
  }
  if (name.empty()) return false;
  bool same = pattern[0] == name[0];
  return same && Matches(pattern.substr(1), name.substr(1));
}

// STATUS items that count the folder's messages; the others are its counters.
bool CountsMessages(std::string_view item) {
  for (std::string_view counted : {"MESSAGES", "UNSEEN", "SIZE", "DELETED"}) {
    if (EqualsIgnoreCase(item, counted)) return true;
  }
  return false;
}

}  // namespace

std::string ImapSession::FlagsText(const pb::MessageMeta& m) const {
  std::vector<std::string> flags;
  if (m.answered()) flags.push_back("\\Answered");
  if (m.flagged()) flags.push_back("\\Flagged");
  if (m.deleted()) flags.push_back("\\Deleted");
  if (m.seen()) flags.push_back("\\Seen");
  if (m.draft()) flags.push_back("\\Draft");
  for (const std::string& k : m.keywords()) flags.push_back(k);
  std::string out = "(";
  for (size_t i = 0; i < flags.size(); ++i) out += Cat(i ? " " : "", flags[i]);
  return out + ")";
}

std::string ImapSession::Refresh() {
  if (!selected_) return "";
  auto state = store_.State(user_, selected_->folder);
  if (!state.ok()) return "";
  if (!selected_->counters_ahead && !selected_->holding_back &&
      state->highest_modseq() == selected_->state.highest_modseq() &&
      state->uid_validity() == selected_->state.uid_validity()) {
    return "";
  }
  auto view = store_.View(user_, selected_->folder);
  if (!view.ok()) return "";
  const std::vector<pb::MessageMeta>& now = view->messages;
  std::map<uint32_t, const pb::MessageMeta*> by_uid;
  for (const auto& m : now) by_uid[m.uid()] = &m;
  std::string out;
  auto& old = selected_->messages;
  std::vector<size_t> gone;  // expunged elsewhere
  for (size_t i = 0; i < old.size(); ++i) {
    if (by_uid.count(old[i].uid()) == 0) gone.push_back(i);
  }
  out += Forget(std::move(gone));
  for (size_t i = 0; i < old.size(); ++i) {
    const pb::MessageMeta& fresh = *by_uid[old[i].uid()];
    if (fresh.modseq() != old[i].modseq()) {
      out += Cat("* ", i + 1, " FETCH (UID ", fresh.uid(), " FLAGS ", FlagsText(fresh),
                 condstore_ ? Cat(" MODSEQ (", fresh.modseq(), ")") : "", ")\r\n");
      old[i] = fresh;
    }
  }
  size_t before = old.size();
  AnnounceInUidOrder(now);
  if (old.size() != before) out += Cat("* ", old.size(), " EXISTS\r\n");
  KeepCounters(*view);
  return out;
}

// A UID is taken before its entry is written (mail_store.h), so two deliveries may list
// UID 4 before UID 3. Once 4 is shown, 3 could never be (UIDs only ascend within a
// selection), and a client that fetches above the highest UID it knows would never see it.
// So entries above a missing UID wait, until it is listed or has been missing longer than a
// write takes: it was then expunged before this session saw it, or its writer died.
void ImapSession::AnnounceInUidOrder(const std::vector<pb::MessageMeta>& listed) {
  Selected& s = *selected_;
  const auto looked = std::chrono::steady_clock::now();
  s.holding_back = false;
  for (const auto& m : listed) {
    if (m.uid() <= s.announced_through) continue;
    const uint32_t next = s.announced_through + 1;
    if (m.uid() != next) {
      if (s.awaited_uid != next) {
        s.awaited_uid = next;
        s.awaited_since = looked;
      }
      if (looked - s.awaited_since <= kLongestEntryWrite) {
        s.holding_back = true;
        return;
      }
    }
    s.messages.push_back(m);
    s.announced_through = m.uid();
  }
}

// A change number is taken before the entry it numbers is written (mail_store.h), so a look
// just after a change may not list it yet, and a listing that sees the counters but not the
// entry must not be the last one. An expunge's number is never shown by any entry, nor is
// that of a writer that died: hence the bound.
void ImapSession::KeepCounters(const FolderView& view) {
  const pb::FolderState& state = view.state;
  uint64_t shown = 0;
  for (const auto& m : view.messages) shown = std::max(shown, m.modseq());
  const auto looked = std::chrono::steady_clock::now();
  Selected& s = *selected_;
  if (!s.counters_ahead || state.highest_modseq() != s.unshown_modseq) {
    s.unshown_modseq = state.highest_modseq();
    s.unshown_since = looked;
  }
  s.counters_ahead = (view.pending || shown < state.highest_modseq()) &&
                     looked - s.unshown_since <= kLongestEntryWrite;
  if (!s.counters_ahead && !s.holding_back) s.state = state;
}

std::optional<std::chrono::milliseconds> ImapSession::RecheckAfter() const {
  if (!Idling() || !selected_) return std::nullopt;
  const Selected& s = *selected_;
  if (!s.counters_ahead && !s.holding_back) return std::nullopt;
  auto since = std::chrono::steady_clock::time_point::max();
  if (s.counters_ahead) since = s.unshown_since;
  if (s.holding_back) since = std::min(since, s.awaited_since);
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - since);
  return std::max(waited, std::chrono::milliseconds(250));
}

std::vector<size_t> ImapSession::Resolve(const SequenceSet& set, bool uid) const {
  std::vector<size_t> out;
  const auto& messages = selected_->messages;
  if (messages.empty()) return out;
  uint32_t largest = uid ? messages.back().uid() : static_cast<uint32_t>(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    uint32_t n = uid ? messages[i].uid() : static_cast<uint32_t>(i + 1);
    if (set.Contains(n, largest)) out.push_back(i);
  }
  return out;
}

std::string ImapSession::ExpungeIndexes(std::vector<size_t> indexes) {
  std::vector<size_t> removed;
  for (size_t i : indexes) {
    // The selected folder's copy: a move cut short by a crash can list one id in two folders.
    if (store_.Remove(user_, selected_->folder, selected_->messages[i].id()).ok()) {
      removed.push_back(i);
    }
  }
  return Forget(std::move(removed));
}

SessionOutput ImapSession::Select(const std::string& tag, ImapParser& p, bool read_only) {
  std::optional<std::string> name;
  if (!p.Space() || !(name = p.AString())) return Tagged(tag, "BAD Syntax: SELECT mailbox");
  std::optional<ResyncFrom> resync;
  if (p.Space()) {  // (CONDSTORE), (QRESYNC (...))
    if (!p.Consume('(')) return Tagged(tag, "BAD Syntax: SELECT mailbox [(parameters)]");
    while (!p.Consume(')')) {
      auto param = p.Atom();
      if (!param) return Tagged(tag, "BAD Bad SELECT parameter");
      if (EqualsIgnoreCase(*param, "CONDSTORE")) {
        condstore_ = true;
      } else if (EqualsIgnoreCase(*param, "QRESYNC")) {
        if (!qresync_) return Tagged(tag, "BAD QRESYNC must be enabled first (ENABLE QRESYNC)");
        if (!p.Space() || !(resync = ParseResync(p))) {
          return Tagged(tag, "BAD Syntax: (QRESYNC (uidvalidity modseq [known-uids]))");
        }
      } else {
        return Tagged(tag, Cat("BAD Unknown SELECT parameter ", *param));
      }
      if (p.Peek() == ' ') p.Space();
    }
  }
  if (!p.AtEnd()) return Tagged(tag, "BAD Syntax: SELECT mailbox");
  // RFC 9051 6.3.2: a SELECT that fails leaves nothing selected (a BAD one was not run);
  // QRESYNC (RFC 7162 3.2.11) and IMAP4rev2 clients are told the old mailbox closed.
  std::string closed =
      selected_ && (qresync_ || rev2_) ? "* OK [CLOSED] Previous mailbox closed\r\n" : "";
  selected_.reset();
  std::string folder = StoreName(*name);
  auto view = store_.View(user_, folder);
  if (!view.ok()) return {closed + StoreError(tag, view.status()).text};
  const pb::FolderState state = view->state;
  Selected fresh;
  fresh.folder = folder;
  fresh.read_only = read_only;
  fresh.state = state;
  if (!view->messages.empty()) fresh.announced_through = view->messages.back().uid();
  selected_ = std::move(fresh);
  KeepCounters(*view);
  selected_->messages = std::move(view->messages);
  std::string out =
      closed +
      "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
      "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags allowed\r\n";
  out += Cat("* ", selected_->messages.size(), " EXISTS\r\n");
  if (!rev2_) {
    out += "* 0 RECENT\r\n";
    for (size_t i = 0; i < selected_->messages.size(); ++i) {
      if (!selected_->messages[i].seen()) {
        out += Cat("* OK [UNSEEN ", i + 1, "] First unseen\r\n");
        break;
      }
    }
  }
  out += Cat("* OK [UIDVALIDITY ", state.uid_validity(), "] UIDs valid\r\n");
  out += Cat("* OK [UIDNEXT ", state.uid_next(), "] Predicted next UID\r\n");
  out += Cat("* OK [HIGHESTMODSEQ ", state.highest_modseq(), "] Highest\r\n");
  if (resync) out += Resync(*resync);
  out += Cat(tag, read_only ? " OK [READ-ONLY] EXAMINE completed\r\n"
                            : " OK [READ-WRITE] SELECT completed\r\n");
  return {out};
}

SessionOutput ImapSession::Create(const std::string& tag, ImapParser& p) {
  std::optional<std::string> name;
  if (!p.Space() || !(name = p.AString())) return Tagged(tag, "BAD Syntax: CREATE mailbox");
  std::string folder = StoreName(*name);
  while (!folder.empty() && folder.back() == '/') folder.pop_back();  // RFC 9051 6.3.4
  if (IsFolder(folder)) return Tagged(tag, "NO [ALREADYEXISTS] Mailbox exists");
  if (auto s = store_.CreateFolder(user_, folder); !s.ok()) return StoreError(tag, s);
  return Tagged(tag, "OK CREATE completed");
}

SessionOutput ImapSession::Delete(const std::string& tag, ImapParser& p) {
  std::optional<std::string> name;
  if (!p.Space() || !(name = p.AString())) return Tagged(tag, "BAD Syntax: DELETE mailbox");
  std::string folder = StoreName(*name);
  if (IsFolder(folder)) return Tagged(tag, "NO [CANNOT] System folders cannot be deleted");
  if (selected_ && selected_->folder == folder) selected_.reset();
  if (auto s = store_.DeleteFolder(user_, folder); !s.ok()) return StoreError(tag, s);
  return Tagged(tag, "OK DELETE completed");
}

SessionOutput ImapSession::Rename(const std::string& tag, ImapParser& p) {
  std::optional<std::string> from, to;
  if (!p.Space() || !(from = p.AString()) || !p.Space() || !(to = p.AString())) {
    return Tagged(tag, "BAD Syntax: RENAME from to");
  }
  std::string a = StoreName(*from), b = StoreName(*to);
  if (IsFolder(a)) return Tagged(tag, "NO [CANNOT] System folders cannot be renamed");
  if (IsFolder(b)) return Tagged(tag, "NO [ALREADYEXISTS] Mailbox exists");
  if (auto s = store_.RenameFolder(user_, a, b); !s.ok()) return StoreError(tag, s);
  if (selected_ && selected_->folder == a) selected_.reset();
  return Tagged(tag, "OK RENAME completed");
}

SessionOutput ImapSession::Subscribe(const std::string& tag, ImapParser& p, bool subscribe) {
  std::optional<std::string> name;
  if (!p.Space() || !(name = p.AString())) return Tagged(tag, "BAD Syntax: SUBSCRIBE mailbox");
  if (auto s = store_.SetSubscribed(user_, StoreName(*name), subscribe); !s.ok()) {
    return StoreError(tag, s);
  }
  return Tagged(tag, subscribe ? "OK SUBSCRIBE completed" : "OK UNSUBSCRIBE completed");
}

std::optional<std::string> ImapSession::StatusItems(std::string_view folder,
                                                    const std::vector<std::string>& items) {
  // UIDNEXT and HIGHESTMODSEQ as SELECT would give them: the prefix's (MailStore::View).
  auto view = store_.View(user_, folder, std::any_of(items.begin(), items.end(), CountsMessages));
  if (!view.ok()) return std::nullopt;
  const pb::FolderState& state = view->state;
  std::string out;
  for (const std::string& item : items) {
    std::string upper = item;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    uint64_t value = 0;
    if (upper == "UIDNEXT") {
      value = state.uid_next();
    } else if (upper == "UIDVALIDITY") {
      value = state.uid_validity();
    } else if (upper == "HIGHESTMODSEQ") {
      value = state.highest_modseq();
    } else if (upper == "RECENT") {
      value = 0;
    } else if (CountsMessages(upper)) {
      for (const auto& m : view->messages) {
        if (upper == "MESSAGES") value += 1;
        if (upper == "UNSEEN") value += m.seen() ? 0 : 1;
        if (upper == "DELETED") value += m.deleted() ? 1 : 0;
        if (upper == "SIZE") value += static_cast<uint64_t>(m.size());
      }
    } else {
      return std::nullopt;
    }
    out += Cat(out.empty() ? "" : " ", upper, " ", value);
  }
  return out;
}

SessionOutput ImapSession::Status(const std::string& tag, ImapParser& p) {
  std::optional<std::string> name;
  if (!p.Space() || !(name = p.AString()) || !p.Space() || !p.Consume('(')) {
    return Tagged(tag, "BAD Syntax: STATUS mailbox (items)");
  }
  std::vector<std::string> items;
  while (!p.Consume(')')) {
    auto item = p.Atom();
    if (!item || items.size() > 16) return Tagged(tag, "BAD Syntax: STATUS mailbox (items)");
    items.push_back(*item);
    p.Space();
  }
  std::string folder = StoreName(*name);
  if (!store_.FolderExists(user_, folder)) return Tagged(tag, "NO [NONEXISTENT] No such mailbox");
  auto text = StatusItems(folder, items);
  if (!text) return Tagged(tag, "BAD Unknown status item (or store unavailable)");
  return {Cat("* STATUS ", ImapString(ImapName(folder)), " (", *text, ")\r\n", tag,
              " OK STATUS completed\r\n")};
}

SessionOutput ImapSession::List(const std::string& tag, ImapParser& p, bool lsub) {
  bool subscribed_only = lsub, special_only = false;
  if (!p.Space()) return Tagged(tag, "BAD Syntax: LIST reference pattern");
  if (!lsub && p.Consume('(')) {  // LIST-EXTENDED selection options
    while (!p.Consume(')')) {
      auto option = p.Atom();
      if (!option) return Tagged(tag, "BAD Bad LIST selection option");
      if (EqualsIgnoreCase(*option, "SUBSCRIBED")) subscribed_only = true;
      if (EqualsIgnoreCase(*option, "SPECIAL-USE")) special_only = true;
      p.Space();
    }
    if (!p.Space()) return Tagged(tag, "BAD Syntax: LIST (options) reference pattern");
  }
  std::optional<std::string> reference, pattern;
  if (!(reference = p.AString().value_or("")).has_value() || !p.Space()) {
    return Tagged(tag, "BAD Syntax: LIST reference pattern");
  }
  std::vector<std::string> patterns;
  if (p.Consume('(')) {
    while (!p.Consume(')')) {
      auto one = p.ListMailbox();
      if (!one || patterns.size() > 32) return Tagged(tag, "BAD Bad LIST pattern");
      patterns.push_back(*reference + *one);
      p.Space();
    }
  } else {
    if (!(pattern = p.ListMailbox())) return Tagged(tag, "BAD Syntax: LIST reference pattern");
    patterns.push_back(*reference + *pattern);
  }
  bool return_special = false;
  std::vector<std::string> status_items;
  if (p.Space()) {
    if (!p.ConsumeWord("RETURN") || !p.Space() || !p.Consume('(')) {
      return Tagged(tag, "BAD Syntax: LIST ... RETURN (options)");
    }
    while (!p.Consume(')')) {
      auto option = p.Atom();
      if (!option) return Tagged(tag, "BAD Bad LIST return option");
      if (EqualsIgnoreCase(*option, "SPECIAL-USE")) return_special = true;
      if (EqualsIgnoreCase(*option, "STATUS")) {
        if (!p.Space() || !p.Consume('('))
          return Tagged(tag, "BAD Syntax: RETURN (STATUS (items))");
        while (!p.Consume(')')) {
          auto item = p.Atom();
          if (!item || status_items.size() > 16) return Tagged(tag, "BAD Bad STATUS item");
          status_items.push_back(*item);
          p.Space();
        }
      }
      p.Space();
    }
  }
  if (!p.AtEnd()) return Tagged(tag, "BAD Syntax: LIST reference pattern");
  const char* verb = lsub ? "LSUB" : "LIST";
  if (patterns.size() == 1 && patterns[0].empty()) {
    return {Cat("* ", verb, " (\\Noselect) \"/\" \"\"\r\n", tag, " OK ", verb, " completed\r\n")};
  }
  auto folders = store_.Folders(user_);
  if (!folders.ok()) return StoreError(tag, folders.status());
  std::string out;
  for (const std::string& folder : *folders) {
    std::string name = ImapName(folder);
    bool match = false;
    for (const std::string& pat : patterns) {
      // INBOX matches case-insensitively (RFC 9051 5.1).
      match = match || Matches(pat, name) || (folder == kInbox && EqualsIgnoreCase(pat, "INBOX"));
    }
    if (!match) continue;
    std::string_view special = SpecialUse(folder);
    if (special_only && special.empty()) continue;
    bool subscribed = true;
    if (subscribed_only || !lsub) {
      auto state = store_.State(user_, folder);
      subscribed = state.ok() && state->subscribed();
    }
    if (subscribed_only && !subscribed) continue;
    bool children = std::any_of(folders->begin(), folders->end(), [&](const std::string& f) {
      return f.size() > folder.size() && f.starts_with(folder) && f[folder.size()] == '/';
    });
    std::string attributes = children ? "\\HasChildren" : "\\HasNoChildren";
    if (!special.empty() && (!return_special || true)) attributes += Cat(" ", special);
    if (subscribed_only && subscribed && !lsub) attributes += " \\Subscribed";
    out += Cat("* ", verb, " (", attributes, ") \"/\" ", ImapString(name), "\r\n");
    if (!status_items.empty()) {
      if (auto items = StatusItems(folder, status_items)) {
        out += Cat("* STATUS ", ImapString(name), " (", *items, ")\r\n");
      }
    }
  }
  return {Cat(out, tag, " OK ", verb, " completed\r\n")};
}

namespace {

struct Appended {
  MessageFlags flags;
  int64_t received = 0;  // 0 = now
  std::string source;
};

// One message of an APPEND: [(flags)] [date-time] literal (a literal8, ~{n}, too: BINARY).
std::optional<Appended> ParseAppended(ImapParser& p, std::string* error) {
  auto fail = [error](const char* why) {
    *error = why;
    return std::nullopt;
  };
  Appended a;
  if (p.Peek() == '(') {
    auto list = p.FlagList();
    if (!list || !p.Space()) return fail("Bad flag list");
    for (const std::string& f : *list) {
      if (EqualsIgnoreCase(f, "\\Seen"))
        a.flags.seen = true;
      else if (EqualsIgnoreCase(f, "\\Answered"))
        a.flags.answered = true;
      else if (EqualsIgnoreCase(f, "\\Flagged"))
        a.flags.flagged = true;
      else if (EqualsIgnoreCase(f, "\\Deleted"))
        a.flags.deleted = true;
      else if (EqualsIgnoreCase(f, "\\Draft"))
        a.flags.draft = true;
      else if (f[0] != '\\')
        a.flags.keywords.push_back(f);
    }
  }
  if (p.Peek() == '"') {
    auto date = p.String();
    auto parsed = date ? ParseImapDate(*date) : std::nullopt;
    if (!parsed || !p.Space()) return fail("Bad date-time");
    a.received = *parsed;
  }
  p.Consume('~');
  if (p.Peek() != '{') return fail("APPEND needs the message as a literal");
  auto message = p.String();
  if (!message) return fail("Syntax: APPEND mailbox literal");
  if (message->empty()) return fail("An empty message cannot be stored");
  a.source = ToCrlf(*message);
  return a;
}

}  // namespace

// APPEND, and MULTIAPPEND (RFC 3502): several messages in one command, all or none.
SessionOutput ImapSession::Append(const std::string& tag, ImapParser& p) {
  std::optional<std::string> name;
  if (!p.Space() || !(name = p.AString()) || !p.Space()) {
    return Tagged(tag, "BAD Syntax: APPEND mailbox [(flags)] [date-time] literal");
  }
  std::vector<Appended> messages;
  do {
    std::string error;
    auto one = ParseAppended(p, &error);
    if (!one) return Tagged(tag, Cat(error.starts_with("An empty") ? "NO " : "BAD ", error));
    messages.push_back(std::move(*one));
  } while (p.Consume(' '));
  if (!p.AtEnd()) return Tagged(tag, "BAD Syntax: APPEND mailbox literal...");
  std::string folder = StoreName(*name);
  if (!store_.FolderExists(user_, folder)) return Tagged(tag, "NO [TRYCREATE] No such mailbox");
  // A Sent copy our SMTP server filed when the client sent the message is the copy
  // (delivery.h): its UID answers instead of the message being stored twice.
  std::vector<std::optional<uint32_t>> filed_uids(messages.size());
  std::vector<NewMessage> to_add;
  for (size_t i = 0; i < messages.size(); ++i) {
    const Appended& a = messages[i];
    if (folder == kSent) {
      auto filed = FindSentCopy(store_, user_, a.source, now_micros_());
      if (!filed.ok()) return StoreError(tag, filed.status());
      if (filed->has_value()) {
        filed_uids[i] = (*filed)->uid();
        continue;
      }
    }
    to_add.push_back({a.source, a.flags, a.received});
  }
  std::vector<pb::MessageMeta> added;
  if (!to_add.empty()) {
    auto all = store_.AddAll(user_, folder, to_add);
    if (!all.ok()) return StoreError(tag, all.status());
    added = std::move(*all);
  }
  std::vector<uint32_t> uids;
  auto next_added = added.begin();
  for (const auto& filed : filed_uids) uids.push_back(filed ? *filed : (next_added++)->uid());
  auto state = store_.State(user_, folder);
  std::string news = selected_ && selected_->folder == folder ? Refresh() : "";
  return {Cat(news, tag, " OK [APPENDUID ", state.ok() ? state->uid_validity() : 0, " ",
              SequenceText(uids), "] APPEND completed\r\n")};
}

SessionOutput ImapSession::Close(const std::string& tag, bool expunge) {
  if (expunge && !selected_->read_only) {
    std::vector<size_t> deleted;
    for (size_t i = 0; i < selected_->messages.size(); ++i) {
      if (selected_->messages[i].deleted()) deleted.push_back(i);
    }
    ExpungeIndexes(deleted);  // CLOSE sends no EXPUNGE responses
  }
  selected_.reset();
  return Tagged(tag, expunge ? "OK CLOSE completed" : "OK UNSELECT completed");
}

}  // namespace penncloud::mail
