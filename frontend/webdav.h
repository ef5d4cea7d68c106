// WebDAV (RFC 4918, class 1 plus COPY and MOVE) at /dav/, over the same drive as the JSON
// API, so rclone, davfs2, cadaver and desktop file managers can use it. Clients log in with
// HTTP Basic and the account password. Verified logins are cached, since every WebDAV
// request carries them and password hashing is deliberately slow; an entry serves only
// while the account's stored password hash is unchanged, so a new password ends the old
// one at once on every frontend.
//
//   OPTIONS, GET/HEAD (Range, ETag), PUT (streamed, If-Match / If-None-Match), DELETE,
//   MKCOL, COPY / MOVE (Destination, Overwrite, Depth 0 for a shallow folder copy),
//   PROPFIND (Depth 0 or 1; allprop, prop, propname), PROPPATCH (dead properties).
// No locking (LOCK/UNLOCK answer 405), as class 1 allows.
#pragma once

#include "frontend/api_context.h"

namespace penncloud::frontend {

void RegisterWebDavRoutes(Router& router, const ApiContext& ctx);

}  // namespace penncloud::frontend
