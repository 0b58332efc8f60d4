// Finding Keyline's key objects on a token and reading what KeyInfo reports about them. The CK_RV
// functions run inside SessionPool::Run; the interpretation happens outside, once the session is
// back in the pool.
#pragma once

#include <p11-kit/pkcs11.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hsm/token.h"

namespace keyline::hsm {

// Token objects of `object_class` (CKO_PRIVATE_KEY, CKO_PUBLIC_KEY) with this CKA_LABEL and, when
// `id` is non-empty, this CKA_ID; an empty label matches every such object. At most `limit`.
// Session objects (a signing key's in-memory copy) are never returned.
CK_RV FindKeyObjects(CK_FUNCTION_LIST* functions, CK_SESSION_HANDLE session,
                     CK_OBJECT_CLASS object_class, const std::string& label, const std::string& id,
                     size_t limit, std::vector<CK_OBJECT_HANDLE>& found);

// A session object copied from token key `key`: only CKA_TOKEN changes, so the copy inherits
// CKA_SENSITIVE and CKA_EXTRACTABLE (SoftHSM2 refuses to have them restated,
// CKR_ATTRIBUTE_READ_ONLY, and they may only ever be tightened anyway).
//
// FindKeyObjects never sees a copy half-made: SoftHSM2 builds one attribute by attribute, the
// source's CKA_TOKEN (true) before the template's false, so a search in another session could
// meet it as a second token key under the same label and id (a CI run did: "its label and id now
// match several private keys"). Both take one process-wide lock, since session objects are
// visible to every session of the application, whichever pool opened it; searches and copies are
// rare (a copy per session per key), so nobody waits long.
CK_RV CopyKeyToSession(CK_FUNCTION_LIST* functions, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key,
                       CK_OBJECT_HANDLE& copy);

// What KeyInfo needs, as read from a private-key object.
struct PrivateKeyAttributes {
  std::string label;
  std::string id;
  std::string ec_params;  // empty for keys that are not EC
  CK_KEY_TYPE key_type = CKK_EC;
  CK_BBOOL sensitive = CK_FALSE;
  CK_BBOOL extractable = CK_TRUE;
  CK_BBOOL always_sensitive = CK_FALSE;
  CK_BBOOL never_extractable = CK_FALSE;
};

// Attributes the module does not report keep their (pessimistic) defaults above.
CK_RV ReadPrivateKeyAttributes(CK_FUNCTION_LIST* functions, CK_SESSION_HANDLE session,
                               CK_OBJECT_HANDLE key, PrivateKeyAttributes& attributes);

// FailedPrecondition for keys Keyline cannot use (not EC, or another curve).
[[nodiscard]] absl::StatusOr<KeyInfo> ToKeyInfo(const PrivateKeyAttributes& attributes);

}  // namespace keyline::hsm
