#include "store/composed_statement.h"

#include <cctype>
#include <pqxx/prepared_statement>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"

namespace keyline::store {

std::string RenumberParams(std::string_view sql, size_t offset) {
  std::string out;
  out.reserve(sql.size() + 8);
  char quote = 0;  // the quote character of the literal or identifier we are in, or 0
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: same result
      out += c;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += c;
      continue;
    }
    if (c == '$' && i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      size_t end = i + 1;
      size_t number = 0;
      while (end < sql.size() && std::isdigit(static_cast<unsigned char>(sql[end]))) {
        number = number * 10 + static_cast<size_t>(sql[end] - '0');
        ++end;
      }
      absl::StrAppend(&out, "$", number + offset);
      i = end - 1;
      continue;
    }
    out += c;
  }
  return out;
}

void ComposedStatement::With(std::string_view name, std::string_view body,
                             std::vector<std::string> params) {
  clauses_.push_back(
      absl::StrCat(AsAbsl(name), " AS (", RenumberParams(body, params_.size()), ")"));
  names_.emplace_back(name);
  for (std::string& param : params) params_.Add(std::move(param));
}

std::string ComposedStatement::Sql(std::string_view final_select) const {
  if (clauses_.empty()) return std::string(final_select);
  return absl::StrCat("WITH ", absl::StrJoin(clauses_, ", "), " ", AsAbsl(final_select));
}

std::string ComposedStatement::Name(std::string_view prefix) const {
  return absl::StrCat(AsAbsl(prefix), ":", absl::StrJoin(names_, ","));
}

pqxx::result ComposedStatement::Execute(pqxx::transaction_base& transaction,
                                        std::string_view prefix,
                                        std::string_view final_select) const {
  const std::string name = Name(prefix);
  transaction.conn().prepare(name, Sql(final_select));
  return transaction.exec_prepared(name, pqxx::prepare::make_dynamic_params(params_.Pointers()));
}

}  // namespace keyline::store
