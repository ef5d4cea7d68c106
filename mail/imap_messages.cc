// ImapSession's COPY, MOVE and EXPUNGE (RFC 9051 6.4.3, 6.4.7, 6.4.8; UIDPLUS's COPYUID
// and UID EXPUNGE, RFC 4315).
#include "mail/imap_session.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

SessionOutput Tagged(std::string_view tag, std::string_view text) {
  return {Cat(tag, " ", text, "\r\n")};
}

}  // namespace

SessionOutput ImapSession::CopyOrMove(const std::string& tag, ImapParser& p, bool uid, bool move) {
  std::optional<SequenceSet> set;
  std::optional<std::string> name;
  if (!p.Space() || !(set = p.Sequence()) || !p.Space() || !(name = p.AString()) || !p.AtEnd()) {
    return Tagged(tag,
                  move ? "BAD Syntax: MOVE sequence mailbox" : "BAD Syntax: COPY sequence mailbox");
  }
  if (move && selected_->read_only) return Tagged(tag, "NO [READ-ONLY] Mailbox is read-only");
  std::string folder = StoreName(*name);
  if (!store_.FolderExists(user_, folder)) return Tagged(tag, "NO [TRYCREATE] No such mailbox");
  std::vector<size_t> indexes = Resolve(*set, uid);
  std::vector<uint32_t> from, to;
  std::vector<size_t> moved;
  for (size_t index : indexes) {
    const pb::MessageMeta& m = selected_->messages[index];
    absl::StatusOr<pb::MessageMeta> done = move && folder != selected_->folder
                                               ? store_.Move(user_, m.id(), folder)
                                               : store_.Copy(user_, m, folder);
    if (!done.ok()) {
      if (from.empty()) return Tagged(tag, "NO [UNAVAILABLE] Mail store unavailable, try again");
      break;  // some were done: report those (RFC 4315 allows a partial COPYUID only on OK)
    }
    from.push_back(m.uid());
    to.push_back(done->uid());
    moved.push_back(index);
  }
  auto state = store_.State(user_, folder);
  std::string code = from.empty() || !state.ok()
                         ? ""
                         : Cat("[COPYUID ", state->uid_validity(), " ", SequenceText(from), " ",
                               SequenceText(to), "] ");
  if (!move) return {Cat(tag, " OK ", code, uid ? "UID COPY" : "COPY", " completed\r\n")};
  // MOVE: the COPYUID comes untagged, then the EXPUNGEs (RFC 6851 4.3).
  std::string out = code.empty() ? "" : Cat("* OK ", code, "Moved\r\n");
  out += Forget(std::move(moved));
  return {Cat(out, tag, " OK ", uid ? "UID MOVE" : "MOVE", " completed\r\n")};
}

SessionOutput ImapSession::Expunge(const std::string& tag, ImapParser& p, bool uid) {
  if (selected_->read_only) return Tagged(tag, "NO [READ-ONLY] Mailbox is read-only");
  std::optional<SequenceSet> only;
  if (uid && (!p.Space() || !(only = p.Sequence()))) {
    return Tagged(tag, "BAD Syntax: UID EXPUNGE uid-set");
  }
  if (!p.AtEnd()) return Tagged(tag, "BAD EXPUNGE takes no arguments");
  std::string news = Refresh();  // flags set elsewhere count too
  std::vector<size_t> chosen;
  uint32_t largest = selected_->messages.empty() ? 0 : selected_->messages.back().uid();
  for (size_t i = 0; i < selected_->messages.size(); ++i) {
    const pb::MessageMeta& m = selected_->messages[i];
    if (m.deleted() && (!only || only->Contains(m.uid(), largest))) chosen.push_back(i);
  }
  return {Cat(news, ExpungeIndexes(chosen), tag, " OK ", uid ? "UID EXPUNGE" : "EXPUNGE",
              " completed\r\n")};
}

}  // namespace penncloud::mail
