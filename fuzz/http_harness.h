// What the HTTP fuzz targets share: a frontend's routes (accounts, mail, drive, WebDAV) over
// an in-memory store holding one user with a file, a folder and a message, and a driver that
// takes raw request bytes through Beast's parser exactly as frontend/server.cc does, calls
// the route, drains a streamed body, and checks the response:
// - the status is a real one (100..599), never 500 for anything the client sent;
// - no header name or value holds CR, LF or NUL (response splitting);
// - a JSON body parses as JSON;
// - a streamed body is exactly as long as its Content-Length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace penncloud::fuzz {

struct HttpFuzzOptions {
  // Every request carries alice's Basic credentials, and a path outside /dav is moved under
  // it: the WebDAV target's mode, so inputs spend their bytes past authentication.
  bool webdav = false;
};

// The first input byte chooses the credentials the harness adds (bit 0: session cookie,
// bit 1: X-CSRF-Token, bit 2: Basic); the rest is the request. "@ID" in the request is
// replaced by the id of alice's message, so mail routes with ids are reachable.
void RunHttpInput(const uint8_t* data, size_t size, const HttpFuzzOptions& options);

}  // namespace penncloud::fuzz
