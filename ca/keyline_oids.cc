#include "ca/keyline_oids.h"

#include <openssl/objects.h>

namespace keyline::ca {
namespace {

// OBJ_create is not thread-safe against itself; a function-local static is initialised once.
struct Nids {
  int attestation_policy;
  int attestation_key_usage;
  int audit_signing_key_usage;
  int hardware_model;
};

int Register(const char* oid, const char* short_name, const char* long_name) {
  const int existing = OBJ_txt2nid(oid);
  if (existing != NID_undef) return existing;
  return OBJ_create(oid, short_name, long_name);
}

const Nids& GetNids() {
  static const Nids nids = {
      Register(kAttestationPolicyOid, "keylineAttestationPolicy", "Keyline attestation only"),
      Register(kAttestationKeyUsageOid, "keylineAttestation", "Keyline attestation"),
      Register(kAuditSigningKeyUsageOid, "keylineAuditSigning", "Keyline audit checkpoint signing"),
      Register(kHardwareModelOid, "keylineHardwareModel", "Keyline hardware model"),
  };
  return nids;
}

}  // namespace

int AttestationPolicyNid() { return GetNids().attestation_policy; }
int AttestationKeyUsageNid() { return GetNids().attestation_key_usage; }
int AuditSigningKeyUsageNid() { return GetNids().audit_signing_key_usage; }
int HardwareModelNid() { return GetNids().hardware_model; }

}  // namespace keyline::ca
