#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kvs/lincheck/history.h"
#include "kvs/lincheck/key_search.h"

namespace penncloud::lincheck {
namespace {

using Verdict = CheckResult::Verdict;
using Value = std::optional<std::string>;
const Value kAbsent = std::nullopt;

Operation Put(int client, std::string key, std::string v, int64_t call, int64_t ret) {
  Operation op;
  op.client = client;
  op.key = std::move(key);
  op.kind = OpKind::kPut;
  op.value = std::move(v);
  op.call = call;
  op.ret = ret;
  return op;
}
Operation Get(int client, std::string key, Value observed, int64_t call, int64_t ret) {
  Operation op;
  op.client = client;
  op.key = std::move(key);
  op.kind = OpKind::kGet;
  op.observed = std::move(observed);
  op.call = call;
  op.ret = ret;
  return op;
}
Operation CPut(int client, std::string key, Value expected, std::string v, bool ok, int64_t call,
               int64_t ret) {
  Operation op;
  op.client = client;
  op.key = std::move(key);
  op.kind = OpKind::kCPut;
  op.expected = std::move(expected);
  op.value = std::move(v);
  op.cput_succeeded = ok;
  op.call = call;
  op.ret = ret;
  return op;
}
Operation Del(int client, std::string key, int64_t call, int64_t ret) {
  Operation op;
  op.client = client;
  op.key = std::move(key);
  op.kind = OpKind::kDelete;
  op.call = call;
  op.ret = ret;
  return op;
}
Operation CDel(int client, std::string key, std::string expected, bool ok, int64_t call,
               int64_t ret) {
  Operation op;
  op.client = client;
  op.key = std::move(key);
  op.kind = OpKind::kCDelete;
  op.expected = std::move(expected);
  op.cput_succeeded = ok;
  op.call = call;
  op.ret = ret;
  return op;
}
// The client timed out: the op may have taken effect any time after `call`, or never.
// Builds "prefix<i>" (spelled out: GCC 12 misreports `"v" + std::to_string(i)` as an overlap).
std::string Name(const char* prefix, int64_t i) {
  std::string s(prefix);
  s.append(std::to_string(i));
  return s;
}

void MakeUnknown(Operation& op) {
  op.completed = false;
  op.ret = 0;
  op.cput_succeeded = false;
}
Operation Unknown(Operation op) {
  MakeUnknown(op);
  return op;
}

void ExpectLinearizable(const std::vector<Operation>& h) {
  CheckResult r = CheckKv(h);
  EXPECT_EQ(r.verdict, Verdict::kLinearizable) << r.explanation;
}
void ExpectViolation(const std::vector<Operation>& h, const std::string& key = "x") {
  CheckResult r = CheckKv(h);
  EXPECT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r.key, key);
  EXPECT_FALSE(r.explanation.empty());
}

TEST(CheckKv, EmptyHistoryIsLinearizable) { ExpectLinearizable({}); }

TEST(CheckKv, SequentialOperations) {
  ExpectLinearizable({Get(1, "x", kAbsent, 0, 1), Put(1, "x", "a", 2, 3), Get(1, "x", "a", 4, 5),
                      CPut(1, "x", "a", "b", true, 6, 7), CPut(1, "x", "a", "c", false, 8, 9),
                      Get(1, "x", "b", 10, 11), Del(1, "x", 12, 13), Get(1, "x", kAbsent, 14, 15),
                      CPut(1, "x", kAbsent, "d", true, 16, 17), Get(1, "x", "d", 18, 19)});
}

TEST(CheckKv, StaleReadAfterCompletedWriteIsRejected) {
  ExpectViolation({Put(1, "x", "1", 0, 10), Put(1, "x", "2", 20, 30), Get(2, "x", "1", 40, 50)});
}

TEST(CheckKv, ReadOfAbsentAfterCompletedWriteIsRejected) {
  ExpectViolation({Put(1, "x", "1", 0, 10), Get(2, "x", kAbsent, 11, 12)});
}

TEST(CheckKv, ReadConcurrentWithWriteMaySeeEitherValue) {
  ExpectLinearizable({Put(1, "x", "1", 0, 10), Put(1, "x", "2", 20, 30), Get(2, "x", "1", 25, 40)});
  ExpectLinearizable({Put(1, "x", "1", 0, 10), Put(1, "x", "2", 20, 30), Get(2, "x", "2", 25, 40)});
}

TEST(CheckKv, ReadsMustNotFlipBackDuringAWrite) {
  // Once a read saw the new value, a later read (even while the write is still in
  // flight) cannot see the old one.
  ExpectViolation({Put(1, "x", "old", 0, 1), Put(1, "x", "new", 10, 100),
                   Get(2, "x", "new", 20, 30), Get(3, "x", "old", 40, 50)});
  ExpectLinearizable({Put(1, "x", "old", 0, 1), Put(1, "x", "new", 10, 100),
                      Get(2, "x", "old", 20, 30), Get(3, "x", "new", 40, 50)});
}

TEST(CheckKv, TouchingIntervalsCountAsConcurrent) {
  ExpectLinearizable({Put(1, "x", "1", 0, 10), Get(2, "x", kAbsent, 10, 20)});
  ExpectViolation({Put(1, "x", "1", 0, 10), Get(2, "x", kAbsent, 11, 20)});
}

TEST(CheckKv, TwoReadersSeeConcurrentWritesInOppositeOrders) {
  // Writes a and b overlap, so either order is fine, but not both at once.
  std::vector<Operation> h = {Put(1, "x", "a", 0, 100), Put(2, "x", "b", 0, 100),
                              Get(3, "x", "a", 10, 20), Get(3, "x", "b", 30, 40)};
  ExpectLinearizable(h);
  h.push_back(Get(4, "x", "b", 10, 20));
  h.push_back(Get(4, "x", "a", 30, 40));
  ExpectViolation(h);
}

TEST(CheckKv, CPutSuccessThatNeedsAnOrderAgainstRealTimeIsRejected) {
  // The CPUT saw "1" as current, but "2" was written after "1" and before the CPUT began.
  ExpectViolation(
      {Put(1, "x", "1", 0, 10), Put(1, "x", "2", 20, 30), CPut(2, "x", "1", "3", true, 40, 50)});
  // Creating a cell that a completed PUT already created.
  ExpectViolation({Put(1, "x", "1", 0, 10), CPut(2, "x", kAbsent, "3", true, 20, 30)});
  // With the PUT of "2" concurrent, ordering the CPUT first is allowed.
  ExpectLinearizable({Put(1, "x", "1", 0, 10), Put(1, "x", "2", 20, 60),
                      CPut(2, "x", "1", "3", true, 40, 50), Get(3, "x", "2", 70, 80)});
}

TEST(CheckKv, SuccessfulCPutsOfTheSameExpectedValueConflict) {
  // Both CPUTs claim to have replaced "0"; only one of them could have.
  ExpectViolation({Put(1, "x", "0", 0, 1), CPut(2, "x", "0", "a", true, 10, 20),
                   CPut(3, "x", "0", "b", true, 10, 20)});
  ExpectLinearizable({Put(1, "x", "0", 0, 1), CPut(2, "x", "0", "a", true, 10, 20),
                      CPut(3, "x", "0", "b", false, 10, 20), Get(1, "x", "a", 30, 40)});
}

TEST(CheckKv, FailedCPutProvesTheWriteHadHappened) {
  // The PUT of "1" is slow; the failed create proves it took effect before t=20,
  // so a read of "absent" after that is impossible.
  std::vector<Operation> base = {Put(1, "x", "1", 0, 100),
                                 CPut(2, "x", kAbsent, "2", false, 10, 20)};
  ExpectLinearizable(base);
  std::vector<Operation> h = base;
  h.push_back(Get(3, "x", kAbsent, 30, 40));
  ExpectViolation(h);
  // Without the failed CPUT the same read is fine.
  ExpectLinearizable({Put(1, "x", "1", 0, 100), Get(3, "x", kAbsent, 30, 40)});
}

TEST(CheckKv, FailedCPutWithNoWriteToExplainItIsRejected) {
  ExpectViolation({CPut(1, "x", kAbsent, "1", false, 0, 10)});
  ExpectViolation({Put(1, "x", "1", 0, 10), CPut(1, "x", "1", "2", false, 20, 30)});
}

TEST(CheckKv, UnknownWriteMayExplainALaterRead) {
  ExpectLinearizable({Unknown(Put(1, "x", "1", 0, 0)), Get(2, "x", "1", 50, 60)});
}

TEST(CheckKv, UnknownWriteMayNeverHappen) {
  ExpectLinearizable({Unknown(Put(1, "x", "1", 0, 0)), Get(2, "x", kAbsent, 50, 60)});
  ExpectLinearizable({Unknown(CPut(1, "x", kAbsent, "1", false, 0, 0)),
                      Get(2, "x", kAbsent, 50, 60), Put(3, "x", "2", 70, 80),
                      Get(2, "x", "2", 90, 100)});
}

TEST(CheckKv, UnknownWriteMayTakeEffectLongAfterItsCall) {
  ExpectLinearizable({Unknown(Put(1, "x", "1", 0, 0)), Get(2, "x", kAbsent, 10, 20),
                      Get(2, "x", "1", 1000, 1010)});
}

TEST(CheckKv, UnknownWriteCannotExplainAReadBeforeItsCall) {
  ExpectViolation({Get(2, "x", "1", 0, 10), Unknown(Put(1, "x", "1", 20, 0))});
}

TEST(CheckKv, UnknownWriteCannotBeUndone) {
  ExpectViolation({Unknown(Put(1, "x", "1", 0, 0)), Get(2, "x", kAbsent, 10, 20),
                   Get(2, "x", "1", 30, 40), Get(2, "x", kAbsent, 50, 60)});
}

TEST(CheckKv, UnknownCPutTakesEffectOnlyIfItsComparisonHolds) {
  // The unknown CPUT expects "absent", but "2" is there from before its call on.
  ExpectViolation({Put(3, "x", "2", 0, 5), Unknown(CPut(1, "x", kAbsent, "1", false, 10, 0)),
                   Get(2, "x", "1", 50, 60)});
  ExpectLinearizable({Unknown(CPut(1, "x", kAbsent, "1", false, 10, 0)), Get(2, "x", "1", 50, 60)});
}

TEST(CheckKv, UnknownWriteMayExplainAFailedCPut) {
  // Nothing but the timed-out PUT could have made the create fail.
  ExpectLinearizable({Unknown(Put(1, "x", "1", 0, 0)), CPut(2, "x", kAbsent, "2", false, 10, 20),
                      Get(2, "x", "1", 30, 40)});
  ExpectViolation({CPut(2, "x", kAbsent, "2", false, 10, 20), Unknown(Put(1, "x", "1", 30, 0))});
}

TEST(CheckKv, UnknownDeleteMayExplainAnAbsentRead) {
  ExpectLinearizable(
      {Put(1, "x", "1", 0, 10), Unknown(Del(1, "x", 20, 0)), Get(2, "x", kAbsent, 30, 40)});
  ExpectViolation(
      {Put(1, "x", "1", 0, 10), Get(2, "x", kAbsent, 15, 18), Unknown(Del(1, "x", 20, 0))});
}

TEST(CheckKv, UnknownReadsAreIgnored) {
  Operation g = Unknown(Get(2, "x", "nonsense", 5, 0));
  ExpectLinearizable({Put(1, "x", "1", 0, 10), g});
}

TEST(CheckKv, DeleteThenRead) {
  ExpectViolation({Put(1, "x", "1", 0, 10), Del(1, "x", 20, 30), Get(2, "x", "1", 40, 50)});
  ExpectLinearizable({Put(1, "x", "1", 0, 10), Del(1, "x", 20, 30), Get(2, "x", kAbsent, 40, 50)});
  ExpectLinearizable({Put(1, "x", "1", 0, 10), Del(1, "x", 20, 50), Get(2, "x", "1", 30, 40)});
}

TEST(CheckKv, CompareAndDeleteActsOnlyOnItsExpectedValue) {
  ExpectLinearizable(
      {Put(1, "x", "1", 0, 10), CDel(1, "x", "1", true, 20, 30), Get(2, "x", kAbsent, 40, 50)});
  // A successful CDELETE proves the value was there and leaves nothing behind.
  ExpectViolation(
      {Put(1, "x", "1", 0, 10), CDel(1, "x", "1", true, 20, 30), Get(2, "x", "1", 40, 50)});
  ExpectViolation({Put(1, "x", "1", 0, 10), CDel(1, "x", "2", true, 20, 30)});
  // A failed one changes nothing, and needs a value other than the expected one.
  ExpectLinearizable(
      {Put(1, "x", "1", 0, 10), CDel(1, "x", "2", false, 20, 30), Get(2, "x", "1", 40, 50)});
  ExpectViolation({Put(1, "x", "1", 0, 10), CDel(1, "x", "1", false, 20, 30)});
  // Two CDELETEs of the same value: only one can win.
  ExpectViolation(
      {Put(1, "x", "1", 0, 10), CDel(1, "x", "1", true, 20, 40), CDel(2, "x", "1", true, 20, 40)});
  // An unknown one takes effect only if its comparison holds.
  ExpectLinearizable({Put(1, "x", "1", 0, 10), Unknown(CDel(1, "x", "1", false, 20, 0)),
                      Get(2, "x", kAbsent, 30, 40)});
  ExpectViolation({Put(1, "x", "1", 0, 10), Unknown(CDel(1, "x", "2", false, 20, 0)),
                   Get(2, "x", kAbsent, 30, 40)});
  Operation malformed = CDel(1, "x", "1", true, 0, 10);
  malformed.expected.reset();
  EXPECT_EQ(CheckKv({malformed}).verdict, Verdict::kUnknown);
}

TEST(CheckKv, ReadOfANeverWrittenValueIsRejected) {
  ExpectViolation({Put(1, "x", "1", 0, 10), Get(2, "x", "zzz", 5, 15)});
}

TEST(CheckKv, KeysAreCheckedIndependently) {
  // Each key alone is fine...
  ExpectLinearizable({Put(1, "x", "1", 0, 10), Put(1, "y", "1", 0, 10), Get(2, "x", "1", 20, 30),
                      Get(2, "y", "1", 20, 30)});
  // ...and a violation on one key names that key.
  ExpectViolation({Put(1, "x", "1", 0, 10), Put(1, "y", "1", 0, 10), Get(2, "x", "1", 20, 30),
                   Get(2, "y", kAbsent, 20, 30)},
                  "y");
}

TEST(CheckKv, ManyConcurrentWritersAndReaders) {
  // 14 writers overlap completely; readers inside the window see values in a sequence
  // that some order of the writes explains.
  std::vector<Operation> h;
  for (int i = 0; i < 14; ++i) h.push_back(Put(i, "x", Name("v", i), 0, 1000));
  const int seen[] = {3, 7, 7, 1, 13, 0, 9};
  for (int i = 0; i < 7; ++i) {
    h.push_back(Get(100, "x", Name("v", seen[i]), 10 + 100 * i, 60 + 100 * i));
  }
  ExpectLinearizable(h);
  // After all writes completed, reads agree on one final value; going back to v3 is not.
  std::vector<Operation> bad = h;
  bad.push_back(Get(101, "x", "v0", 2000, 2010));
  bad.push_back(Get(101, "x", "v3", 2020, 2030));
  ExpectViolation(bad);
}

TEST(CheckKv, BudgetExhaustionIsUnknown) {
  // 22 overlapping writes and a final impossible pair of reads: refuting this needs a
  // search over many subsets of the writes, far more than a millisecond's worth.
  std::vector<Operation> h;
  for (int i = 0; i < 22; ++i) h.push_back(Put(i, "x", Name("v", i), 0, 1000));
  for (int i = 0; i < 22; ++i) {
    h.push_back(Get(100, "x", Name("v", i), 100 + i * 10, 105 + i * 10));
  }
  h.push_back(Get(101, "x", "v0", 2000, 2010));
  h.push_back(Get(101, "x", "v1", 2020, 2030));
  CheckResult r = CheckKv(h, std::chrono::milliseconds(1));
  EXPECT_EQ(r.verdict, Verdict::kUnknown) << r.explanation;
  EXPECT_EQ(r.key, "x");
}

TEST(CheckKv, MalformedHistoryIsUnknown) {
  Operation p = Put(1, "x", "1", 0, 10);
  p.value.reset();
  EXPECT_EQ(CheckKv({p}).verdict, Verdict::kUnknown);
  EXPECT_EQ(CheckKv({Get(1, "x", kAbsent, 10, 5)}).verdict, Verdict::kUnknown);
}

// ---------------------------------------------------------------------------------------
// A reference checker straight from the definition, for histories of a few operations:
// try every order of the operations (unknown ones may be left out) that respects real
// time, and run the register model over it.
bool BruteForceLinearizable(const std::vector<Operation>& h) {
  const size_t n = h.size();
  auto ret = [&](size_t i) {
    return h[i].completed ? h[i].ret : std::numeric_limits<int64_t>::max();
  };
  std::vector<bool> placed(n, false);
  std::function<bool(Value)> dfs = [&](Value state) -> bool {
    bool all_done = true;
    for (size_t i = 0; i < n; ++i) all_done &= placed[i] || !h[i].completed;
    if (all_done) return true;
    for (size_t x = 0; x < n; ++x) {
      if (placed[x]) continue;
      bool may_go_next = true;
      for (size_t y = 0; y < n; ++y) {
        if (y != x && !placed[y] && h[y].completed && ret(y) < h[x].call) may_go_next = false;
      }
      if (!may_go_next) continue;
      const Operation& op = h[x];
      Value after = state;
      bool fits = true;
      switch (op.kind) {
        case OpKind::kGet:
          fits = !op.completed || op.observed == state;
          break;
        case OpKind::kPut:
          after = op.value;
          break;
        case OpKind::kDelete:
          after = kAbsent;
          break;
        case OpKind::kCPut:
        case OpKind::kCDelete:
          if (op.completed && !op.cput_succeeded) {
            fits = state != op.expected;
          } else {
            fits = state == op.expected;
            after = op.kind == OpKind::kCPut ? op.value : kAbsent;
          }
          break;
      }
      if (!fits) continue;
      placed[x] = true;
      const bool ok = dfs(after);
      placed[x] = false;
      if (ok) return true;
    }
    return false;
  };
  return dfs(kAbsent);
}

const internal::Strategy kStrategies[] = {internal::Strategy::kBoth, internal::Strategy::kEagerOnly,
                                          internal::Strategy::kJustInTimeOnly};

TEST(CheckKv, AgreesWithBruteForceOnRandomSmallHistories) {
  std::mt19937_64 rng(20261124);
  const Value values[] = {kAbsent, "a", "b", "c"};
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  int linearizable = 0, not_linearizable = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    std::vector<Operation> h;
    const int n = 3 + pick(5);
    for (int i = 0; i < n; ++i) {
      const int64_t call = pick(30);
      const int64_t ret = call + pick(15);
      const int kind = pick(11);
      Operation op;
      if (kind < 4) {
        op = Get(i, "x", values[pick(4)], call, ret);
      } else if (kind < 7) {
        op = Put(i, "x", *values[1 + pick(3)], call, ret);
      } else if (kind < 9) {
        op = CPut(i, "x", values[pick(4)], *values[1 + pick(3)], pick(2) == 0, call, ret);
      } else if (kind < 10) {
        op = Del(i, "x", call, ret);
      } else {
        op = CDel(i, "x", *values[1 + pick(3)], pick(2) == 0, call, ret);
      }
      if (pick(6) == 0) MakeUnknown(op);
      h.push_back(op);
    }
    const bool expected = BruteForceLinearizable(h);
    for (internal::Strategy strategy : kStrategies) {
      const CheckResult r = internal::CheckKvUsing(h, std::chrono::seconds(10), strategy);
      ASSERT_NE(r.verdict, Verdict::kUnknown);
      ASSERT_EQ(r.ok(), expected) << "iteration " << iter << ", strategy "
                                  << static_cast<int>(strategy) << ": " << r.explanation;
    }
    (expected ? linearizable : not_linearizable)++;
  }
  // Both verdicts must be well represented, or this test proves little.
  EXPECT_GT(linearizable, 400);
  EXPECT_GT(not_linearizable, 400);
}

// ---------------------------------------------------------------------------------------
// Histories generated from a sequential execution: operation i takes effect at time 10*i,
// and its recorded interval is stretched randomly around that point. Such a history is
// linearizable by construction.
struct Generated {
  std::vector<Operation> history;
  std::vector<int64_t> point;  // linearization point of each op (unused for phantoms)
};

Generated Generate(uint64_t seed, int ops, int keys, int spread, bool timeouts = true,
                   int timeout_one_in = 25) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  std::vector<Value> state(keys);
  Generated g;
  for (int i = 0; i < ops; ++i) {
    const int k = pick(keys);
    const std::string key = Name("k", k);
    const std::string fresh = Name("v", i);
    const int64_t t = 10LL * (i + 1);
    const int64_t call = t - pick(spread), ret = t + pick(spread);
    const int kind = pick(20);
    Operation op;
    if (kind < 8) {
      op = Get(pick(32), key, state[k], call, ret);
    } else if (kind < 14) {
      op = Put(pick(32), key, fresh, call, ret);
      state[k] = fresh;
    } else if (kind < 18) {
      const bool match = pick(3) != 0;
      Value expected = match ? state[k] : Value(Name("v", pick(i + 1)));
      if (!match && expected == state[k]) expected = "nope";
      op = CPut(pick(32), key, expected, fresh, match, call, ret);
      if (match) state[k] = fresh;
    } else {
      op = Del(pick(32), key, call, ret);
      state[k].reset();
    }
    // Some writes time out at the client though they took effect.
    if (timeouts && op.kind != OpKind::kGet && pick(timeout_one_in) == 0) MakeUnknown(op);
    g.history.push_back(op);
    g.point.push_back(t);
    // Some timed-out writes never took effect at all.
    if (timeouts && pick(40) == 0) {
      g.history.push_back(Unknown(Put(pick(32), key, Name("phantom", i), call, 0)));
      g.point.push_back(-1);
    }
  }
  return g;
}

// Replaces the value one completed read observed by a value it provably cannot have seen
// (values are unique per write): a value first written after the read returned, or one
// overwritten by a completed write that lies wholly between its writer and the read.
// Returns false if no read of this history has such a value.
bool CorruptOneRead(Generated& g, std::mt19937_64& rng) {
  std::vector<Operation>& h = g.history;
  std::vector<size_t> reads;
  for (size_t i = 0; i < h.size(); ++i) {
    if (h[i].kind == OpKind::kGet && h[i].completed) reads.push_back(i);
  }
  std::shuffle(reads.begin(), reads.end(), rng);
  for (size_t r : reads) {
    Operation& read = h[r];
    for (size_t w = 0; w < h.size(); ++w) {
      const Operation& writer = h[w];
      if (writer.key != read.key || !writer.value || writer.value == read.observed) continue;
      if (writer.kind == OpKind::kCPut && writer.completed && !writer.cput_succeeded) continue;
      bool impossible = writer.call > read.ret;
      for (size_t x = 0; x < h.size() && !impossible && writer.completed; ++x) {
        const Operation& over = h[x];
        const bool overwrites = over.kind == OpKind::kPut || over.kind == OpKind::kDelete ||
                                (over.kind == OpKind::kCPut && over.cput_succeeded);
        impossible = over.key == read.key && over.completed && overwrites &&
                     over.value != writer.value && writer.ret < over.call && over.ret < read.call;
      }
      if (impossible) {
        read.observed = writer.value;
        return true;
      }
    }
  }
  return false;
}

TEST(CheckKv, GeneratedHistoriesPassAndCorruptedOnesFail) {
  std::mt19937_64 rng(7);
  int corrupted = 0;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    // Few keys and wide intervals: many overlapping operations per key.
    Generated g = Generate(seed, 300, 3, 60);
    for (internal::Strategy strategy : kStrategies) {
      CheckResult r = internal::CheckKvUsing(g.history, std::chrono::seconds(10), strategy);
      ASSERT_EQ(r.verdict, Verdict::kLinearizable) << "seed " << seed << ": " << r.explanation;
    }
    if (CorruptOneRead(g, rng)) {
      ++corrupted;
      for (internal::Strategy strategy : kStrategies) {
        CheckResult r = internal::CheckKvUsing(g.history, std::chrono::seconds(10), strategy);
        ASSERT_EQ(r.verdict, Verdict::kNotLinearizable) << "seed " << seed;
      }
    }
  }
  EXPECT_GT(corrupted, 50);
}

TEST(CheckKv, LargeHistoryIsCheckedQuickly) {
  // 40,000 operations over 16 keys, each overlapping with several on its key, some timed out.
  Generated g = Generate(99, 40000, 16, 400);
  const auto start = std::chrono::steady_clock::now();
  CheckResult r = CheckKv(g.history, std::chrono::seconds(20));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.verdict, Verdict::kLinearizable) << r.explanation;
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(CheckKv, LargeCorruptedHistoryIsRejectedQuickly) {
  // Refuting a key means exhausting its configurations, which grows exponentially with the
  // timed-out writes pending at once; without them it is fast.
  Generated g = Generate(98, 40000, 16, 400, /*timeouts=*/false);
  std::mt19937_64 rng(3);
  ASSERT_TRUE(CorruptOneRead(g, rng));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(CheckKv(g.history, std::chrono::seconds(20)).verdict, Verdict::kNotLinearizable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(CheckKv, ManyTimedOutWrites) {
  // A third of the writes time out (as in a long partition): they stay pending to the end.
  Generated g = Generate(11, 6000, 4, 60, /*timeouts=*/true, /*timeout_one_in=*/3);
  const auto start = std::chrono::steady_clock::now();
  CheckResult r = CheckKv(g.history, std::chrono::seconds(20));
  EXPECT_EQ(r.verdict, Verdict::kLinearizable) << r.explanation;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(CheckKv, CorruptedHistoryWithManyTimedOutWritesIsRejected) {
  // Placing each timed-out write only right before a read keeps this refutation fast.
  Generated g = Generate(12, 800, 2, 60, /*timeouts=*/true, /*timeout_one_in=*/3);
  std::mt19937_64 rng(3);
  ASSERT_TRUE(CorruptOneRead(g, rng));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(CheckKv(g.history, std::chrono::seconds(20)).verdict, Verdict::kNotLinearizable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(CheckKv, LongSingleKeyHistory) {
  Generated g = Generate(5, 20000, 1, 40);
  CheckResult r = CheckKv(g.history, std::chrono::seconds(20));
  EXPECT_EQ(r.verdict, Verdict::kLinearizable) << r.explanation;
}

}  // namespace
}  // namespace penncloud::lincheck
