// ImapSession's quick resynchronization (RFC 7162 QRESYNC): VANISHED instead of EXPUNGE,
// SELECT ... (QRESYNC ...), and the VANISHED (EARLIER) of UID FETCH ... (VANISHED).
#include <algorithm>

#include "mail/imap_session.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

using Range = std::pair<uint32_t, uint32_t>;

// The UID ranges of `within` as closed, sorted, merged intervals; `*` is `largest`.
std::vector<Range> Intervals(const SequenceSet& within, uint32_t largest) {
  std::vector<Range> out;
  for (auto [a, b] : within.ranges) {
    uint32_t lo = a == 0 ? largest : a, hi = b == 0 ? largest : b;
    if (lo > hi) std::swap(lo, hi);
    out.push_back({lo, hi});
  }
  std::sort(out.begin(), out.end());
  std::vector<Range> merged;
  for (const Range& r : out) {
    if (!merged.empty() && r.first <= merged.back().second + uint64_t{1}) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

std::string RangesText(const std::vector<Range>& ranges) {
  std::string out;
  for (const Range& r : ranges) {
    out += Cat(out.empty() ? "" : ",", r.first);
    if (r.second > r.first) out += Cat(":", r.second);
  }
  return out;
}

}  // namespace

std::string ImapSession::Forget(std::vector<size_t> indexes) {
  std::sort(indexes.begin(), indexes.end());
  auto& messages = selected_->messages;
  std::vector<uint32_t> uids;
  std::string out;
  // Highest first, so every EXPUNGE's number is right when the client reads it.
  for (size_t k = indexes.size(); k-- > 0;) {
    size_t i = indexes[k];
    uids.push_back(messages[i].uid());
    if (!qresync_) out += Cat("* ", i + 1, " EXPUNGE\r\n");
    messages.erase(messages.begin() + static_cast<long>(i));
  }
  if (!qresync_ || uids.empty()) return out;
  std::reverse(uids.begin(), uids.end());
  return Cat("* VANISHED ", SequenceText(uids), "\r\n");
}

std::string ImapSession::VanishedEarlier(const SequenceSet& within) const {
  uint32_t next = selected_->state.uid_next();
  if (next <= 1) return "";
  // The gaps between the UIDs the folder holds, below UIDNEXT...
  std::vector<Range> gaps;
  uint32_t expected = 1;
  for (const pb::MessageMeta& m : selected_->messages) {
    if (m.uid() > expected) gaps.push_back({expected, m.uid() - 1});
    expected = m.uid() + 1;
  }
  if (expected < next) gaps.push_back({expected, next - 1});
  // ...that the client asked about: two sorted interval lists, intersected in one pass.
  std::vector<Range> asked = Intervals(within, next - 1);
  std::vector<Range> vanished;
  for (size_t g = 0, a = 0; g < gaps.size() && a < asked.size();) {
    uint32_t lo = std::max(gaps[g].first, asked[a].first);
    uint32_t hi = std::min(gaps[g].second, asked[a].second);
    if (lo <= hi) vanished.push_back({lo, hi});
    if (gaps[g].second < asked[a].second) {
      ++g;
    } else {
      ++a;
    }
  }
  if (vanished.empty()) return "";
  return Cat("* VANISHED (EARLIER) ", RangesText(vanished), "\r\n");
}

std::optional<ImapSession::ResyncFrom> ImapSession::ParseResync(ImapParser& p) {
  // (uidvalidity modseq [known-uids [(known-sequence-set known-uid-set)]])
  ResyncFrom from;
  if (!p.Consume('(')) return std::nullopt;
  auto validity = p.Number();
  std::optional<uint64_t> modseq;
  if (!validity || !p.Space() || !(modseq = p.Number64()) || *modseq == 0) return std::nullopt;
  from.uid_validity = *validity;
  from.modseq = *modseq;
  if (p.Consume(' ') && p.Peek() != '(') {
    auto uids = p.Sequence();
    if (!uids) return std::nullopt;
    from.known = *uids;
    p.Consume(' ');
  }
  if (p.Consume('(')) {  // message numbers matched to UIDs: a hint we need not use
    if (!p.Sequence() || !p.Space() || !p.Sequence() || !p.Consume(')')) return std::nullopt;
  }
  if (!p.Consume(')')) return std::nullopt;
  return from;
}

std::string ImapSession::Resync(const ResyncFrom& from) const {
  if (from.uid_validity != selected_->state.uid_validity()) return "";  // client starts over
  std::string out = VanishedEarlier(from.known);
  for (size_t i = 0; i < selected_->messages.size(); ++i) {
    const pb::MessageMeta& m = selected_->messages[i];
    if (m.modseq() <= from.modseq) continue;
    out += Cat("* ", i + 1, " FETCH (UID ", m.uid(), " FLAGS ", FlagsText(m), " MODSEQ (",
               m.modseq(), "))\r\n");
  }
  return out;
}

}  // namespace penncloud::mail
