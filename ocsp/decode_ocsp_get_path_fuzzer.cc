// libFuzzer target for DecodeOcspGetPath, the decoder of every OCSP GET path.
// Beyond "no crash, no UB": a decoded request is never longer than 3/4 of its base64 text,
// re-encoding it gives back the input once escapes and padding are normalised, and the decoded
// bytes go through ParseOcspRequest as the HTTP layer would send them.
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ocsp/http_path.h"
#include "ocsp/ocsp_request.h"

namespace {

std::string Normalise(std::string_view encoded) {
  std::string text;
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size()) {
      text.push_back(static_cast<char>(std::stoi(std::string(encoded.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      text.push_back(encoded[i]);
    }
  }
  while (!text.empty() && text.back() == '=') text.pop_back();
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto decoded = keyline::ocsp::DecodeOcspGetPath(input);
  if (!decoded.ok()) return 0;
  if (decoded->size() > size / 4 * 3 + 2) __builtin_trap();

  // Standard base64 of the result, without padding, equals the input's base64 text unless the
  // input had non-zero bits in its last character (tolerated, like most decoders).
  std::string encoded(4 * ((decoded->size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                     reinterpret_cast<const unsigned char*>(decoded->data()),
                                     static_cast<int>(decoded->size()));
  encoded.resize(static_cast<size_t>(length));
  while (!encoded.empty() && encoded.back() == '=') encoded.pop_back();
  const std::string text = Normalise(input);
  if (encoded.size() != text.size() || encoded.substr(0, encoded.size() - 1) !=
                                           text.substr(0, text.size() - 1)) {
    __builtin_trap();
  }
  (void)keyline::ocsp::ParseOcspRequest(*decoded);
  return 0;
}
