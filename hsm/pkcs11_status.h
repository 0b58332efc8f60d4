// Mapping of PKCS#11 return values (CKR_*) to absl::Status at the hsm/ boundary.
#pragma once

#include <string_view>

#include <p11-kit/pkcs11.h>

#include "absl/status/status.h"

namespace keyline::hsm {

// "CKR_SESSION_HANDLE_INVALID" etc.; "CKR_0x..." for values without a name.
std::string CkrName(CK_RV rv);

// OK for CKR_OK. Otherwise a status whose message is "<operation>: <CKR name>" and whose code is
// Unavailable for lost sessions/devices and other retryable conditions, PermissionDenied for
// PIN problems, NotFound for missing objects/tokens, InvalidArgument for bad arguments, and
// Internal for the rest.
absl::Status Pkcs11Status(CK_RV rv, std::string_view operation);

// True for the return values after which reopening sessions and logging in again can succeed:
// CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED, CKR_USER_NOT_LOGGED_IN, CKR_DEVICE_REMOVED,
// CKR_DEVICE_ERROR, CKR_TOKEN_NOT_PRESENT, CKR_OBJECT_HANDLE_INVALID, CKR_KEY_HANDLE_INVALID.
bool IsRecoverable(CK_RV rv);

}  // namespace keyline::hsm
