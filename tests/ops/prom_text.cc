#include "tests/ops/prom_text.h"

#include <cmath>
#include <cstdlib>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace penncloud::testing {
namespace {

bool NameChar(char c, bool first, bool colon_ok) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':') ||
         (!first && c >= '0' && c <= '9');
}

// Reads a name at `pos`; empty on failure.
std::string ReadName(const std::string& s, size_t& pos, bool colon_ok) {
  size_t start = pos;
  while (pos < s.size() && NameChar(s[pos], pos == start, colon_ok)) ++pos;
  return s.substr(start, pos - start);
}

bool ParseValue(const std::string& text, double* out) {
  if (text == "+Inf" || text == "Inf") {
    *out = INFINITY;
  } else if (text == "-Inf") {
    *out = -INFINITY;
  } else if (text == "NaN") {
    *out = NAN;
  } else {
    if (text.empty()) return false;
    char* end = nullptr;
    *out = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size()) return false;
  }
  return true;
}

// The family a sample belongs to, given the declared types.
std::string FamilyOf(const std::string& name, const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string_view n(name);
    if (n.ends_with(suffix)) {
      std::string base(n.substr(0, n.size() - std::string_view(suffix).size()));
      auto it = types.find(base);
      if (it != types.end() && (it->second == "histogram" || it->second == "summary")) {
        return base;
      }
    }
  }
  return name;
}

}  // namespace

absl::StatusOr<PromSamples> ParsePromText(const std::string& text) {
  PromSamples samples;
  std::map<std::string, std::string> types;
  std::set<std::string> helped;
  std::set<std::string> finished;  // families whose lines are over
  std::string current;
  // Histogram checks: cumulative bucket counts per (family, labels without le).
  std::map<std::string, double> last_bucket;
  std::map<std::string, double> inf_bucket;
  if (!text.empty() && text.back() != '\n') return absl::InvalidArgumentError("no final newline");
  int line_no = 0;
  for (absl::string_view view : absl::StrSplit(text, '\n')) {
    ++line_no;
    std::string line(view);
    auto err = [&](const std::string& why) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_no, ": ", why, ": ", line));
    };
    if (line.empty()) continue;
    auto switch_to = [&](const std::string& family) -> absl::Status {
      if (family == current) return absl::OkStatus();
      if (finished.count(family)) return err("family's lines are not together");
      if (!current.empty()) finished.insert(current);
      current = family;
      return absl::OkStatus();
    };
    if (line[0] == '#') {
      std::vector<std::string> parts = absl::StrSplit(line, absl::MaxSplits(' ', 3));
      if (parts.size() < 3 || (parts[1] != "HELP" && parts[1] != "TYPE")) continue;  // comment
      size_t pos = 0;
      std::string name = ReadName(parts[2], pos, true);
      if (name.empty() || pos != parts[2].size()) return err("bad metric name");
      if (absl::Status s = switch_to(name); !s.ok()) return s;
      if (parts[1] == "HELP") {
        if (!helped.insert(name).second) return err("second HELP");
        std::string help = parts.size() > 3 ? parts[3] : "";
        for (size_t i = 0; i < help.size(); ++i) {
          if (help[i] == '\\' &&
              (i + 1 >= help.size() || (help[i + 1] != '\\' && help[i + 1] != 'n'))) {
            return err("bad escape in HELP");
          }
          if (help[i] == '\\') ++i;
        }
      } else {
        if (types.count(name)) return err("second TYPE");
        if (samples.lower_bound(name) != samples.end() &&
            samples.lower_bound(name)->first.starts_with(name + "{")) {
          return err("TYPE after samples");
        }
        std::string type = parts.size() > 3 ? parts[3] : "";
        if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" &&
            type != "untyped") {
          return err("bad type");
        }
        types[name] = type;
      }
      continue;
    }
    size_t pos = 0;
    std::string name = ReadName(line, pos, true);
    if (name.empty()) return err("bad metric name");
    std::string family = FamilyOf(name, types);
    if (!types.count(family)) return err("sample without TYPE");
    if (absl::Status s = switch_to(family); !s.ok()) return s;
    std::string series = name;
    std::string labels_but_le;
    std::string le;
    if (pos < line.size() && line[pos] == '{') {
      series.push_back('{');
      ++pos;
      std::set<std::string> seen;
      bool first = true;
      while (pos < line.size() && line[pos] != '}') {
        if (!first) {
          if (line[pos] != ',') return err("expected ','");
          series.push_back(',');
          ++pos;
        }
        first = false;
        std::string label = ReadName(line, pos, false);
        if (label.empty()) return err("bad label name");
        if (!seen.insert(label).second) return err("duplicate label");
        if (line.compare(pos, 2, "=\"") != 0) return err("expected =\"");
        pos += 2;
        std::string value;
        while (pos < line.size() && line[pos] != '"') {
          if (line[pos] == '\\') {
            if (pos + 1 >= line.size()) return err("dangling escape");
            char e = line[pos + 1];
            if (e != '\\' && e != '"' && e != 'n') return err("bad escape in label value");
            value += line.substr(pos, 2);
            pos += 2;
          } else {
            value.push_back(line[pos++]);
          }
        }
        if (pos >= line.size()) return err("unterminated label value");
        ++pos;
        std::string pair = absl::StrCat(label, "=\"", value, "\"");
        series += pair;
        if (label == "le") {
          le = value;
        } else {
          labels_but_le += pair + ",";
        }
      }
      if (pos >= line.size()) return err("unterminated label set");
      series.push_back('}');
      ++pos;
    }
    if (pos >= line.size() || line[pos] != ' ') return err("expected a space before the value");
    std::vector<std::string> rest = absl::StrSplit(line.substr(pos + 1), ' ');
    if (rest.empty() || rest.size() > 2) return err("expected value [timestamp]");
    double value = 0;
    if (!ParseValue(rest[0], &value)) return err("bad value");
    if (rest.size() == 2) {
      char* end = nullptr;
      std::strtoll(rest[1].c_str(), &end, 10);
      if (rest[1].empty() || end != rest[1].c_str() + rest[1].size()) return err("bad timestamp");
    }
    if (!samples.emplace(series, value).second) return err("duplicate series");
    const std::string& type = types[family];
    if ((type == "counter" || name.ends_with("_count") || name.ends_with("_bucket")) &&
        (value < 0 || std::isnan(value))) {
      return err("negative count");
    }
    if (type == "histogram") {
      std::string key = family + "{" + labels_but_le;
      if (name == family + "_bucket") {
        double bound = 0;
        if (le.empty() || !ParseValue(le, &bound)) return err("bucket without a valid le");
        auto it = last_bucket.find(key);
        if (it != last_bucket.end() && value < it->second) return err("bucket counts shrink");
        last_bucket[key] = value;
        if (std::isinf(bound)) inf_bucket[key] = value;
      } else if (name == family + "_count") {
        auto it = inf_bucket.find(key);
        if (it == inf_bucket.end()) return err("histogram without a +Inf bucket");
        if (it->second != value) return err("_count differs from the +Inf bucket");
      }
    }
  }
  return samples;
}

double SumSeries(const PromSamples& samples, const std::string& name,
                 const std::vector<std::string>& labels) {
  double sum = 0;
  for (const auto& [series, value] : samples) {
    if (series != name && !series.starts_with(name + "{")) continue;
    bool all = true;
    for (const auto& l : labels) {
      if (series.find(l) == std::string::npos) all = false;
    }
    if (all) sum += value;
  }
  return sum;
}

}  // namespace penncloud::testing
