// Keyline's object identifiers. Keyline has no IANA enterprise number (registering one is the
// clean fix), so its arc is a UUID arc under 2.25 (ITU-T X.667): 2.25.121543564. The UUID
// was drawn at random below 2^27 (its top 101 bits zero), because common X.509 parsers refuse large
// arcs: python-cryptography 38's Rust parser reads at most 28 bits an arc, Go's encoding/asn1 at
// most 63; a full 128-bit UUID arc made attestation certificates unreadable to them.
//
//   <arc>.1.1  certificate policy: attestation only (never runtime authentication)
//   <arc>.2.1  extended key usage: Keyline attestation (and no clientAuth, so TLS refuses it)
//   <arc>.2.2  extended key usage: Keyline audit checkpoint signing
//   <arc>.3.1  extension: hardware model (UTF8String), recorded in attestation certificates
#pragma once

namespace keyline::ca {

inline constexpr char kKeylineArc[] = "2.25.121543564";
inline constexpr char kAttestationPolicyOid[] = "2.25.121543564.1.1";
inline constexpr char kAttestationKeyUsageOid[] = "2.25.121543564.2.1";
inline constexpr char kAuditSigningKeyUsageOid[] = "2.25.121543564.2.2";
inline constexpr char kHardwareModelOid[] = "2.25.121543564.3.1";

// NIDs for the OIDs above, registered with OpenSSL on first use (thread-safe).
int AttestationPolicyNid();
int AttestationKeyUsageNid();
int AuditSigningKeyUsageNid();
int HardwareModelNid();

}  // namespace keyline::ca
