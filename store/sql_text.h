// Small helpers for statement text, parameters and fields (also COPY fields). Internal to store/.
#pragma once

#include <concepts>
#include <deque>
#include <optional>
#include <pqxx/result>
#include <string>
#include <string_view>
#include <vector>

namespace keyline::store {

// Text parameters of one statement, in order, any of them NULL. (libpqxx 6.4 as packaged has no
// std::optional support, so NULL travels as a null pointer.)
class SqlParams {
 public:
  void Add(std::string value) { values_.push_back(std::move(value)); }
  void Add(std::optional<std::string> value) {
    if (value) {
      Add(*std::move(value));
    } else {
      AddNull();
    }
  }
  void AddNull() { values_.push_back(std::nullopt); }
  size_t size() const { return values_.size(); }

  // For pqxx::prepare::make_dynamic_params; valid while this object is unchanged.
  std::vector<const char*> Pointers() const;

 private:
  std::deque<std::optional<std::string>> values_;  // a deque never moves its elements
};

// A nullable column.
template <typename T>
std::optional<T> NullableField(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<T>();
}

// A bytea parameter in PostgreSQL's text form: "\x" followed by lower-case hex.
std::string ByteaParam(std::string_view bytes);

// A text[] parameter in PostgreSQL's array literal form: every element double-quoted, with '"'
// and '\' escaped ({"a","b\"c"}). Elements must not contain NUL (the caller checks).
std::string TextArrayParam(const std::vector<std::string_view>& elements);

// As TextArrayParam, with NULL (unquoted) for nullopt: for any array type cast from its text form
// ($1::timestamptz[], $1::bytea[] with ByteaParam elements, ...).
std::string NullableTextArrayParam(const std::vector<std::optional<std::string_view>>& elements);

// A bytea[] parameter: {"\\x0102","\\x"} (each element ByteaParam's form, quoted).
std::string ByteaArrayParam(const std::vector<std::string_view>& elements);

// The two above for a vector of owned strings.
template <typename Strings>
requires std::same_as<Strings, std::vector<std::string>> std::string TextArrayParam(
    const Strings& elements) {
  return TextArrayParam(std::vector<std::string_view>(elements.begin(), elements.end()));
}
template <typename Strings>
requires std::same_as<Strings, std::vector<std::string>> std::string ByteaArrayParam(
    const Strings& elements) {
  return ByteaArrayParam(std::vector<std::string_view>(elements.begin(), elements.end()));
}

// "($1,$2,$3),($4,$5,$6)" for rows=2, columns=3, numbering from first_param (1-based). Each
// placeholder is written as "$n" followed by the cast in `casts[column]` when non-empty.
std::string ValuesPlaceholders(size_t rows, const std::vector<std::string_view>& casts,
                               size_t first_param = 1);

}  // namespace keyline::store
