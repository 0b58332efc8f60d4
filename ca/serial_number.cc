#include "ca/serial_number.h"

#include <openssl/rand.h>

#include "common/openssl_error.h"

namespace keyline::ca {

absl::StatusOr<std::string> GenerateSerial() {
  std::string serial(kSerialBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(serial.data()), kSerialBytes) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "serial: CSPRNG failed");
  }
  serial[0] = static_cast<char>((static_cast<unsigned char>(serial[0]) & 0x7f) | 0x40);
  return serial;
}

Asn1IntegerPtr SerialToAsn1Integer(std::string_view serial) {
  BigNumPtr number(BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()),
                             static_cast<int>(serial.size()), nullptr));
  if (!number) return nullptr;
  return Asn1IntegerPtr(BN_to_ASN1_INTEGER(number.get(), nullptr));
}

std::string SerialOf(const X509* certificate) {
  const ASN1_INTEGER* integer = X509_get0_serialNumber(certificate);
  BigNumPtr number(ASN1_INTEGER_to_BN(integer, nullptr));
  if (!number || BN_is_negative(number.get()) || BN_is_zero(number.get())) return {};
  std::string serial(static_cast<size_t>(BN_num_bytes(number.get())), '\0');
  BN_bn2bin(number.get(), reinterpret_cast<unsigned char*>(serial.data()));
  return serial;
}

}  // namespace keyline::ca
