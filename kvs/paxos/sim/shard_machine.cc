#include "kvs/paxos/sim/shard_machine.h"

#include <string_view>
#include <vector>

#include "kvs/shard/hash_ring.h"

namespace penncloud::paxos::sim {
namespace {
constexpr char kField = '\x1f';
constexpr char kRecord = '\x1e';
constexpr char kPart = '\x1d';

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t end = s.find(sep, start);
    out.emplace_back(s.substr(start, end == std::string_view::npos ? s.npos : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

// Applies one write to `data` ('P' put, 'D' delete, 'C' put if `expected` holds, where
// nullopt means absent); true when a CPUT's expectation held, false otherwise.
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

uint64_t Mix(uint64_t h, std::string_view s) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return (h ^ 0xff) * 0x100000001b3ULL;
}
}  // namespace

std::vector<std::string> SplitDump(const std::string& dump, size_t chunks) {
  const std::vector<std::string> records =
      dump.empty() ? std::vector<std::string>() : Split(dump, kRecord);
  std::vector<std::string> out(chunks);
  for (size_t k = 0; k < chunks; ++k) {
    for (size_t i = k * records.size() / chunks; i < (k + 1) * records.size() / chunks; ++i) {
      if (!out[k].empty()) out[k] += kRecord;
      out[k] += records[i];
    }
  }
  return out;
}

std::string EncodeCommand(const ShardCommand& c) {
  std::string s(1, c.op);
  for (const std::string& f :
       {std::to_string(c.client), std::to_string(c.seq), c.key, c.value,
        std::string(c.expected ? "1" : "0"), c.expected.value_or(""), std::to_string(c.map),
        std::to_string(c.expected_map), std::to_string(c.migration), std::to_string(c.start),
        std::to_string(c.end), std::to_string(c.from), std::to_string(c.to), c.payload,
        std::string(c.reset ? "1" : "0"), std::string(c.last ? "1" : "0"),
        std::to_string(c.attempt), std::to_string(c.chunk)}) {
    s += kField;
    s += f;
  }
  return s;
}

ShardCommand DecodeCommand(const std::string& s) {
  const std::vector<std::string> f = Split(s, kField);
  ShardCommand c;
  if (f.size() != 19 || f[0].size() != 1) {
    c.op = '?';
    return c;
  }
  c.op = f[0][0];
  c.client = std::stoull(f[1]);
  c.seq = std::stoull(f[2]);
  c.key = f[3];
  c.value = f[4];
  if (f[5] == "1") c.expected = f[6];
  c.map = std::stoull(f[7]);
  c.expected_map = std::stoull(f[8]);
  c.migration = std::stoull(f[9]);
  c.start = std::stoull(f[10]);
  c.end = std::stoull(f[11]);
  c.from = std::stoull(f[12]);
  c.to = std::stoull(f[13]);
  c.payload = f[14];
  c.reset = f[15] == "1";
  c.last = f[16] == "1";
  c.attempt = std::stoull(f[17]);
  c.chunk = std::stoull(f[18]);
  return c;
}

Verdict ShardMachine::Judge(const std::string& row, bool write) const {
  if (group_ == 0 || map_ == nullptr) return Verdict::kServe;
  const uint64_t p = kvs::shard::RingPosition(row);
  const bool mapped_here = map_->GroupOfPosition(p) == group_;
  // The newest migration covering the row decides (ids only grow).
  const Entry* latest = nullptr;
  for (const auto& [id, e] : table_) {
    if (kvs::shard::RingRange{e.start, e.end}.Contains(p)) latest = &e;
  }
  if (latest != nullptr && latest->from == group_) {
    if (bug_ == Bug::kSourceServesAfterSwitch) {
      return write && latest->step == Step::kFrozen ? Verdict::kUnavailable : Verdict::kServe;
    }
    if (latest->step == Step::kReleased || latest->step == Step::kDropped) {
      return Verdict::kWrongGroup;
    }
    if (mapped_here && write && latest->step == Step::kFrozen) return Verdict::kUnavailable;
  }
  if (latest != nullptr && latest->to == group_) {
    if (latest->step == Step::kActive) return Verdict::kServe;
    return mapped_here ? Verdict::kUnavailable : Verdict::kWrongGroup;
  }
  return mapped_here ? Verdict::kServe : Verdict::kWrongGroup;
}

ApplyOutcome ShardMachine::ApplyWrite(const ShardCommand& c) {
  ApplyOutcome out;
  // The at-most-once check comes first: a retry gets its recorded result even after the
  // range moved away.
  auto it = sessions_.find(c.client);
  if (it != sessions_.end() && it->second.seq >= c.seq) {
    const bool same = it->second.seq == c.seq;
    out.verdict = same && it->second.wrong_group ? Verdict::kWrongGroup : Verdict::kServe;
    out.cput_ok = same && it->second.cput_ok;
    return out;
  }
  out.verdict = Judge(c.key, /*write=*/true);
  if (out.verdict == Verdict::kUnavailable) return out;  // not recorded: retried here
  Session& s = sessions_[c.client];
  s = Session{c.seq, out.verdict == Verdict::kWrongGroup, false};
  if (out.verdict == Verdict::kWrongGroup) return out;
  s.cput_ok = out.cput_ok = ApplyKvWrite(data_, c.op, c.key, c.value, c.expected);
  return out;
}

void ShardMachine::EraseRange(uint64_t start, uint64_t end) {
  const kvs::shard::RingRange range{start, end};
  for (auto it = data_.begin(); it != data_.end();) {
    it = range.Contains(kvs::shard::RingPosition(it->first)) ? data_.erase(it) : std::next(it);
  }
}

void ShardMachine::ApplyControl(const ShardCommand& c, ApplyOutcome* out) {
  auto entry = table_.find(c.migration);
  const bool known = entry != table_.end();
  switch (c.op) {
    case 'S':  // config group: compare-and-set of the stored map
      if (map_id_ == c.expected_map && maps_->count(c.map)) {
        map_id_ = c.map, map_ = maps_->at(c.map);
      }
      out->cput_ok = map_id_ == c.map;
      return;
    case 'M':  // OP_SET_MAP: only ever forward
      if (auto m = maps_->find(c.map); m != maps_->end() && m->second->version() > map_version()) {
        map_id_ = c.map, map_ = m->second;
      }
      return;
    case 'F':
      if (!known) table_[c.migration] = Entry{c.start, c.end, c.from, c.to, Step::kFrozen};
      return;
    case 'I': {
      // As INSTALL_CHUNK in kvs/storage/replica_store.cc: a live range is never touched; an
      // installed one only by a new attempt (reset), which starts over.
      if (known && entry->second.step == Step::kActive) return;
      if (c.attempt != 0) {
        // Numbered chunks (as fixed in 7e1e0c4): chunk 0 of a newer attempt starts over,
        // the next chunk of the current attempt continues it; anything else is late.
        const bool starts =
            (!known || c.attempt > entry->second.attempt) && c.chunk == 0 && c.reset;
        const bool continues = known && c.attempt == entry->second.attempt &&
                               c.chunk == entry->second.next_chunk &&
                               entry->second.step == Step::kInstalling;
        if (!starts && !continues) return;
      } else if (known && entry->second.step == Step::kInstalled && !c.reset) {
        return;
      }
      if (c.reset) EraseRange(c.start, c.end);  // leftovers of an interrupted attempt
      for (const std::string& rec : Split(c.payload, kRecord)) {
        const std::vector<std::string> p = Split(rec, kPart);
        if (p.size() == 3 && p[0] == "c") data_[p[1]] = p[2];
        if (p.size() == 5 && p[0] == "s") {
          Session& s = sessions_[std::stoull(p[1])];
          const uint64_t seq = std::stoull(p[2]);
          if (seq > s.seq) s = Session{seq, p[3] == "1", p[4] == "1"};
        }
      }
      table_[c.migration] =
          Entry{c.start,   c.end,      c.from, c.to, c.last ? Step::kInstalled : Step::kInstalling,
                c.attempt, c.chunk + 1};
      return;
    }
    case 'R':
      if (!known || entry->second.step == Step::kFrozen) {
        table_[c.migration] = Entry{c.start, c.end, c.from, c.to, Step::kReleased};
      }
      return;
    case 'A':
      if (known && entry->second.step == Step::kInstalled) entry->second.step = Step::kActive;
      if (!known && bug_ == Bug::kActivateBeforeInstall) {
        table_[c.migration] = Entry{c.start, c.end, c.from, c.to, Step::kActive};
      }
      return;
    case 'X':
      if (known && entry->second.step == Step::kReleased) {
        EraseRange(c.start, c.end);
        entry->second.step = Step::kDropped;
      }
      return;
    default:
      return;
  }
}

ApplyOutcome ShardMachine::Apply(const ShardCommand& c) {
  if (c.op == 'P' || c.op == 'C' || c.op == 'D') return ApplyWrite(c);
  ApplyOutcome out;
  ApplyControl(c, &out);
  return out;
}

std::optional<std::string> ShardMachine::Get(const std::string& key) const {
  auto it = data_.find(key);
  if (it == data_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> ShardMachine::Dump(uint64_t migration,
                                              kvs::shard::RingRange range) const {
  auto entry = table_.find(migration);
  const bool frozen = entry != table_.end() && entry->second.step == Step::kFrozen;
  // The broken variant copies before the freeze, from whatever state the replica has.
  const bool early = bug_ == Bug::kCopyBeforeFreeze && entry == table_.end();
  if (!frozen && !early) return std::nullopt;
  std::string out;
  auto add = [&](std::initializer_list<std::string> parts) {
    if (!out.empty()) out += kRecord;
    bool first = true;
    for (const std::string& p : parts) {
      if (!first) out += kPart;
      out += p;
      first = false;
    }
  };
  for (const auto& [k, v] : data_) {
    if (range.Contains(kvs::shard::RingPosition(k))) add({"c", k, v});
  }
  for (const auto& [client, s] : sessions_) {
    add({"s", std::to_string(client), std::to_string(s.seq), s.wrong_group ? "1" : "0",
         s.cput_ok ? "1" : "0"});
  }
  return out;
}

uint64_t ShardMachine::Digest() const {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto& [k, v] : data_) h = Mix(Mix(h, k), v);
  for (const auto& [c, s] : sessions_) {
    h = Mix(h, std::to_string(c) + "/" + std::to_string(s.seq) + (s.wrong_group ? "w" : "") +
                   (s.cput_ok ? "t" : "f"));
  }
  h = Mix(h, "map" + std::to_string(map_id_));
  for (const auto& [id, e] : table_) {
    h = Mix(h, std::to_string(id) + ":" + std::to_string(int(e.step)));
  }
  return h;
}

}  // namespace penncloud::paxos::sim
