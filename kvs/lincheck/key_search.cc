#include "kvs/lincheck/key_search.h"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <sstream>
#include <unordered_set>

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
  bool operator==(const Config&) const = default;
};
struct ConfigHash {
  size_t operator()(const Config& c) const {
    return c.h1 ^ (static_cast<uint64_t>(c.state) * 0x9e3779b97f4a7c15ULL);
  }
};

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
    if (op.kind == OpKind::kCPut) noticed.insert(op.expected);
    if (op.kind == OpKind::kCPut && op.completed && !op.succeeded) {
      last_failed_cput_ret = std::max(last_failed_cput_ret, op.ret);
    }
  }
  std::vector<KeyOp> kept;
  kept.reserve(ops.size());
  for (const KeyOp& op : ops) {
    const int32_t written = op.kind == OpKind::kDelete ? kAbsent : op.value;
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
  }
  out << " @[" << op.call << ", ";
  if (op.completed) {
    out << op.ret << "]";
  } else {
    out << "unknown outcome]";
  }
  return out.str();
}

KeyResult SearchKey(std::vector<KeyOp> ops, std::chrono::steady_clock::time_point deadline) {
  ops = DropUnobservableUnknownWrites(std::move(ops));
  const size_t n = ops.size();

  // A read of a value that no operation on this key ever wrote needs no search.
  {
    std::unordered_set<int32_t> written{kAbsent};
    for (const KeyOp& op : ops) {
      if (Writes(op) && op.kind != OpKind::kDelete) written.insert(op.value);
    }
    for (const KeyOp& op : ops) {
      if (op.kind == OpKind::kGet && !written.contains(op.observed)) {
        return {CheckResult::Verdict::kNotLinearizable,
                "read a value never written to the key: " + Describe(*op.source)};
      }
    }
  }

  // Events in time order; at equal times calls come first, so operations that merely touch
  // count as concurrent (the weaker, safe reading of a clock tie).
  struct Event {
    int64_t time;
    bool is_return;
    uint32_t op;
  };
  std::vector<Event> events;
  events.reserve(2 * n);
  for (uint32_t i = 0; i < n; ++i) {
    events.push_back({ops[i].call, false, i});
    events.push_back(
        {ops[i].completed ? ops[i].ret : std::numeric_limits<int64_t>::max(), true, i});
  }
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    if (a.time != b.time) return a.time < b.time;
    if (a.is_return != b.is_return) return !a.is_return;
    return a.op < b.op;
  });

  // Doubly linked list over the events (node 0 = head, node 2n+1 = tail) so an operation can
  // be lifted out and put back in O(1), in LIFO order (dancing links).
  const uint32_t head = 0;
  const uint32_t tail = static_cast<uint32_t>(2 * n + 1);
  std::vector<uint32_t> prev(2 * n + 2), next(2 * n + 2), node_op(2 * n + 2);
  std::vector<uint8_t> node_is_return(2 * n + 2, 0);
  std::vector<uint32_t> return_node(n);
  for (uint32_t j = 0; j <= tail; ++j) {
    prev[j] = j == 0 ? 0 : j - 1;
    next[j] = j == tail ? tail : j + 1;
  }
  for (size_t k = 0; k < events.size(); ++k) {
    const uint32_t node = static_cast<uint32_t>(k + 1);
    node_op[node] = events[k].op;
    node_is_return[node] = events[k].is_return;
    if (events[k].is_return) return_node[events[k].op] = node;
  }
  auto unlink = [&](uint32_t j) {
    next[prev[j]] = next[j];
    prev[next[j]] = prev[j];
  };
  auto relink = [&](uint32_t j) {
    next[prev[j]] = j;
    prev[next[j]] = j;
  };

  uint64_t seed = 0x5eed;
  std::vector<uint64_t> z1(n), z2(n);
  for (size_t i = 0; i < n; ++i) {
    z1[i] = SplitMix64(seed);
    z2[i] = SplitMix64(seed);
  }

  size_t completed = 0;
  for (const KeyOp& op : ops) completed += op.completed;

  struct Frame {
    uint32_t call_node;
    int32_t state_before;
  };
  std::vector<Frame> stack;
  std::unordered_set<Config, ConfigHash> cache;
  cache.reserve(std::min<size_t>(4 * n + 16, size_t{1} << 22));

  int32_t state = kAbsent;
  uint64_t h1 = 0, h2 = 0;
  size_t remaining = completed;
  size_t linearized_completed = 0, best = 0, stuck = n;
  uint32_t entry = next[head];
  uint64_t steps = 0;

  while (remaining > 0) {
    if ((++steps & 4095) == 0 && std::chrono::steady_clock::now() > deadline) {
      return {CheckResult::Verdict::kUnknown, "time budget exhausted"};
    }
    const uint32_t op_index = node_op[entry];
    const KeyOp& op = ops[op_index];
    if (!node_is_return[entry]) {
      int32_t after;
      if (Step(op, state, &after) &&
          cache.insert({h1 ^ z1[op_index], h2 ^ z2[op_index], after}).second) {
        stack.push_back({entry, state});
        state = after;
        h1 ^= z1[op_index];
        h2 ^= z2[op_index];
        unlink(entry);
        unlink(return_node[op_index]);
        if (op.completed) {
          --remaining;
          ++linearized_completed;
        }
        entry = next[head];
      } else {
        entry = next[entry];
      }
      continue;
    }
    // The earliest pending return: that operation had to take effect before now, and no
    // choice made so far lets it. Undo the most recent choice and try the next one.
    if (linearized_completed >= best || stuck == n) {
      best = linearized_completed;
      stuck = op_index;
    }
    if (stack.empty()) {
      return {CheckResult::Verdict::kNotLinearizable, DescribeStuck(ops, stuck, best, completed)};
    }
    const Frame top = stack.back();
    stack.pop_back();
    const uint32_t undone = node_op[top.call_node];
    state = top.state_before;
    h1 ^= z1[undone];
    h2 ^= z2[undone];
    relink(return_node[undone]);
    relink(top.call_node);
    if (ops[undone].completed) {
      ++remaining;
      --linearized_completed;
    }
    entry = next[top.call_node];
  }
  return {CheckResult::Verdict::kLinearizable, ""};
}

}  // namespace penncloud::lincheck::internal
