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
#include "store/connection_pool.h"

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

// Issues the bootstrap admin credential unless its files exist or, with `reissue` false, the
// admin it names was issued before. An operator who moved the admin key off the server (as one
// should) and runs init again to add a CA must not find a fresh admin key on the server's disk:
// init then only says the credential is kept elsewhere. `reissue` (init --reissue-admin) is for
// when every admin credential is lost; the old certificate stays valid until revoked.
[[nodiscard]] absl::Status EnsureBootstrapAdmin(const Config& config, const CaSet& cas,
                                                provisioning::CertificateIssuance& issuance,
                                                store::ConnectionPool& pool, bool reissue);

}  // namespace keyline::server
