// The file credentials init writes under the state directory:
//   tls/server.key, tls/server.crt (leaf + operator CA), tls/ca.crt (root) — keyline-server's
//     TLS identity, issued by the operator CA;
//   admin/<name>.key, admin/<name>.crt, admin/ca.crt — the bootstrap admin credential for
//     keylinectl, in a directory only its owner can enter.
// Private keys are written with mode 0600. Each certificate is stored with its audit event.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "provisioning/certificate_issuance.h"
#include "server/ca_hierarchy.h"
#include "server/config.h"

namespace keyline::server {

struct CredentialFiles {
  std::string key;          // PEM private key, 0600
  std::string certificate;  // PEM leaf followed by its issuing CA
  std::string ca;           // PEM root: the trust anchor for the other side
};

CredentialFiles ServerTlsFiles(const Config& config);
CredentialFiles BootstrapAdminFiles(const Config& config);

// (Re)issues the server certificate when it is missing or expires within 30 days.
[[nodiscard]] absl::Status EnsureServerTlsCertificate(const Config& config, const CaSet& cas,
                                                      provisioning::CertificateIssuance& issuance);

// Issues the bootstrap admin credential unless its certificate file exists.
[[nodiscard]] absl::Status EnsureBootstrapAdmin(const Config& config, const CaSet& cas,
                                                provisioning::CertificateIssuance& issuance);

}  // namespace keyline::server
