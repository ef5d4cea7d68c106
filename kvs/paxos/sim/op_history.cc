#include "kvs/paxos/sim/op_history.h"

#include <chrono>
#include <iterator>

namespace penncloud::paxos::sim {

using lincheck::OpKind;

size_t OpHistory::Call(int client, const std::string& key, OpKind kind, const std::string& value,
                       const std::optional<std::string>& expected, int64_t now) {
  lincheck::Operation op;
  op.client = client;
  op.key = key;
  op.kind = kind;
  if (kind == OpKind::kPut || kind == OpKind::kCPut) op.value = value;
  if (kind == OpKind::kCPut || kind == OpKind::kCDelete) op.expected = expected;
  op.call = now;
  op.completed = false;
  ops_.push_back(std::move(op));
  return ops_.size() - 1;
}

void OpHistory::Return(size_t index, int64_t now, const std::optional<std::string>& observed,
                       bool cput_ok) {
  lincheck::Operation& op = ops_[index];
  op.completed = true;
  op.ret = now;
  if (op.kind == OpKind::kGet) op.observed = observed;
  if (op.kind == OpKind::kCPut || op.kind == OpKind::kCDelete) op.cput_succeeded = cput_ok;
  ++completed_;
}

void OpHistory::GiveUp(size_t index, int64_t now) {
  ops_[index].completed = false;
  ops_[index].ret = now;
  ++given_up_;
}

void OpHistory::AddRead(int client, const std::string& key,
                        const std::optional<std::string>& observed, int64_t call, int64_t ret) {
  lincheck::Operation op;
  op.client = client;
  op.key = key;
  op.kind = OpKind::kGet;
  op.observed = observed;
  op.call = call;
  op.ret = ret;
  ops_.push_back(std::move(op));
}

void OpHistory::Dump(std::ostream& out, int64_t tick) const {
  static const char* kKinds[] = {"GET", "PUT", "CPUT", "DELETE", "CDELETE"};
  for (const lincheck::Operation& op : ops_) {
    const size_t k = size_t(op.kind);
    out << "op client=" << op.client << " " << (k < std::size(kKinds) ? kKinds[k] : "?") << "("
        << op.key << (op.value ? "=" + *op.value : "")
        << (op.kind == OpKind::kCPut || op.kind == OpKind::kCDelete
                ? " if " + op.expected.value_or("<absent>")
                : "")
        << ") [" << op.call / tick << ", " << (op.completed ? std::to_string(op.ret / tick) : "?")
        << "]";
    if (op.completed && op.kind == OpKind::kGet) out << " -> " << op.observed.value_or("<absent>");
    if (op.completed && (op.kind == OpKind::kCPut || op.kind == OpKind::kCDelete)) {
      out << " -> " << (op.cput_succeeded ? "ok" : "failed");
    }
    out << "\n";
  }
}

std::optional<std::string> OpHistory::Check() const {
  const lincheck::CheckResult check = lincheck::CheckKv(ops_, std::chrono::seconds(20));
  if (check.ok()) return std::nullopt;
  return std::string(check.verdict == lincheck::CheckResult::Verdict::kUnknown
                         ? "linearizability check ran out of time"
                         : "history not linearizable") +
         " (key " + check.key + "): " + check.explanation;
}

}  // namespace penncloud::paxos::sim
