#include "mail/thread.h"

#include <algorithm>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "mail/mail_store.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

// The most cells one store listing returns (kvs/server/request_checks.h).
constexpr int kFolderPage = 1000;

// Linking deeper than this counts as a loop: it bounds the work a hostile References
// chain can cause (each link walks up the tree once).
constexpr int kMaxDepth = 1000;

std::vector<std::string> IdsOf(std::string_view header_value) {
  std::vector<std::string> ids;
  // Held here: the range-for would keep only SplitSpaces' result alive, not this string.
  const std::string clean = CleanReferences(header_value);
  for (std::string_view part : SplitSpaces(clean)) {
    if (part.size() > 2) ids.emplace_back(part.substr(1, part.size() - 2));  // "<id>"
  }
  return ids;
}

// The prefix "re", "fw", "fwd" or "aw", maybe with "[n]", then ':' at the start of `s`:
// its length, or 0.
size_t ReplyPrefix(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && i < 3 && absl::ascii_isalpha(static_cast<unsigned char>(s[i]))) ++i;
  std::string word = ToLower(s.substr(0, i));
  if (word != "re" && word != "fw" && word != "fwd" && word != "aw") return 0;
  if (i < s.size() && s[i] == '[') {
    size_t close = s.find(']', i);
    if (close == std::string_view::npos || close == i + 1) return 0;
    for (size_t d = i + 1; d < close; ++d) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(s[d]))) return 0;
    }
    i = close + 1;
  }
  return i < s.size() && s[i] == ':' ? i + 1 : 0;
}

class Threader {
 public:
  explicit Threader(const std::vector<ThreadInput>& in) : in_(in) {}

  std::vector<Thread> Run() {
    for (size_t i = 0; i < in_.size(); ++i) Place(static_cast<int>(i));
    table_.clear();
    std::vector<int> roots;
    for (size_t c = 0; c < nodes_.size(); ++c) {
      if (nodes_[c].parent < 0) roots.push_back(static_cast<int>(c));
    }
    roots = Prune(roots);
    roots = MergeBySubject(roots);
    std::vector<Thread> threads;
    for (int root : roots) threads.push_back(Collect(root));
    std::sort(threads.begin(), threads.end(), [](const Thread& a, const Thread& b) {
      return a.latest_micros != b.latest_micros ? a.latest_micros > b.latest_micros : a.id < b.id;
    });
    return threads;
  }

 private:
  struct Node {
    int message = -1;  // index into in_, -1 for an empty container
    int parent = -1;
    std::vector<int> children;
  };

  int NewNode() {
    nodes_.emplace_back();
    return static_cast<int>(nodes_.size()) - 1;
  }
  int NodeFor(const std::string& message_id) {
    auto [it, fresh] = table_.try_emplace(message_id, 0);
    if (fresh) it->second = NewNode();
    return it->second;
  }

  // Whether making `child` a child of `parent` would close a loop.
  bool WouldLoop(int parent, int child) const {
    int depth = 0;
    for (int n = parent; n >= 0; n = nodes_[n].parent) {
      if (n == child || ++depth > kMaxDepth) return true;
    }
    return false;
  }
  void Unlink(int child) {
    int parent = nodes_[child].parent;
    if (parent < 0) return;
    auto& siblings = nodes_[parent].children;
    siblings.erase(std::find(siblings.begin(), siblings.end(), child));
    nodes_[child].parent = -1;
  }
  void Link(int parent, int child) {
    Unlink(child);
    nodes_[child].parent = parent;
    nodes_[parent].children.push_back(child);
  }

  // Step 1: the message's container, and parent links along its references.
  void Place(int i) {
    const ThreadInput& m = in_[i];
    int self;
    auto known = table_.find(m.message_id);
    if (m.message_id.empty() || (known != table_.end() && nodes_[known->second].message >= 0)) {
      self = NewNode();  // no id, or a second copy: a container of its own
    } else {
      self = NodeFor(m.message_id);
    }
    nodes_[self].message = i;
    int previous = -1;
    for (const std::string& ref : m.references) {
      int r = NodeFor(ref);
      // Links already known are kept; the chain only fills gaps.
      if (previous >= 0 && r != previous && nodes_[r].parent < 0 && !WouldLoop(previous, r)) {
        Link(previous, r);
      }
      previous = r;
    }
    // The message's own last reference is its parent, whatever another message guessed.
    if (previous < 0) {
      Unlink(self);
    } else if (previous != self && !WouldLoop(previous, self)) {
      Link(previous, self);
    }
  }

  // Step 4: empty containers go; their children move up (at the top only if there is just
  // one, so a thread whose root message is missing stays one thread). Children are settled
  // before their parents, without recursion.
  std::vector<int> Prune(const std::vector<int>& roots) {
    std::vector<int> order;  // parents after their children
    std::vector<std::pair<int, bool>> stack;
    for (int r : roots) stack.push_back({r, false});
    while (!stack.empty()) {
      auto [n, expanded] = stack.back();
      stack.pop_back();
      if (expanded) {
        order.push_back(n);
        continue;
      }
      stack.push_back({n, true});
      for (int child : nodes_[n].children) stack.push_back({child, false});
    }
    for (int n : order) {
      std::vector<int> kept;
      for (int child : nodes_[n].children) {
        Node& c = nodes_[child];
        if (c.message >= 0) {
          kept.push_back(child);
          continue;
        }
        for (int grandchild : c.children) {
          nodes_[grandchild].parent = n;
          kept.push_back(grandchild);
        }
        c.children.clear();
      }
      nodes_[n].children = std::move(kept);
    }
    std::vector<int> out;
    for (int r : roots) {
      Node& node = nodes_[r];
      if (node.message >= 0 || node.children.size() > 1) {
        out.push_back(r);
      } else if (node.children.size() == 1) {
        int only = node.children.front();
        nodes_[only].parent = -1;
        node.children.clear();
        out.push_back(only);
      }
    }
    return out;
  }

  // The message whose subject stands for the container (an empty root has children).
  const ThreadInput* Representative(int n) const {
    if (nodes_[n].message >= 0) return &in_[nodes_[n].message];
    if (nodes_[n].children.empty()) return nullptr;
    return Representative(nodes_[n].children.front());
  }

  // Steps 5-6: top-level threads whose base subjects are equal become one.
  std::vector<int> MergeBySubject(std::vector<int> roots) {
    std::unordered_map<std::string, int> by_subject;
    auto base_of = [&](int n, bool* reply) {
      const ThreadInput* m = Representative(n);
      *reply = false;
      return m == nullptr ? std::string() : BaseSubject(m->subject, reply);
    };
    for (int r : roots) {
      bool reply;
      std::string base = base_of(r, &reply);
      if (base.empty()) continue;
      auto [it, fresh] = by_subject.try_emplace(base, r);
      if (fresh) continue;
      bool old_reply;
      base_of(it->second, &old_reply);
      bool old_empty = nodes_[it->second].message < 0;
      // An empty container, else a message that is not a reply, stands for the subject.
      if ((nodes_[r].message < 0 && !old_empty) || (!old_empty && old_reply && !reply)) {
        it->second = r;
      }
    }
    std::vector<int> out;
    for (int r : roots) {
      bool reply;
      std::string base = base_of(r, &reply);
      if (base.empty()) {
        out.push_back(r);
        continue;
      }
      int& keeper = by_subject[base];
      if (r == keeper || nodes_[r].parent >= 0) continue;
      bool keeper_reply;
      base_of(keeper, &keeper_reply);
      if (nodes_[keeper].message < 0 && nodes_[r].message < 0) {
        for (int child : std::vector<int>(nodes_[r].children)) Link(keeper, child);
      } else if (nodes_[keeper].message < 0 || (reply && !keeper_reply)) {
        Link(keeper, r);
      } else {
        int joint = NewNode();
        Link(joint, keeper);
        Link(joint, r);
        keeper = joint;
      }
    }
    for (const auto& [base, keeper] : by_subject) out.push_back(keeper);
    return out;
  }

  int64_t Time(int n) const {
    const ThreadInput* m = Representative(n);
    return m == nullptr ? 0 : m->received_micros;
  }

  Thread Collect(int root) {
    Thread t;
    std::vector<int> stack{root};
    while (!stack.empty()) {
      int n = stack.back();
      stack.pop_back();
      if (nodes_[n].message >= 0) {
        const ThreadInput& m = in_[nodes_[n].message];
        if (t.messages.empty()) {
          t.id = m.id;
          t.subject = m.subject;
        }
        t.messages.push_back(m.id);
        t.unread += m.unread ? 1 : 0;
        t.latest_micros = std::max(t.latest_micros, m.received_micros);
      }
      std::vector<int> children = nodes_[n].children;
      // Oldest first once popped.
      std::sort(children.begin(), children.end(), [&](int a, int b) { return Time(a) > Time(b); });
      stack.insert(stack.end(), children.begin(), children.end());
    }
    return t;
  }

  const std::vector<ThreadInput>& in_;
  std::vector<Node> nodes_;
  std::unordered_map<std::string, int> table_;
};

}  // namespace

std::string ThreadMessageId(const ParsedMessage& message) {
  std::vector<std::string> ids = IdsOf(Cat("<", message.message_id, ">"));
  return ids.empty() ? "" : ids.front();
}

std::vector<std::string> ThreadReferences(const ParsedMessage& message) {
  std::vector<std::string> refs = IdsOf(message.references);
  std::vector<std::string> in_reply_to = IdsOf(message.in_reply_to);
  if (!in_reply_to.empty() && (refs.empty() || refs.back() != in_reply_to.front())) {
    refs.push_back(in_reply_to.front());
  }
  if (refs.size() > kMaxThreadReferences) {
    refs.erase(refs.begin(), refs.end() - kMaxThreadReferences);
  }
  return refs;
}

std::string BaseSubject(std::string_view subject, bool* reply) {
  *reply = false;
  std::string_view s = Trim(subject);
  for (size_t cut = ReplyPrefix(s); cut > 0; cut = ReplyPrefix(s)) {
    *reply = true;
    s = Trim(s.substr(cut));
  }
  std::string out;
  for (std::string_view word : SplitSpaces(s)) {
    if (!out.empty()) out += ' ';
    out += ToLower(word);
  }
  return out;
}

std::vector<Thread> BuildThreads(const std::vector<ThreadInput>& messages) {
  return Threader(messages).Run();
}

absl::StatusOr<std::vector<Thread>> FolderThreads(MailStore& store, std::string_view user,
                                                  std::string_view folder) {
  std::vector<ThreadInput> inputs;
  std::string cursor;
  do {
    auto page = store.List(user, folder, cursor, kFolderPage);
    if (!page.ok()) return page.status();
    for (pb::MessageMeta& m : page->messages) {
      inputs.push_back({std::move(*m.mutable_id()),
                        std::move(*m.mutable_message_id()),
                        {std::make_move_iterator(m.mutable_references()->begin()),
                         std::make_move_iterator(m.mutable_references()->end())},
                        std::move(*m.mutable_subject()),
                        m.received_micros(),
                        !m.seen()});
    }
    cursor = std::move(page->next_cursor);
  } while (!cursor.empty());
  return BuildThreads(inputs);
}

}  // namespace penncloud::mail
