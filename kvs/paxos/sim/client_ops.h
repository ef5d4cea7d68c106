// What every simulated client keeps about its operations, whatever it asks and whomever it
// asks: how many it may still start, the one in flight (its place in the history and its
// deadline), and what its timer calls for.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kvs/paxos/sim/op_history.h"

namespace penncloud::paxos::sim {

struct ClientOps {
  bool active = false;  // an operation is in flight
  bool done = false;    // no operation left to start
  int ops_left = 0;
  int64_t deadline = 0;  // the operation in flight is given up after it (while faults last)
  size_t history_index = 0;
  uint64_t read_percent = 35;  // some clients mostly read: they linger at a deposed leader

  // Takes the next operation; false (and done) when none is left.
  bool TakeNext() {
    if (ops_left <= 0) {
      done = true;
      return false;
    }
    --ops_left;
    return true;
  }
  // Records the call of the operation taken, in flight until `until`.
  void Begin(OpHistory& h, int client, const std::string& key, lincheck::OpKind kind,
             const std::string& value, const std::optional<std::string>& expected, int64_t now,
             int64_t until) {
    history_index = h.Call(client, key, kind, value, expected, now);
    active = true;
    deadline = until;
  }
  // The client learned the outcome of the operation in flight.
  void Complete(OpHistory& h, int64_t now, const std::optional<std::string>& observed,
                bool cput_ok) {
    h.Return(history_index, now, observed, cput_ok);
    active = false;
  }
  // The client gives the operation in flight up: its outcome stays unknown.
  void GiveUp(OpHistory& h, int64_t now) {
    h.GiveUp(history_index, now);
    active = false;
  }

  enum class Due { kNextOp, kGiveUp, kResend };
  // What the client's (current) timer calls for.
  Due OnTimer(bool faults_on, int64_t now) const {
    if (!active) return Due::kNextOp;
    if (faults_on && now >= deadline) return Due::kGiveUp;
    return Due::kResend;
  }
  // After the heal every client finishes its operation in flight and two more; true when
  // it is idle and must be woken for them.
  bool Heal() {
    ops_left = 2;
    done = false;
    return !active;
  }
};

}  // namespace penncloud::paxos::sim
