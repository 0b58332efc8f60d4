#include "server/credentials.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ca/certificate_der.h"
#include "ca/profiles.h"
#include "ca/software_key.h"
#include "common/files.h"
#include "common/hex.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "store/operator_lookup.h"

namespace keyline::server {
namespace {

constexpr absl::Duration kRenewServerCertificateBefore = absl::Hours(24 * 30);

absl::Status WriteCredential(const CredentialFiles& files, EVP_PKEY* key,
                             const provisioning::IssuedCertificate& issued) {
  KEYLINE_ASSIGN_OR_RETURN(const std::string key_pem, ca::PrivateKeyToPem(key));
  std::string chain_pem = ca::DerToPem(issued.der);
  const auto& chain = issued.issuer->chain_der();
  // Leaf and intermediates; the root is the peer's trust anchor and travels separately.
  for (size_t i = 0; i + 1 < chain.size(); ++i) chain_pem += ca::DerToPem(chain[i]);
  KEYLINE_RETURN_IF_ERROR(WriteFileAtomically(files.key, key_pem, 0600));
  KEYLINE_RETURN_IF_ERROR(WriteFileAtomically(files.certificate, chain_pem, 0644));
  return WriteFileAtomically(files.ca, ca::DerToPem(chain.back()), 0644);
}

absl::StatusOr<provisioning::IssuedCertificate> Issue(
    provisioning::CertificateIssuance& issuance, const ca::IssuingCa& issuer, EVP_PKEY* key,
    std::function<ca::CertificateTemplate(const ca::IssueContext&)> make_template,
    std::string subject, std::optional<store::OperatorRecord> operator_record,
    std::string action) {
  auto job = std::make_shared<provisioning::IssuanceJob>();
  job->issuer = &issuer;
  KEYLINE_ASSIGN_OR_RETURN(job->subject_key, ca::PublicKeyInfo::FromKey(key));
  job->make_template = std::move(make_template);
  job->subject = std::move(subject);
  job->operator_record = std::move(operator_record);
  job->audit.actor = "system:init";
  job->audit.action = std::move(action);
  return issuance.IssueAndWait(std::move(job));
}

}  // namespace

CredentialFiles ServerTlsFiles(const Config& config) {
  const std::string dir = config.tls_dir();
  return {dir + "/server.key", dir + "/server.crt", dir + "/ca.crt"};
}

CredentialFiles BootstrapAdminFiles(const Config& config) {
  const std::string dir = config.admin_dir();
  const std::string& name = config.ca.bootstrap_admin;
  return {absl::StrCat(dir, "/", name, ".key"), absl::StrCat(dir, "/", name, ".crt"),
          dir + "/ca.crt"};
}

absl::Status EnsureServerTlsCertificate(const Config& config, const CaSet& cas,
                                        provisioning::CertificateIssuance& issuance) {
  const CredentialFiles files = ServerTlsFiles(config);
  if (FileExists(files.certificate) && FileExists(files.key)) {
    KEYLINE_ASSIGN_OR_RETURN(const std::string pem, ReadFile(files.certificate));
    KEYLINE_ASSIGN_OR_RETURN(const auto chain, ca::PemToDerChain(pem));
    KEYLINE_ASSIGN_OR_RETURN(const auto leaf, ca::ParseCertificateDer(chain.front()));
    if (ca::NotAfterOf(leaf.get()) - absl::Now() > kRenewServerCertificateBefore) {
      return absl::OkStatus();
    }
  }
  KEYLINE_RETURN_IF_ERROR(MakeDirectories(config.tls_dir(), 0700));
  KEYLINE_ASSIGN_OR_RETURN(EvpPkeyPtr key, ca::GenerateSoftwareKey(ca::SoftwareKeyType::kEcP256));
  const auto names = config.grpc.server_names;
  const auto ips = config.grpc.server_ips;
  KEYLINE_ASSIGN_OR_RETURN(
      const auto issued,
      Issue(issuance, *cas.operator_ca, key.get(),
            [names, ips](const ca::IssueContext& context) {
              return ca::ServerTemplate(context, names, ips);
            },
            names.empty() ? "keyline-server" : names.front(), std::nullopt,
            "server.certificate.issued"));
  KEYLINE_RETURN_IF_ERROR(WriteCredential(files, key.get(), issued));
  LogEvent(spdlog::level::info, "server.certificate.issued",
           {{"serial", HexEncode(issued.serial)}, {"path", files.certificate}});
  return absl::OkStatus();
}

absl::Status EnsureBootstrapAdmin(const Config& config, const CaSet& cas,
                                  provisioning::CertificateIssuance& issuance,
                                  store::ConnectionPool& pool, bool reissue) {
  const CredentialFiles files = BootstrapAdminFiles(config);
  if (FileExists(files.certificate) && FileExists(files.key)) return absl::OkStatus();
  const std::string name = config.ca.bootstrap_admin;
  KEYLINE_ASSIGN_OR_RETURN(const bool issued_before, store::OperatorExists(pool, "admin", name));
  if (issued_before && !reissue) {
    LogEvent(spdlog::level::warn, "admin.bootstrap.kept_elsewhere",
             {{"admin", name},
              {"path", files.certificate},
              {"note",
               "issued before and not in the state directory: no new admin credential; "
               "init --reissue-admin issues one if every admin credential is lost"}});
    return absl::OkStatus();
  }
  KEYLINE_RETURN_IF_ERROR(MakeDirectories(config.admin_dir(), 0700));
  KEYLINE_ASSIGN_OR_RETURN(EvpPkeyPtr key, ca::GenerateSoftwareKey(ca::SoftwareKeyType::kEcP256));
  KEYLINE_ASSIGN_OR_RETURN(
      const auto issued,
      Issue(issuance, *cas.operator_ca, key.get(),
            [name](const ca::IssueContext& context) {
              return ca::OperatorTemplate(context, ca::OperatorRole::kAdmin, name);
            },
            ca::OperatorUri(ca::OperatorRole::kAdmin, name),
            store::OperatorRecord{"admin", name, "system:init"}, "operator.certificate.issued"));
  KEYLINE_RETURN_IF_ERROR(WriteCredential(files, key.get(), issued));
  LogEvent(spdlog::level::info, "admin.bootstrap.issued",
           {{"serial", HexEncode(issued.serial)}, {"path", files.certificate}});
  return absl::OkStatus();
}

}  // namespace keyline::server
