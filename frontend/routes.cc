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

void BuildRoutes(Router& router, const ApiContext& ctx, const http::StaticOptions& static_options) {
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
  http::RegisterStaticRoutes(router, static_options);
}

}  // namespace penncloud::frontend
