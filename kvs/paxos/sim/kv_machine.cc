#include "kvs/paxos/sim/kv_machine.h"

#include <string_view>
#include <vector>

namespace penncloud::paxos::sim {
namespace {
constexpr char kSep = '\x1f';

uint64_t Mix(uint64_t h, std::string_view s) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return (h ^ 0xff) * 0x100000001b3ULL;
}
}  // namespace

std::string Encode(const KvCommand& c) {
  std::string s;
  s += c.op;
  s += kSep + std::to_string(c.client) + kSep + std::to_string(c.seq) + kSep + c.key + kSep +
       c.value + kSep + (c.expected ? "1" : "0") + kSep + c.expected.value_or("");
  return s;
}

KvCommand Decode(const std::string& s) {
  std::vector<std::string> f;
  size_t start = 0;
  for (;;) {
    const size_t end = s.find(kSep, start);
    f.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  KvCommand c;
  if (f.size() != 7) return c;
  c.op = f[0].empty() ? '?' : f[0][0];
  c.client = std::stoull(f[1]);
  c.seq = std::stoull(f[2]);
  c.key = f[3];
  c.value = f[4];
  if (f[5] == "1") c.expected = f[6];
  return c;
}

bool ApplyKvWrite(std::map<std::string, std::string>& data, char op, const std::string& key,
                  const std::string& value, const std::optional<std::string>& expected) {
  switch (op) {
    case 'P':
      data[key] = value;
      return false;
    case 'D':
      data.erase(key);
      return false;
    case 'C': {
      auto d = data.find(key);
      const bool match = expected ? (d != data.end() && d->second == *expected) : d == data.end();
      if (match) data[key] = value;
      return match;
    }
    default:
      return false;
  }
}

bool KvMachine::Apply(const KvCommand& c, bool* fresh) {
  auto it = sessions_.find(c.client);
  if (it != sessions_.end() && it->second.first >= c.seq) {
    *fresh = false;
    return it->second.first == c.seq && it->second.second;
  }
  *fresh = true;
  const bool result = ApplyKvWrite(data_, c.op, c.key, c.value, c.expected);
  sessions_[c.client] = {c.seq, result};
  return result;
}

std::optional<std::string> KvMachine::Get(const std::string& key) const {
  auto it = data_.find(key);
  if (it == data_.end()) return std::nullopt;
  return it->second;
}

uint64_t KvMachine::Digest() const {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto& [k, v] : data_) h = Mix(Mix(h, k), v);
  for (const auto& [c, sr] : sessions_) {
    h = Mix(h, std::to_string(c) + "/" + std::to_string(sr.first) + (sr.second ? "t" : "f"));
  }
  return h;
}

}  // namespace penncloud::paxos::sim
