// Keyline's object identifiers. Keyline has no IANA enterprise number, so its arc is a UUID arc
// under 2.25 (ITU-T X.667): 2.25.94748008783974062424233816392706874616, generated once.
//
//   <arc>.1.1  certificate policy: attestation only (never runtime authentication)
//   <arc>.2.1  extended key usage: Keyline attestation (and no clientAuth, so TLS refuses it)
//   <arc>.2.2  extended key usage: Keyline audit checkpoint signing
//   <arc>.3.1  extension: hardware model (UTF8String), recorded in attestation certificates
#pragma once

namespace keyline::ca {

inline constexpr char kKeylineArc[] = "2.25.94748008783974062424233816392706874616";
inline constexpr char kAttestationPolicyOid[] = "2.25.94748008783974062424233816392706874616.1.1";
inline constexpr char kAttestationKeyUsageOid[] = "2.25.94748008783974062424233816392706874616.2.1";
inline constexpr char kAuditSigningKeyUsageOid[] = "2.25.94748008783974062424233816392706874616.2.2";
inline constexpr char kHardwareModelOid[] = "2.25.94748008783974062424233816392706874616.3.1";

// NIDs for the OIDs above, registered with OpenSSL on first use (thread-safe).
int AttestationPolicyNid();
int AttestationKeyUsageNid();
int AuditSigningKeyUsageNid();
int HardwareModelNid();

}  // namespace keyline::ca
