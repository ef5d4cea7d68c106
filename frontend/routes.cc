#include "frontend/routes.h"

#include "frontend/account_settings_api.h"
#include "frontend/accounts_api.h"
#include "frontend/drive_api.h"
#include "frontend/events_api.h"
#include "frontend/mail_api.h"
#include "frontend/mail_delivery_api.h"
#include "frontend/mail_drive_api.h"
#include "frontend/mail_search_api.h"
#include "frontend/mail_threads_api.h"
#include "frontend/password_reset_api.h"
#include "frontend/preview_api.h"
#include "frontend/share_api.h"
#include "frontend/tus_api.h"
#include "frontend/webdav.h"

namespace penncloud::frontend {

http::StaticSite WebAppSite(const std::string& web_root, const std::string& assets_root) {
  return {.pages_root = web_root,
          .hidden_pages = {"admin"},
          .folders = {
              {.prefix = "/static", .root = web_root + "/static"},
              {.prefix = "/assets", .root = assets_root, .cache_control = "public, max-age=86400"},
              // The drive page's type icons: Debian's bootstrap-icons, one SVG per icon.
              {.prefix = "/icons",
               .root = "/usr/share/bootstrap-icons/svg",
               .cache_control = "public, max-age=86400"}}};
}

void BuildRoutes(Router& router, const ApiContext& ctx, const http::StaticSite& site) {
  RegisterAccountRoutes(router, ctx);
  RegisterAccountSettingsRoutes(router, ctx);
  RegisterPasswordResetRoutes(router, ctx);
  RegisterMailSearchRoutes(router, ctx);  // before /api/mail/{id} takes their paths
  RegisterMailThreadsRoutes(router, ctx);
  RegisterMailRoutes(router, ctx);
  RegisterMailDriveRoutes(router, ctx);
  RegisterMailDeliveryRoutes(router, ctx);
  RegisterEventRoutes(router, ctx);
  RegisterDriveRoutes(router, ctx);
  RegisterTusRoutes(router, ctx);
  RegisterPreviewRoutes(router, ctx);
  RegisterShareRoutes(router, ctx);
  RegisterWebDavRoutes(router, ctx);
  router.Add("GET", "/healthz",
             [](Request&) {
               Response res;
               res.headers.Set("Content-Type", "text/plain");
               res.body = "ok\n";
               return res;
             },
             {.stream_body = false, .max_body = 0, .nonblocking = true});
  http::RegisterStaticRoutes(router, site);
}

}  // namespace penncloud::frontend
