#include "server/init_command.h"

#include "common/logging.h"
#include "common/status_macros.h"
#include "provisioning/certificate_issuance.h"
#include "server/audit_signer.h"
#include "server/ca_hierarchy.h"
#include "server/credentials.h"
#include "server/hosted_manufacturers.h"
#include "server/hsm_setup.h"
#include "store/ca_repository.h"
#include "store/connection_pool.h"
#include "store/issuance_writer.h"
#include "store/manufacturer_repository.h"
#include "store/migrator.h"

namespace keyline::server {

absl::Status RunMigrate(const Config& config) {
  if (config.database.migration_url.empty()) {
    return absl::InvalidArgumentError("database.migration_url: required to migrate");
  }
  KEYLINE_ASSIGN_OR_RETURN(const auto applied, store::ApplyMigrations(config.database.migration_url));
  LogEvent(spdlog::level::info, "database.migrated", {{"applied", applied.size()}});
  return absl::OkStatus();
}

absl::Status RunInit(const Config& config, const InitOptions& options) {
  KEYLINE_RETURN_IF_ERROR(PrepareBundledSoftHsm(config));
  KEYLINE_RETURN_IF_ERROR(EnsureBundledToken(config));
  KEYLINE_ASSIGN_OR_RETURN(auto token, OpenToken(config));
  KEYLINE_RETURN_IF_ERROR(RunMigrate(config));

  store::ConnectionPoolOptions pool_options;
  pool_options.database_url = config.database.url;
  pool_options.size = 2;
  KEYLINE_ASSIGN_OR_RETURN(auto pool, store::ConnectionPool::Create(pool_options));
  store::CaRepository repository(*pool);
  KEYLINE_RETURN_IF_ERROR(EnsureCaHierarchy(config, *token, repository));
  KEYLINE_ASSIGN_OR_RETURN(const CaSet cas, LoadCaSet(*token, repository));
  store::ManufacturerRepository manufacturers(*pool);
  KEYLINE_RETURN_IF_ERROR(EnsureHostedManufacturers(cas, manufacturers));
  store::CertificateRepository certificates(*pool);
  KEYLINE_RETURN_IF_ERROR(EnsureAuditSigner(config, *token, cas, certificates));

  store::IssuanceWriterOptions writer_options;
  writer_options.database_url = config.database.url;
  KEYLINE_ASSIGN_OR_RETURN(auto writer, store::IssuanceWriter::Start(writer_options));
  provisioning::CertificateIssuance issuance(config.profiles, *writer);
  KEYLINE_RETURN_IF_ERROR(EnsureServerTlsCertificate(config, cas, issuance));
  KEYLINE_RETURN_IF_ERROR(
      EnsureBootstrapAdmin(config, cas, issuance, *pool, options.reissue_admin));
  LogEvent(spdlog::level::info, "init.done",
           {{"state_dir", config.StatePath(".")},
            {"admin_certificate", BootstrapAdminFiles(config).certificate}});
  return absl::OkStatus();
}

}  // namespace keyline::server
