// WebDAV (RFC 4918, class 2: locks, plus COPY and MOVE) at /dav/, over the same drive as the JSON
// API, so rclone, davfs2, cadaver and desktop file managers can use it. Clients log in with
// HTTP Basic and the account password. Verified logins are cached, since every WebDAV
// request carries them and password hashing is deliberately slow; an entry serves only
// while the account's stored password hash is unchanged, so a new password ends the old
// one at once on every frontend.
//
//   OPTIONS, GET/HEAD (Range, ETag), PUT (streamed, If-Match / If-None-Match), DELETE,
//   MKCOL, COPY / MOVE (Destination, Overwrite, Depth 0 for a shallow folder copy),
//   PROPFIND (Depth 0, 1, or infinity up to 10,000 resources, else 403 with
//   DAV:propfind-finite-depth; allprop, prop, propname; RFC 4331 quota properties on
//   folders), PROPPATCH (dead properties), LOCK / UNLOCK (exclusive and shared write locks,
//   Depth 0 or infinity, Timeout, refresh; kept in the KVS by drive::LockTable so every
//   frontend sees them). PUT, DELETE, MKCOL, COPY, MOVE and PROPPATCH honour the If header
//   (412) and answer 423 when a lock covers what they change and its token was not given.
#pragma once

#include "frontend/api_context.h"

namespace penncloud::frontend {

void RegisterWebDavRoutes(Router& router, const ApiContext& ctx);

}  // namespace penncloud::frontend
