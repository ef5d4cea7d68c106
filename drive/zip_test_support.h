// Reads back a zip archive for the tests of zip downloads (drive/zip_test.cc and the share
// API's multi-item zips), with a second implementation (libarchive) rather than our writer.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <clocale>
#include <map>
#include <string>

namespace penncloud::drive {

// name -> contents ("/" suffix for folders), read back by the central directory (stored
// entries with data descriptors have no length in their local headers).
inline std::map<std::string, std::string> Unzip(const std::string& bytes) {
  std::map<std::string, std::string> files;
  // The reader converts names to the locale's charset; the C locale cannot hold "é".
  setlocale(LC_CTYPE, "C.UTF-8");
  archive* a = archive_read_new();
  archive_read_support_format_zip_seekable(a);
  EXPECT_EQ(archive_read_open_memory(a, bytes.data(), bytes.size()), ARCHIVE_OK);
  archive_entry* entry;
  // ARCHIVE_WARN: a UTF-8 name the C locale cannot convert; the raw name is still there.
  for (int r; (r = archive_read_next_header(a, &entry)) == ARCHIVE_OK || r == ARCHIVE_WARN;) {
    std::string content;
    char buf[4096];
    for (la_ssize_t n; (n = archive_read_data(a, buf, sizeof buf)) > 0;) content.append(buf, n);
    const char* name = archive_entry_pathname_utf8(entry);
    files[name != nullptr ? name : "?"] = content;
  }
  archive_read_free(a);
  return files;
}

}  // namespace penncloud::drive
