// One IMAP session (RFC 9051 IMAP4rev2 and RFC 3501 IMAP4rev1, with LITERAL+, SASL-IR,
// ENABLE, ID, IDLE, NAMESPACE, UNSELECT, UIDPLUS, MOVE, CONDSTORE, QRESYNC, SPECIAL-USE,
// LIST-EXTENDED, LIST-STATUS, MULTIAPPEND and BINARY) as a state machine over the mailbox store:
// the server hands it lines and literal bytes, it returns the text to send. No sockets inside.
//
// Framing: a line ending in {n} or {n+} announces an n-byte literal. The session refuses
// one over ImapConfig::max_literal_bytes before any of it is read: a synchronizing
// literal gets a tagged NO [TOOBIG] instead of the "+" go-ahead, a non-synchronizing one
// (whose bytes are already on their way) ends the connection with BYE. Otherwise
// LiteralWanted() says how many raw bytes to pass to OnLiteral before the next line.
//
// Logins (LOGIN, AUTHENTICATE PLAIN/LOGIN) are refused before TLS: CAPABILITY then says
// LOGINDISABLED. The selected mailbox is a snapshot refreshed from the store (folder
// counters first, so an unchanged folder costs one read) at NOOP, CHECK, during IDLE
// (OnPoll) and after the session's own changes; flag changes and expunges made elsewhere
// arrive then as untagged FETCH and EXPUNGE.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mail/imap_message.h"
#include "mail/imap_parser.h"
#include "mail/mail_store.h"
#include "mail/pop3_session.h"  // Authenticator
#include "mail/session_output.h"

namespace penncloud::mail {

struct ImapConfig {
  std::string hostname = "penncloud.local";
  std::string domain = "penncloud.local";
  bool tls_available = false;
  size_t max_literal_bytes = 32 << 20;  // the largest APPEND (and any other literal)
  size_t max_command_bytes = 64 << 10;  // a command's text without its literals
  int max_literals = 16;                // per command
  int max_nesting = 16;                 // parentheses in SEARCH and FETCH
  size_t max_search_bodies = 2000;      // sources one SEARCH may read (BODY, TEXT, HEADER)
};

class ImapSession {
 public:
  ImapSession(const ImapConfig& config, MailStore& store, Authenticator authenticate,
              std::function<int64_t()> now_micros = nullptr);

  std::string Greeting() const;
  SessionOutput OnLine(std::string_view line);
  SessionOutput OnLineTooLong();
  // Raw bytes of the literal announced last; at most LiteralWanted() of them.
  size_t LiteralWanted() const { return literal_left_; }
  SessionOutput OnLiteral(std::string_view bytes);
  void OnTlsStarted() { tls_ = true; }
  // True while the client waits in IDLE: the server then calls OnPoll every so often.
  bool Idling() const { return idle_tag_.has_value(); }
  SessionOutput OnPoll();
  // While an IDLE waits for entries its folder's counters already show, or for a UID below
  // entries already listed (a change number and a UID are taken before the entry they
  // number is written, mail_store.h), how long the server should
  // wait before calling OnPoll again unwoken: the time waited so far, at least 250 ms, so
  // the looks back off by doubling until the entries show or Refresh stops waiting (15 s).
  // A wake (a watch's) may never come for the entry itself. nullopt: nothing awaited.
  std::optional<std::chrono::milliseconds> RecheckAfter() const;
  bool authenticated() const { return !user_.empty(); }
  const std::string& user() const { return user_; }
  // The selected folder (the store's name, "" if none): the one an IDLE waits on.
  std::string selected_folder() const { return selected_ ? selected_->folder : ""; }

 private:
  struct Selected {
    std::string folder;  // the store's name
    bool read_only = false;
    pb::FolderState state;
    std::vector<pb::MessageMeta> messages;  // message n is messages[n - 1]
    // The counters show a change no entry does yet (KeepCounters): each look lists the
    // folder. The newest such change number, and since when it stood unshown.
    bool counters_ahead = false;
    uint64_t unshown_modseq = 0;
    std::chrono::steady_clock::time_point unshown_since;
    // The highest UID shown (expunged ones included), and the missing UID above it that
    // newer entries wait for (AnnounceInUidOrder), since when.
    uint32_t announced_through = 0;
    bool holding_back = false;
    uint32_t awaited_uid = 0;
    std::chrono::steady_clock::time_point awaited_since;
  };
  enum class Sasl { kNone, kPlain, kLoginUser, kLoginPass };

  SessionOutput Execute(std::string_view command);
  SessionOutput Dispatch(const std::string& tag, std::string_view verb, ImapParser& p);
  SessionOutput SaslLine(std::string_view line);
  SessionOutput Login(const std::string& tag, std::string_view user, std::string_view password);
  std::string Capabilities() const;

  // Commands (imap_session.cc: any state and authenticated; imap_mailbox.cc: folders;
  // imap_fetch.cc: FETCH/STORE; imap_search.cc: SEARCH; imap_messages.cc: the rest).
  SessionOutput Authenticate(const std::string& tag, ImapParser& p);
  SessionOutput Select(const std::string& tag, ImapParser& p, bool read_only);
  SessionOutput Create(const std::string& tag, ImapParser& p);
  SessionOutput Delete(const std::string& tag, ImapParser& p);
  SessionOutput Rename(const std::string& tag, ImapParser& p);
  SessionOutput Subscribe(const std::string& tag, ImapParser& p, bool subscribe);
  SessionOutput List(const std::string& tag, ImapParser& p, bool lsub);
  SessionOutput Status(const std::string& tag, ImapParser& p);
  SessionOutput Append(const std::string& tag, ImapParser& p);
  SessionOutput Fetch(const std::string& tag, ImapParser& p, bool uid);
  SessionOutput Store(const std::string& tag, ImapParser& p, bool uid);
  SessionOutput CopyOrMove(const std::string& tag, ImapParser& p, bool uid, bool move);
  SessionOutput Expunge(const std::string& tag, ImapParser& p, bool uid);
  SessionOutput Search(const std::string& tag, ImapParser& p, bool uid);
  SessionOutput Close(const std::string& tag, bool expunge);

  // The selected folder's news since the last look, as untagged responses.
  std::string Refresh();
  // Keeps the view's counters as the selected folder's once its entries show every change
  // they number and none is pending, or once that stood so longer than a write takes.
  void KeepCounters(const FolderView& view);
  // Adds the entries of `listed` (all of the folder, by UID) above the highest UID shown to
  // the snapshot, in UID order, stopping below a UID that may still be written.
  void AnnounceInUidOrder(const std::vector<pb::MessageMeta>& listed);
  // Drops the messages at `indexes` from the snapshot; returns what tells the client:
  // EXPUNGEs (highest first), or one VANISHED once QRESYNC is enabled (imap_resync.cc).
  std::string Forget(std::vector<size_t> indexes);
  // QRESYNC's VANISHED (EARLIER): the UIDs in `within` below UIDNEXT that the folder no
  // longer holds, or "" if none. The store keeps no record of expunged UIDs, so this is
  // every such UID, not only those removed since the client's mod-sequence (RFC 7162
  // 3.2.5.1 allows the larger set; clients drop UIDs they never had).
  std::string VanishedEarlier(const SequenceSet& within) const;
  // SELECT's (QRESYNC (uidvalidity modseq [known-uids [seq-match]])): what the client
  // knew, and, if its UIDVALIDITY still holds, the VANISHED (EARLIER) and the FETCHes of
  // what changed since its modseq.
  struct ResyncFrom {
    uint32_t uid_validity = 0;
    uint64_t modseq = 0;
    SequenceSet known{{{1, 0}}};  // 1:*
  };
  static std::optional<ResyncFrom> ParseResync(ImapParser& p);
  std::string Resync(const ResyncFrom& from) const;
  // Message indexes (0-based) a sequence or UID set names, in order.
  std::vector<size_t> Resolve(const SequenceSet& set, bool uid) const;
  // Removes the messages at `indexes` for good; returns their untagged EXPUNGEs.
  std::string ExpungeIndexes(std::vector<size_t> indexes);
  // "STATUS"-style items of one folder, e.g. "MESSAGES 3 UNSEEN 1".
  std::optional<std::string> StatusItems(std::string_view folder,
                                         const std::vector<std::string>& items);
  std::string FlagsText(const pb::MessageMeta& meta) const;

  const ImapConfig& config_;
  MailStore& store_;
  Authenticator authenticate_;
  std::function<int64_t()> now_micros_;

  bool tls_ = false;
  std::string user_;
  bool condstore_ = false;  // ENABLE CONDSTORE, or a CONDSTORE-only command seen
  bool qresync_ = false;    // ENABLE QRESYNC: VANISHED instead of EXPUNGE
  bool rev2_ = false;       // ENABLE IMAP4rev2
  std::optional<Selected> selected_;

  // Framing.
  std::string command_;      // the command so far: lines joined by CRLF, literals in place
  size_t literal_left_ = 0;  // raw bytes still owed by the announced literal
  int literals_ = 0;         // literals in command_
  bool continuing_ = false;  // the next line continues command_ (after a literal)
  Sasl sasl_ = Sasl::kNone;
  std::string sasl_tag_, sasl_user_;
  std::optional<std::string> idle_tag_;
  bool logged_out_ = false;
};

// Mailbox names as IMAP shows them ("INBOX", "Sent", ..., user folders as stored) and back.
std::string ImapName(std::string_view folder);
std::string StoreName(std::string_view imap_name);
// The SPECIAL-USE attribute of a system folder ("\Sent"), "" for others.
std::string_view SpecialUse(std::string_view folder);
// INTERNALDATE text ("06-Dec-2026 05:00:00 +0000") and its parse (nullopt if malformed).
std::string ImapDate(int64_t micros);
std::optional<int64_t> ParseImapDate(std::string_view text);

}  // namespace penncloud::mail
