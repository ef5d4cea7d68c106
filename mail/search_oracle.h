// A brute-force answer to a search, for tests: every message of the mailbox read whole
// and matched against the query directly, with no index.
#pragma once

#include <string>
#include <vector>

#include "mail/mail_store.h"
#include "mail/search_query.h"

namespace penncloud::mail::testing {

// Whether `meta` (with its source) satisfies every condition of `query`.
bool OracleMatches(const SearchQuery& query, const pb::MessageMeta& meta,
                   const std::string& source);

// The ids of every message of `user` that matches, newest first (each once).
std::vector<std::string> OracleSearch(MailStore& store, std::string_view user,
                                      const SearchQuery& query);

}  // namespace penncloud::mail::testing
