// The search over one key's sub-history: Wing & Gong's backtracking over the pending
// operations, with Lowe's cache of (set of linearized operations, register state) so no
// configuration is explored twice. CheckKv (history.h) splits a history by key and runs one
// of these per key.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "kvs/lincheck/history.h"

namespace penncloud::lincheck::internal {

// One operation of a single key, its values interned to small integers (0 = absent).
struct KeyOp {
  OpKind kind = OpKind::kGet;
  int32_t value = 0;     // kPut, kCPut: the value written
  int32_t expected = 0;  // kCPut: the value compared with
  int32_t observed = 0;  // kGet (completed): the value read
  bool succeeded = false;
  bool completed = true;
  int64_t call = 0;
  int64_t ret = 0;          // INT64_MAX when !completed
  const Operation* source;  // for explanations
};

struct KeyResult {
  CheckResult::Verdict verdict = CheckResult::Verdict::kLinearizable;
  std::string explanation;
};

// How unknown-outcome writes are placed. Both ways are complete; kBoth runs them in turn
// and takes the first verdict (the default). The others exist so tests can check each.
enum class Strategy { kBoth, kEagerOnly, kJustInTimeOnly };

// Unknown-outcome GETs must already be removed (they constrain nothing).
KeyResult SearchKey(std::vector<KeyOp> ops, std::chrono::steady_clock::time_point deadline,
                    Strategy strategy = Strategy::kBoth);

// CheckKv (history.h) with a chosen strategy.
CheckResult CheckKvUsing(const std::vector<Operation>& history, std::chrono::milliseconds budget,
                         Strategy strategy);

// A one-line description of an operation, for explanations and test messages.
std::string Describe(const Operation& op);

}  // namespace penncloud::lincheck::internal
