// CheckKv: validates the history, splits it per key (a history is linearizable iff every
// key's sub-history is, since keys are independent registers), and searches each key.
#include <algorithm>
#include <limits>
#include <map>
#include <unordered_map>

#include "kvs/lincheck/history.h"
#include "kvs/lincheck/key_search.h"

namespace penncloud::lincheck {
namespace {

using internal::KeyOp;

std::string Malformed(const Operation& op) {
  if ((op.kind == OpKind::kPut || op.kind == OpKind::kCPut) && !op.value) {
    return "a PUT or CPUT without a value";
  }
  if (op.kind == OpKind::kCDelete && !op.expected) return "a CDELETE without an expected value";
  if (op.completed && op.ret < op.call) return "returns before its call";
  if (!op.completed && op.call == std::numeric_limits<int64_t>::max()) {
    return "call time reserved for unknown returns";
  }
  return "";
}

// Interns one key's values so that register states are small integers (0 = absent).
class Interner {
 public:
  int32_t Of(const std::optional<std::string>& v) {
    if (!v) return 0;
    auto [it, inserted] = ids_.try_emplace(*v, static_cast<int32_t>(ids_.size() + 1));
    return it->second;
  }

 private:
  std::unordered_map<std::string, int32_t> ids_;
};

}  // namespace

CheckResult CheckKv(const std::vector<Operation>& history, std::chrono::milliseconds budget) {
  return internal::CheckKvUsing(history, budget, internal::Strategy::kBoth);
}

CheckResult internal::CheckKvUsing(const std::vector<Operation>& history,
                                   std::chrono::milliseconds budget, Strategy strategy) {
  const auto deadline = std::chrono::steady_clock::now() + budget;
  CheckResult result;

  std::map<std::string, std::vector<const Operation*>> by_key;
  for (const Operation& op : history) {
    if (std::string why = Malformed(op); !why.empty()) {
      result.verdict = CheckResult::Verdict::kUnknown;
      result.key = op.key;
      result.explanation = "malformed history: " + internal::Describe(op) + ": " + why;
      return result;
    }
    // A read whose answer never arrived constrains nothing.
    if (op.kind == OpKind::kGet && !op.completed) continue;
    by_key[op.key].push_back(&op);
  }

  std::string unknown_key;
  for (const auto& [key, ops] : by_key) {
    Interner interner;
    std::vector<KeyOp> key_ops;
    key_ops.reserve(ops.size());
    for (const Operation* op : ops) {
      KeyOp k;
      k.kind = op->kind;
      k.value = interner.Of(op->value);
      k.expected = interner.Of(op->expected);
      k.observed = interner.Of(op->observed);
      k.succeeded = op->cput_succeeded;
      k.completed = op->completed;
      k.call = op->call;
      k.ret = op->completed ? op->ret : std::numeric_limits<int64_t>::max();
      k.source = op;
      key_ops.push_back(k);
    }
    internal::KeyResult r = internal::SearchKey(std::move(key_ops), deadline, strategy);
    if (r.verdict == CheckResult::Verdict::kNotLinearizable) {
      result.verdict = r.verdict;
      result.key = key;
      result.explanation = "key \"" + key + "\": " + r.explanation;
      return result;
    }
    if (r.verdict == CheckResult::Verdict::kUnknown && unknown_key.empty()) {
      unknown_key = key;
    }
    // Once the budget is gone, keep scanning only for cheap verdicts on the other keys.
  }
  if (!unknown_key.empty()) {
    result.verdict = CheckResult::Verdict::kUnknown;
    result.key = unknown_key;
    result.explanation = "time budget exhausted while checking key \"" + unknown_key + "\"";
  }
  return result;
}

}  // namespace penncloud::lincheck
