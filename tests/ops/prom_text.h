// A strict reader of the Prometheus text exposition format 0.0.4, for tests: it refuses
// what a Prometheus server would refuse (bad names, bad escapes, unparsable values,
// samples before their TYPE, a family's lines split apart, duplicate series, histogram
// buckets that shrink or disagree with _count), so a scrape that passes here scrapes.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace penncloud::testing {

// Series (`name{label="value",...}` exactly as written, or the bare name) -> value.
using PromSamples = std::map<std::string, double>;

absl::StatusOr<PromSamples> ParsePromText(const std::string& text);

// Sum of every series of metric `name` whose labels include all of `labels` (given as
// `k="v"` strings, e.g. {"route=\"/api/me\""}).
double SumSeries(const PromSamples& samples, const std::string& name,
                 const std::vector<std::string>& labels = {});

}  // namespace penncloud::testing
