#include "store/sql_text.h"

#include "absl/strings/str_cat.h"
#include "common/hex.h"

namespace keyline::store {

std::vector<const char*> SqlParams::Pointers() const {
  std::vector<const char*> pointers;
  pointers.reserve(values_.size());
  for (const std::optional<std::string>& value : values_) {
    pointers.push_back(value ? value->c_str() : nullptr);
  }
  return pointers;
}

std::string ByteaParam(std::string_view bytes) {
  std::string text;
  text.reserve(2 + 2 * bytes.size());
  text += "\\x";
  text += HexEncode(bytes);
  return text;
}

namespace {

void AppendQuotedElement(std::string_view element, std::string& text) {
  text += '"';
  for (const char c : element) {
    if (c == '"' || c == '\\') text += '\\';
    text += c;
  }
  text += '"';
}

}  // namespace

std::string TextArrayParam(const std::vector<std::string_view>& elements) {
  std::string text = "{";
  for (size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) text += ',';
    AppendQuotedElement(elements[i], text);
  }
  text += '}';
  return text;
}

std::string NullableTextArrayParam(const std::vector<std::optional<std::string_view>>& elements) {
  std::string text = "{";
  for (size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) text += ',';
    if (elements[i]) {
      AppendQuotedElement(*elements[i], text);
    } else {
      text += "NULL";
    }
  }
  text += '}';
  return text;
}

std::string ByteaArrayParam(const std::vector<std::string_view>& elements) {
  std::string text = "{";
  for (size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) text += ',';
    // Inside a quoted array element a backslash is written twice.
    text += "\"\\\\x";
    text += HexEncode(elements[i]);
    text += '"';
  }
  text += '}';
  return text;
}

std::string ValuesPlaceholders(size_t rows, const std::vector<std::string_view>& casts,
                               size_t first_param) {
  std::string sql;
  sql.reserve(rows * casts.size() * 10);
  size_t param = first_param;
  for (size_t row = 0; row < rows; ++row) {
    sql += row == 0 ? "(" : ",(";
    for (size_t column = 0; column < casts.size(); ++column) {
      if (column > 0) sql += ',';
      absl::StrAppend(&sql, "$", param++);
      sql.append(casts[column]);
    }
    sql += ')';
  }
  return sql;
}

}  // namespace keyline::store
