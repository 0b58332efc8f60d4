#include "hsm/pkcs11_session.h"

#include <utility>

#include "hsm/pkcs11_status.h"

namespace keyline::hsm {

absl::StatusOr<Pkcs11Session> Pkcs11Session::Open(CK_FUNCTION_LIST* functions, CK_SLOT_ID slot,
                                                  bool read_write) {
  CK_FLAGS flags = CKF_SERIAL_SESSION;
  if (read_write) flags |= CKF_RW_SESSION;
  CK_SESSION_HANDLE handle = CK_INVALID_HANDLE;
  const CK_RV rv = functions->C_OpenSession(slot, flags, nullptr, nullptr, &handle);
  if (rv != CKR_OK) return Pkcs11Status(rv, "C_OpenSession");
  return Pkcs11Session(functions, handle);
}

Pkcs11Session::Pkcs11Session(Pkcs11Session&& other) noexcept
    : functions_(other.functions_), handle_(std::exchange(other.handle_, CK_INVALID_HANDLE)) {}

Pkcs11Session& Pkcs11Session::operator=(Pkcs11Session&& other) noexcept {
  if (this != &other) {
    Reset();
    functions_ = other.functions_;
    handle_ = std::exchange(other.handle_, CK_INVALID_HANDLE);
  }
  return *this;
}

void Pkcs11Session::Reset() {
  if (handle_ == CK_INVALID_HANDLE) return;
  functions_->C_CloseSession(handle_);
  handle_ = CK_INVALID_HANDLE;
}

}  // namespace keyline::hsm
