// GET /api/events: Server-Sent Events for the signed-in user.
//
//   event: ready            once, when the stream is live
//   event: mail             data {"folders":[names]}: those folders of the user changed,
//                           whoever changed them (delivery, IMAP, POP3, another tab or frontend)
//   ": keep-alive" comments every 2 s, so no proxy or browser times the stream out, and a
//                           stream whose client left fails its next write and frees its place
//
// A stream waits on its user's mailbox through this frontend's MailboxWatch (one KVS watch
// per user with open streams, mail/mailbox_watch.h), and reads the folder change numbers
// (the "box/" cells of the mailbox row) only when the watch reports a change, or every
// kEventFallback as a slow poll; between calls it holds no worker thread
// (Response::stream_poll, a look at memory). A change is announced again 500 ms later,
// because a folder's number moves before the entry it numbers is written, so a
// browser that lists at the first event may not see the message yet. Bounds:
// kMaxEventStreamsPerUser and kMaxEventStreams on each frontend (429 beyond). A stream
// re-reads its session every second and ends once the session is gone (logout, password
// change, ended from another device); it also ends after kMaxEventStreamAge, and the
// browser's EventSource reconnects (through :8000, to any frontend) with a fresh session
// check.
#pragma once

#include <chrono>

#include "frontend/api_context.h"
#include "http/router.h"

namespace penncloud::frontend {

inline constexpr int kMaxEventStreamsPerUser = 8;
inline constexpr int kMaxEventStreams = 1024;
inline constexpr std::chrono::minutes kMaxEventStreamAge{10};
inline constexpr std::chrono::seconds kEventFallback{5};

void RegisterEventRoutes(Router& router, const ApiContext& ctx);

}  // namespace penncloud::frontend
