// The simulator's replicated state machine: a key-value map with PUT/CPUT/DELETE commands
// and an at-most-once table (the last sequence applied per client, with its result).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace penncloud::paxos::sim {

struct KvCommand {
  char op = 'P';  // 'P' put, 'C' cput, 'D' delete
  uint64_t client = 0;
  uint64_t seq = 0;
  std::string key;
  std::string value;
  std::optional<std::string> expected;  // CPUT: nullopt = the key must be absent
};

std::string Encode(const KvCommand& c);

// Applies one write to `data` ('P' put, 'D' delete, 'C' put if `expected` holds, where
// nullopt means absent); true when a CPUT's expectation held, false otherwise.
bool ApplyKvWrite(std::map<std::string, std::string>& data, char op, const std::string& key,
                  const std::string& value, const std::optional<std::string>& expected);
KvCommand Decode(const std::string& s);

class KvMachine {
 public:
  // Applies `c` unless its (client, seq) was applied already; returns the CPUT outcome
  // (the remembered one for a duplicate). `*fresh` tells whether it was applied now.
  bool Apply(const KvCommand& c, bool* fresh);
  std::optional<std::string> Get(const std::string& key) const;
  // A fingerprint of the whole state (data and at-most-once table).
  uint64_t Digest() const;

 private:
  std::map<std::string, std::string> data_;
  std::map<uint64_t, std::pair<uint64_t, bool>> sessions_;  // client -> (seq, cput result)
};

}  // namespace penncloud::paxos::sim
