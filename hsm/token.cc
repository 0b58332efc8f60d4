#include "hsm/token.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "hsm/pkcs11_module.h"
#include "hsm/pkcs11_session.h"
#include "hsm/pkcs11_status.h"
#include "hsm/pkcs11_token.h"

namespace keyline::hsm {
namespace {

// CK_TOKEN_INFO labels are exactly this long, padded with spaces.
constexpr size_t kLabelLength = sizeof(CK_TOKEN_INFO::label);

CK_UTF8CHAR* Utf8(const std::string& text) {
  return reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(text.data()));
}

absl::StatusOr<CK_TOKEN_INFO> TokenInfo(CK_FUNCTION_LIST* functions, CK_SLOT_ID slot) {
  CK_TOKEN_INFO info{};
  const CK_RV rv = functions->C_GetTokenInfo(slot, &info);
  if (rv != CKR_OK) return Pkcs11Status(rv, "C_GetTokenInfo");
  return info;
}

// Sets the user PIN of the freshly initialised token in `slot` as its security officer.
absl::Status SetUserPin(CK_FUNCTION_LIST* functions, CK_SLOT_ID slot, const std::string& so_pin,
                        const std::string& user_pin) {
  absl::StatusOr<Pkcs11Session> session = Pkcs11Session::Open(functions, slot, true);
  if (!session.ok()) return session.status();
  CK_RV rv = functions->C_Login(session->handle(), CKU_SO, Utf8(so_pin), so_pin.size());
  if (rv != CKR_OK) return Pkcs11Status(rv, "C_Login as security officer");
  rv = functions->C_InitPIN(session->handle(), Utf8(user_pin), user_pin.size());
  // Log the officer out whatever happened: the session closes anyway, but another session of the
  // process on this token would otherwise stay an officer's.
  const CK_RV logout = functions->C_Logout(session->handle());
  if (rv != CKR_OK) return Pkcs11Status(rv, "C_InitPIN");
  return Pkcs11Status(logout, "C_Logout");
}

}  // namespace

absl::Status Token::InitializeToken(const std::string& module_path, const std::string& token_label,
                                    const std::string& so_pin, const std::string& user_pin) {
  if (token_label.empty() || token_label.size() > kLabelLength) {
    return absl::InvalidArgumentError("token_label: must be 1 to 32 bytes");
  }
  if (so_pin.empty()) return absl::InvalidArgumentError("so_pin: empty");
  if (user_pin.empty()) return absl::InvalidArgumentError("user_pin: empty");
  absl::StatusOr<std::shared_ptr<Pkcs11Module>> module = Pkcs11Module::Load(module_path);
  if (!module.ok()) return module.status();
  CK_FUNCTION_LIST* functions = (*module)->functions();

  absl::MutexLock lock(&(*module)->token_initialization_mutex());
  absl::StatusOr<CK_SLOT_ID> existing = (*module)->FindTokenSlot(token_label);
  if (existing.ok()) {
    absl::StatusOr<CK_TOKEN_INFO> info = TokenInfo(functions, *existing);
    if (!info.ok()) return info.status();
    if ((info->flags & CKF_USER_PIN_INITIALIZED) != 0) {
      return absl::AlreadyExistsError(
          absl::StrCat("token \"", token_label, "\": a token with this label exists"));
    }
    // Initialised, but the call that did it stopped before the user PIN (a crash, or a PIN the
    // token refused): without this the token could never be logged in to, nor made again.
    absl::Status status = SetUserPin(functions, *existing, so_pin, user_pin);
    if (!status.ok()) {
      return absl::Status(status.code(), absl::StrCat("token \"", token_label,
                                                      "\" (no user PIN yet): ", status.message()));
    }
    return absl::OkStatus();
  }
  if (existing.status().code() != absl::StatusCode::kNotFound) return existing.status();
  absl::StatusOr<CK_SLOT_ID> free_slot = (*module)->FindUninitializedSlot();
  if (!free_slot.ok()) return free_slot.status();
  // PIN lengths the token takes, checked before C_InitToken, so that a refused user PIN does not
  // leave a token behind without one.
  absl::StatusOr<CK_TOKEN_INFO> free_info = TokenInfo(functions, *free_slot);
  if (!free_info.ok()) return free_info.status();
  for (const auto& [name, pin] : {std::pair{"so_pin", &so_pin}, std::pair{"user_pin", &user_pin}}) {
    if (pin->size() < free_info->ulMinPinLen || pin->size() > free_info->ulMaxPinLen) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": ", pin->size(), " bytes; the token takes ", free_info->ulMinPinLen,
                       " to ", free_info->ulMaxPinLen));
    }
  }
  CK_UTF8CHAR label[kLabelLength];
  std::memset(label, ' ', sizeof(label));
  std::memcpy(label, token_label.data(), token_label.size());
  CK_RV rv = functions->C_InitToken(*free_slot, Utf8(so_pin), so_pin.size(), label);
  if (rv != CKR_OK) return Pkcs11Status(rv, absl::StrCat("C_InitToken \"", token_label, "\""));

  // SoftHSM2 moves the new token to a new slot id, so look it up again.
  absl::StatusOr<CK_SLOT_ID> slot = (*module)->FindTokenSlot(token_label);
  if (!slot.ok()) {
    return absl::InternalError(
        absl::StrCat("token \"", token_label, "\": initialised but not found afterwards"));
  }
  absl::Status status = SetUserPin(functions, *slot, so_pin, user_pin);
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("token \"", token_label, "\": ", status.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Token>> Token::Open(const TokenConfig& config) {
  absl::StatusOr<std::unique_ptr<Pkcs11Token>> token = Pkcs11Token::Open(config);
  if (!token.ok()) return token.status();
  return std::unique_ptr<Token>(*std::move(token));
}

}  // namespace keyline::hsm
