#include "kvs/lincheck/key_search.h"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <optional>
#include <sstream>
#include <unordered_set>

#include "absl/container/flat_hash_set.h"

namespace penncloud::lincheck::internal {
namespace {

constexpr int32_t kAbsent = 0;

uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The cache remembers a configuration by a 128-bit Zobrist fingerprint of the linearized
// set rather than the set itself: memory stays O(1) per entry on keys with tens of
// thousands of operations. A collision (probability about entries^2 / 2^129) could only
// prune a branch, never accept a history that has no linearization.
struct Config {
  uint64_t h1;
  uint64_t h2;
  int32_t state;
  bool must_observe;  // see ReadsState
  bool operator==(const Config&) const = default;
};
struct ConfigHash {
  size_t operator()(const Config& c) const {
    return c.h1 ^ (static_cast<uint64_t>(c.state) * 0x9e3779b97f4a7c15ULL) ^ c.must_observe;
  }
};

// Whether an operation's outcome depends on the state it finds. An unknown-outcome write is
// only worth placing right before such an operation: if the next one overwrites the
// register (PUT, DELETE) or nothing follows, dropping the unknown write leaves every other
// outcome unchanged. So any linearization can be rewritten into one where each unknown write
// is immediately followed by a GET or CPUT, and the search only looks for those. Without
// this, refuting a key with k timed-out writes pending explores ~2^k placements per point.
bool ReadsState(const KeyOp& op) {
  return op.kind == OpKind::kGet || op.kind == OpKind::kCPut || op.kind == OpKind::kCDelete;
}

// Applies `op` to register state `state`; false if the op's recorded outcome is impossible
// there. Unknown-outcome CPUTs are only tried as successes: a failed CPUT changes nothing,
// which is the same as never taking effect.
bool Step(const KeyOp& op, int32_t state, int32_t* next) {
  switch (op.kind) {
    case OpKind::kGet:
      *next = state;
      return op.observed == state;
    case OpKind::kPut:
      *next = op.value;
      return true;
    case OpKind::kDelete:
      *next = kAbsent;
      return true;
    case OpKind::kCPut:
      if (!op.completed || op.succeeded) {
        *next = op.value;
        return state == op.expected;
      }
      *next = state;
      return state != op.expected;
    case OpKind::kCDelete:  // like a CPUT whose new value is "absent"
      if (!op.completed || op.succeeded) {
        *next = kAbsent;
        return state == op.expected;
      }
      *next = state;
      return state != op.expected;
  }
  return false;
}

bool Writes(const KeyOp& op) { return op.kind != OpKind::kGet; }

// An unknown-outcome write whose result no completed operation could ever notice may be
// assumed never to have happened: its value is never read or compared with, and no failed
// CPUT (which it might explain by changing the state) finishes after its call. Dropping
// such ops keeps the search from trying each at every point of a long history.
std::vector<KeyOp> DropUnobservableUnknownWrites(std::vector<KeyOp> ops) {
  std::unordered_set<int32_t> noticed;
  int64_t last_failed_cput_ret = std::numeric_limits<int64_t>::min();
  for (const KeyOp& op : ops) {
    if (op.kind == OpKind::kGet && op.completed) noticed.insert(op.observed);
    const bool conditional = op.kind == OpKind::kCPut || op.kind == OpKind::kCDelete;
    if (conditional) noticed.insert(op.expected);
    if (conditional && op.completed && !op.succeeded) {
      last_failed_cput_ret = std::max(last_failed_cput_ret, op.ret);
    }
  }
  std::vector<KeyOp> kept;
  kept.reserve(ops.size());
  for (const KeyOp& op : ops) {
    const int32_t written =
        op.kind == OpKind::kDelete || op.kind == OpKind::kCDelete ? kAbsent : op.value;
    const bool droppable =
        !op.completed && Writes(op) && !noticed.contains(written) && last_failed_cput_ret < op.call;
    if (!droppable) kept.push_back(op);
  }
  return kept;
}

std::string DescribeStuck(const std::vector<KeyOp>& ops, size_t stuck, size_t best,
                          size_t completed) {
  std::ostringstream out;
  out << "no order of the key's " << ops.size() << " operations fits; the deepest search "
      << "linearized " << best << " of the " << completed << " completed ones, then could not "
      << "place: " << Describe(*ops[stuck].source) << "; overlapping it:";
  int shown = 0;
  for (size_t i = 0; i < ops.size() && shown < 8; ++i) {
    if (i == stuck || ops[i].ret < ops[stuck].call || ops[i].call > ops[stuck].ret) continue;
    out << " [" << Describe(*ops[i].source) << "]";
    ++shown;
  }
  if (shown == 0) out << " none";
  return out.str();
}

}  // namespace

std::string Describe(const Operation& op) {
  auto show = [](const std::optional<std::string>& v) {
    if (!v) return std::string("<absent>");
    std::string s = *v;
    if (s.size() > 24) s = s.substr(0, 21) + "...";
    return "\"" + s + "\"";
  };
  std::ostringstream out;
  out << "client " << op.client << " ";
  switch (op.kind) {
    case OpKind::kGet:
      out << "GET(" << op.key << ")";
      if (op.completed) out << " -> " << show(op.observed);
      break;
    case OpKind::kPut:
      out << "PUT(" << op.key << ", " << show(op.value) << ")";
      break;
    case OpKind::kDelete:
      out << "DELETE(" << op.key << ")";
      break;
    case OpKind::kCPut:
      out << "CPUT(" << op.key << ", " << show(op.expected) << " -> " << show(op.value) << ")";
      if (op.completed) out << (op.cput_succeeded ? " -> ok" : " -> failed");
      break;
    case OpKind::kCDelete:
      out << "CDELETE(" << op.key << ", " << show(op.expected) << ")";
      if (op.completed) out << (op.cput_succeeded ? " -> ok" : " -> failed");
      break;
  }
  out << " @[" << op.call << ", ";
  if (op.completed) {
    out << op.ret << "]";
  } else {
    out << "unknown outcome]";
  }
  return out.str();
}

namespace {

// One resumable depth-first search over a key's operations. With `just_in_time`, unknown
// writes are only placed right before an operation that reads the state (see ReadsState).
class Search {
 public:
  enum class Status { kRunning, kLinearizable, kNotLinearizable };

  Search(const std::vector<KeyOp>& ops, bool just_in_time)
      : ops_(ops), n_(ops.size()), just_in_time_(just_in_time) {
    // Events in time order; at equal times calls come first, so operations that merely
    // touch count as concurrent (the weaker, safe reading of a clock tie).
    struct Event {
      int64_t time;
      bool is_return;
      uint32_t op;
    };
    std::vector<Event> events;
    events.reserve(2 * n_);
    for (uint32_t i = 0; i < n_; ++i) {
      events.push_back({ops[i].call, false, i});
      events.push_back(
          {ops[i].completed ? ops[i].ret : std::numeric_limits<int64_t>::max(), true, i});
    }
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
      if (a.time != b.time) return a.time < b.time;
      if (a.is_return != b.is_return) return !a.is_return;
      return a.op < b.op;
    });

    // Doubly linked list over the events (node 0 = head, node 2n+1 = tail) so an operation
    // can be lifted out and put back in O(1), in LIFO order (dancing links).
    tail_ = static_cast<uint32_t>(2 * n_ + 1);
    prev_.resize(tail_ + 1);
    next_.resize(tail_ + 1);
    node_op_.resize(tail_ + 1);
    node_is_return_.assign(tail_ + 1, 0);
    return_node_.resize(n_);
    for (uint32_t j = 0; j <= tail_; ++j) {
      prev_[j] = j == 0 ? 0 : j - 1;
      next_[j] = j == tail_ ? tail_ : j + 1;
    }
    for (size_t k = 0; k < events.size(); ++k) {
      const uint32_t node = static_cast<uint32_t>(k + 1);
      node_op_[node] = events[k].op;
      node_is_return_[node] = events[k].is_return;
      if (events[k].is_return) return_node_[events[k].op] = node;
    }

    uint64_t seed = 0x5eed;
    z1_.resize(n_);
    z2_.resize(n_);
    for (size_t i = 0; i < n_; ++i) {
      z1_[i] = SplitMix64(seed);
      z2_[i] = SplitMix64(seed);
    }
    for (const KeyOp& op : ops) completed_ += op.completed;
    remaining_ = completed_;
    stuck_ = n_;
    entry_ = next_[0];
    cache_.reserve(std::min<size_t>(4 * n_ + 16, size_t{1} << 20));
  }

  // Runs at most `max_steps` steps, and not past `deadline`; kRunning if undecided by then.
  Status Run(uint64_t max_steps, std::chrono::steady_clock::time_point deadline) {
    for (uint64_t step = 0; step < max_steps; ++step) {
      if (remaining_ == 0) return Status::kLinearizable;
      if ((step & 4095) == 4095 && std::chrono::steady_clock::now() > deadline) break;
      const uint32_t op_index = node_op_[entry_];
      const KeyOp& op = ops_[op_index];
      if (!node_is_return_[entry_]) {
        int32_t after;
        const bool allowed = !must_observe_ || ReadsState(op);
        const bool next_must_observe = just_in_time_ && !op.completed;
        if (allowed && Step(op, state_, &after) &&
            cache_.insert({h1_ ^ z1_[op_index], h2_ ^ z2_[op_index], after, next_must_observe})
                .second) {
          stack_.push_back({entry_, state_, must_observe_});
          state_ = after;
          must_observe_ = next_must_observe;
          h1_ ^= z1_[op_index];
          h2_ ^= z2_[op_index];
          Unlink(entry_);
          Unlink(return_node_[op_index]);
          if (op.completed) {
            --remaining_;
            ++linearized_completed_;
          }
          entry_ = next_[0];
        } else {
          entry_ = next_[entry_];
        }
        continue;
      }
      // The earliest pending return: that operation had to take effect before now, and no
      // choice made so far lets it. Undo the most recent choice and try the next one.
      if (linearized_completed_ >= best_ || stuck_ == n_) {
        best_ = linearized_completed_;
        stuck_ = op_index;
      }
      if (stack_.empty()) return Status::kNotLinearizable;
      const Frame top = stack_.back();
      stack_.pop_back();
      const uint32_t undone = node_op_[top.call_node];
      state_ = top.state_before;
      must_observe_ = top.must_observe_before;
      h1_ ^= z1_[undone];
      h2_ ^= z2_[undone];
      Relink(return_node_[undone]);
      Relink(top.call_node);
      if (ops_[undone].completed) {
        ++remaining_;
        --linearized_completed_;
      }
      entry_ = next_[top.call_node];
    }
    return remaining_ == 0 ? Status::kLinearizable : Status::kRunning;
  }

  std::string Explain() const { return DescribeStuck(ops_, stuck_, best_, completed_); }

 private:
  struct Frame {
    uint32_t call_node;
    int32_t state_before;
    bool must_observe_before;
  };

  void Unlink(uint32_t j) {
    next_[prev_[j]] = next_[j];
    prev_[next_[j]] = prev_[j];
  }
  void Relink(uint32_t j) {
    next_[prev_[j]] = j;
    prev_[next_[j]] = j;
  }

  const std::vector<KeyOp>& ops_;
  const size_t n_;
  const bool just_in_time_;
  uint32_t tail_ = 0;
  std::vector<uint32_t> prev_, next_, node_op_, return_node_;
  std::vector<uint8_t> node_is_return_;
  std::vector<uint64_t> z1_, z2_;
  std::vector<Frame> stack_;
  absl::flat_hash_set<Config, ConfigHash> cache_;

  int32_t state_ = kAbsent;
  bool must_observe_ = false;  // the last op placed is an unknown write (just_in_time_ only)
  uint64_t h1_ = 0, h2_ = 0;
  size_t completed_ = 0, remaining_ = 0, linearized_completed_ = 0, best_ = 0, stuck_ = 0;
  uint32_t entry_ = 0;
};

}  // namespace

KeyResult SearchKey(std::vector<KeyOp> ops, std::chrono::steady_clock::time_point deadline,
                    Strategy strategy) {
  ops = DropUnobservableUnknownWrites(std::move(ops));

  // A read of a value that no operation on this key ever wrote needs no search.
  {
    std::unordered_set<int32_t> written{kAbsent};
    for (const KeyOp& op : ops) {
      if (Writes(op) && op.kind != OpKind::kDelete && op.kind != OpKind::kCDelete) {
        written.insert(op.value);
      }
    }
    for (const KeyOp& op : ops) {
      if (op.kind == OpKind::kGet && !written.contains(op.observed)) {
        return {CheckResult::Verdict::kNotLinearizable,
                "read a value never written to the key: " + Describe(*op.source)};
      }
    }
  }

  // Both searches are complete; they differ in speed. Placing unknown writes eagerly finds a
  // linearization of a correct history fast; placing them just in time refutes a wrong one
  // with many timed-out writes fast. Run them in turn with growing step quotas.
  bool any_unknown = false;
  for (const KeyOp& op : ops) any_unknown |= !op.completed;
  std::optional<Search> eager, just_in_time;
  if (strategy != Strategy::kJustInTimeOnly) eager.emplace(ops, /*just_in_time=*/false);
  if (strategy == Strategy::kJustInTimeOnly || (strategy == Strategy::kBoth && any_unknown)) {
    just_in_time.emplace(ops, /*just_in_time=*/true);
  }
  for (uint64_t quota = 4096;; quota = std::min<uint64_t>(2 * quota, 1 << 18)) {
    for (Search* search : {eager ? &*eager : nullptr, just_in_time ? &*just_in_time : nullptr}) {
      if (search == nullptr) continue;
      switch (search->Run(quota, deadline)) {
        case Search::Status::kLinearizable:
          return {CheckResult::Verdict::kLinearizable, ""};
        case Search::Status::kNotLinearizable:
          return {CheckResult::Verdict::kNotLinearizable, search->Explain()};
        case Search::Status::kRunning:
          break;
      }
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return {CheckResult::Verdict::kUnknown, "time budget exhausted"};
    }
  }
}

}  // namespace penncloud::lincheck::internal
