// What the search tests share: a mailbox over an in-memory store with a test clock, and
// a way to run a query through every page of its results.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"
#include "mail/mail_store.h"
#include "mail/search.h"
#include "mail/text.h"

namespace penncloud::mail::testing {

// 2026-01-01T00:00:00Z; every read of the clock moves it 1 ms on.
inline constexpr int64_t kStartMicros = 1'767'225'600'000'000;

inline std::string Mail(std::string_view from, std::string_view to, std::string_view subject,
                        std::string_view body, std::string_view extra_headers = "") {
  return Cat("From: ", from, "\r\nTo: ", to, "\r\nSubject: ", subject,
             "\r\nDate: Thu, 01 Jan 2026 10:00:00 +0000\r\n", extra_headers, "\r\n", body, "\r\n");
}

inline std::string WithAttachment(std::string_view subject, std::string_view filename) {
  return Cat("From: bob@example.com\r\nTo: alice@penncloud.local\r\nSubject: ", subject,
             "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
             "--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
             "--XX\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
             "filename=\"",
             filename, "\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--XX--\r\n");
}

// Every hit of `q`, through all pages of `page_size`; fails the test on a bad query.
inline std::vector<std::string> SearchIds(MailSearch& search, std::string_view user,
                                          std::string_view q, int page_size = 100) {
  std::vector<std::string> ids;
  auto query = ParseSearchQuery(q);
  EXPECT_TRUE(query.ok()) << q << ": " << query.status();
  if (!query.ok()) return ids;
  std::string cursor;
  for (int pages = 0; pages < 10000; ++pages) {
    auto page = search.Search(user, *query, cursor, page_size);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) return ids;
    for (const auto& m : page->messages) ids.push_back(m.id());
    if (page->next_cursor.empty()) return ids;
    cursor = page->next_cursor;
  }
  ADD_FAILURE() << "no last page";
  return ids;
}

}  // namespace penncloud::mail::testing
