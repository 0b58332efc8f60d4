// RAII owner of one PKCS#11 session handle: the session is closed when the owner goes away.
//
// Thread safety: a PKCS#11 session runs one operation at a time, so a session must be used by
// one thread at a time; the session pool enforces that.
#pragma once

#include <p11-kit/pkcs11.h>

#include "absl/status/statusor.h"

namespace keyline::hsm {

class Pkcs11Session {
 public:
  Pkcs11Session() = default;

  // Opens a serial session on `slot`, read-write when asked (creating token objects needs it).
  [[nodiscard]] static absl::StatusOr<Pkcs11Session> Open(CK_FUNCTION_LIST* functions,
                                                          CK_SLOT_ID slot, bool read_write);

  Pkcs11Session(Pkcs11Session&& other) noexcept;
  Pkcs11Session& operator=(Pkcs11Session&& other) noexcept;
  Pkcs11Session(const Pkcs11Session&) = delete;
  Pkcs11Session& operator=(const Pkcs11Session&) = delete;
  ~Pkcs11Session() { Reset(); }

  CK_SESSION_HANDLE handle() const { return handle_; }
  bool is_open() const { return handle_ != CK_INVALID_HANDLE; }

  // Closes the session now (C_CloseSession); errors are ignored, as there is nothing to undo.
  void Reset();

  // Forgets a handle the module already closed behind our back (C_CloseAllSessions, a removed
  // device) without closing it: modules reuse handle numbers, so the stale number may by now
  // name another owner's session.
  void Abandon() { handle_ = CK_INVALID_HANDLE; }

 private:
  Pkcs11Session(CK_FUNCTION_LIST* functions, CK_SESSION_HANDLE handle)
      : functions_(functions), handle_(handle) {}

  CK_FUNCTION_LIST* functions_ = nullptr;
  CK_SESSION_HANDLE handle_ = CK_INVALID_HANDLE;
};

}  // namespace keyline::hsm
