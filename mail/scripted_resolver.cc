#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "mail/dns_resolver.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

// `"v=spf1 " "-all"` -> `v=spf1 -all`; text without quotes stays as it is.
bool UnquoteTxt(std::string_view text, std::string* out) {
  out->clear();
  if (text.empty() || text.front() != '"') {
    *out = std::string(text);
    return true;
  }
  while (!text.empty()) {
    if (text.front() != '"') return false;
    size_t close = text.find('"', 1);
    if (close == std::string_view::npos) return false;
    out->append(text.substr(1, close - 1));
    text = Trim(text.substr(close + 1));
  }
  return true;
}

}  // namespace

std::string NormalizeDnsName(std::string_view name) {
  std::string out = ToLower(Trim(name));
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

absl::StatusOr<std::unique_ptr<ScriptedResolver>> ScriptedResolver::Parse(std::string_view text) {
  auto resolver = std::make_unique<ScriptedResolver>();
  int line_number = 0;
  for (size_t pos = 0; pos <= text.size();) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = Trim(text.substr(pos, eol - pos));
    pos = eol + 1;
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    auto bad = [&](std::string_view why) {
      return absl::InvalidArgumentError(Cat("DNS script line ", line_number, ": ", why));
    };
    size_t space = line.find_first_of(" \t");
    std::string name = NormalizeDnsName(line.substr(0, space));
    std::string_view rest = space == std::string_view::npos ? "" : Trim(line.substr(space));
    size_t type_end = rest.find_first_of(" \t");
    std::string type = ToLower(rest.substr(0, type_end));
    std::string_view value = type_end == std::string_view::npos ? "" : Trim(rest.substr(type_end));
    if (name.empty()) return bad("no name");
    resolver->names_.try_emplace(name, false);
    if (type == "tempfail") {
      resolver->names_[name] = true;
      continue;
    }
    if (value.empty()) return bad("no value");
    Record record;
    DnsType kind;
    if (type == "txt") {
      kind = DnsType::kTxt;
      if (!UnquoteTxt(value, &record.value)) return bad("unbalanced quotes");
    } else if (type == "a" || type == "aaaa") {
      kind = type == "a" ? DnsType::kA : DnsType::kAaaa;
      record.value = std::string(value);
    } else if (type == "mx") {
      kind = DnsType::kMx;
      std::vector<std::string_view> words = SplitSpaces(value);
      if (words.size() != 2 || !absl::SimpleAtoi(std::string(words[0]), &record.preference)) {
        return bad("MX wants: preference host");
      }
      record.value = NormalizeDnsName(words[1]);
    } else {
      return bad(Cat("unknown type '", type, "' (TXT, A, AAAA, MX, TEMPFAIL)"));
    }
    auto& list = resolver->records_[{name, kind}];
    list.push_back(std::move(record));
    std::stable_sort(list.begin(), list.end(),
                     [](const Record& a, const Record& b) { return a.preference < b.preference; });
  }
  return resolver;
}

absl::StatusOr<std::unique_ptr<ScriptedResolver>> ScriptedResolver::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(Cat("cannot read DNS script ", path));
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str());
}

DnsAnswer ScriptedResolver::Lookup(std::string_view name, DnsType type) {
  std::string key = NormalizeDnsName(name);
  auto known = names_.find(key);
  if (known == names_.end()) return {DnsStatus::kNxDomain, {}};
  if (known->second) return {DnsStatus::kTempError, {}};
  auto it = records_.find({key, type});
  if (it == records_.end()) return {DnsStatus::kNoData, {}};
  DnsAnswer answer{DnsStatus::kOk, {}};
  for (const Record& r : it->second) answer.records.push_back(r.value);
  return answer;
}

}  // namespace penncloud::mail
