// The clients' history for the linearizability check: each operation recorded when a
// client calls it and when it learns the outcome (or gives up, leaving it unknown).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "kvs/lincheck/history.h"

namespace penncloud::paxos::sim {

class OpHistory {
 public:
  // Records a call at `now`; returns the operation's index. `value` counts for a PUT or a
  // CPUT, `expected` for a CPUT.
  size_t Call(int client, const std::string& key, lincheck::OpKind kind, const std::string& value,
              const std::optional<std::string>& expected, int64_t now);
  // The client learned the outcome: `observed` for a GET, `cput_ok` for a CPUT.
  void Return(size_t index, int64_t now, const std::optional<std::string>& observed, bool cput_ok);
  // The client gave up: the outcome stays unknown.
  void GiveUp(size_t index, int64_t now);
  // A read outside the clients' traffic (a final read of what the system holds).
  void AddRead(int client, const std::string& key, const std::optional<std::string>& observed,
               int64_t call, int64_t ret);

  size_t size() const { return ops_.size(); }
  int64_t completed() const { return completed_; }
  int64_t given_up() const { return given_up_; }
  // One line per operation, times in ticks of `tick` time units.
  void Dump(std::ostream& out, int64_t tick) const;
  // Why the history is not linearizable (or could not be decided), or nullopt.
  std::optional<std::string> Check() const;

 private:
  std::vector<lincheck::Operation> ops_;
  int64_t completed_ = 0, given_up_ = 0;
};

}  // namespace penncloud::paxos::sim
