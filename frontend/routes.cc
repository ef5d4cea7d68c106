#include "frontend/routes.h"

#include "frontend/account_settings_api.h"
#include "frontend/accounts_api.h"
#ifdef PENNCLOUD_HAVE_MAIL_API
#include "frontend/mail_api.h"
#endif
#ifdef PENNCLOUD_HAVE_DRIVE_API
#include "frontend/drive_api.h"
#endif
#ifdef PENNCLOUD_HAVE_WEBDAV
#include "frontend/webdav.h"
#endif

namespace penncloud::frontend {

void BuildRoutes(Router& router, const ApiContext& ctx, const StaticOptions& static_options) {
  RegisterAccountRoutes(router, ctx);
  RegisterAccountSettingsRoutes(router, ctx);
#ifdef PENNCLOUD_HAVE_MAIL_API
  RegisterMailRoutes(router, ctx);
#endif
#ifdef PENNCLOUD_HAVE_DRIVE_API
  RegisterDriveRoutes(router, ctx);
#endif
#ifdef PENNCLOUD_HAVE_WEBDAV
  RegisterWebDavRoutes(router, ctx);
#endif
  RegisterStaticRoutes(router, static_options);
}

}  // namespace penncloud::frontend
