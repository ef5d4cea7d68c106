// PennCloud's one configuration file (config/penncloud.conf, TOML). Its [cluster] table is the
// layout scripts/start.sh launches (ports, paths, mail domain, group layout); every binary's
// own table ([kvs_server], [frontend], ...) sets defaults for that binary's flags, so any flag
// can live in the file. The command line always wins over the file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace penncloud::config {

// Replaces absl::ParseCommandLine in every main. Reads the file named by --config_file, else
// by $PENNCLOUD_CONFIG (neither: compiled defaults only), applies its [program] table to the
// flags, then parses the command line over it. A bad file (missing, bad syntax, unknown table
// or key, value a flag refuses) prints "<file>:<line>: [table] key: why" and exits 2. With
// --check_config it exits 0 once the file and flags are read. `usage`, if given, is the
// --help text (for mains that do not call absl::SetProgramUsageMessage themselves).
std::vector<char*> ParseFlags(int argc, char* argv[], std::string_view program,
                              std::string_view usage = {});

// Reads `path` and sets the flags named in its [program] table. Checks the whole file's
// syntax, its table names and its [cluster] keys; other binaries' tables are checked by those
// binaries (scripts/start.sh runs each with --check_config before launching anything).
absl::Status ApplyFile(const std::string& path, std::string_view program);

// ApplyFile on text already in memory; `source` names it in messages.
absl::Status ApplyText(std::string_view text, const std::string& source, std::string_view program);

}  // namespace penncloud::config
