// A recorded client history of key-value operations, and the linearizability check over it.
//
// The check is the Wing & Gong search with Lowe's memoization, split per key
// (P-compositionality: a history is linearizable iff each key's sub-history is), in the
// manner of the Porcupine checker. Operations whose outcome the client never learned (it
// timed out) may take effect at any point after their call, or never.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace penncloud::lincheck {

enum class OpKind { kGet, kPut, kCPut, kDelete, kCDelete };

struct Operation {
  int client = 0;
  std::string key;  // one cell: row and column joined by the caller
  OpKind kind = OpKind::kGet;

  // Inputs.
  std::optional<std::string> value;     // kPut, kCPut: the value written
  std::optional<std::string> expected;  // kCPut: the value compared with (nullopt = absent);
                                        // kCDelete: the value compared with (required)

  // Outcome. When `completed` is false the client never learned the result; `ret` and the
  // outputs below are then ignored.
  bool completed = true;
  std::optional<std::string> observed;  // kGet: the value read (nullopt = absent)
  bool cput_succeeded = false;          // kCPut, kCDelete: whether the write happened

  // Real-time interval: any monotonically increasing clock, same units for every operation.
  int64_t call = 0;
  int64_t ret = 0;
};

struct CheckResult {
  // kUnknown: the budget ran out before every key was decided, or the history itself is
  // malformed (a PUT/CPUT without a value, a CDELETE without an expected value, a return
  // before its call); `explanation` says which.
  enum class Verdict { kLinearizable, kNotLinearizable, kUnknown };
  Verdict verdict = Verdict::kLinearizable;
  std::string key;          // for kNotLinearizable: a key whose sub-history has no order
  std::string explanation;  // human-readable, for test failure messages
  bool ok() const { return verdict == Verdict::kLinearizable; }
};

// Checks the history against a register-per-key model where every key starts absent.
// Operations that merely touch (one's ret == the other's call) count as concurrent.
// `budget` bounds the whole check, all keys together.
CheckResult CheckKv(const std::vector<Operation>& history,
                    std::chrono::milliseconds budget = std::chrono::seconds(30));

}  // namespace penncloud::lincheck
