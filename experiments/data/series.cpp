// Forecasting data: the monthly sunspot numbers and a user's CSV column, with the checks that keep a
// ';'-separated file, ragged rows or a header mistaken for data out, and the summary that says which
// column was used.
#include <cmath>
#include <stdexcept>

#include "experiments/data/text.h"

namespace seqgrad::experiments::data {

using namespace detail;

namespace {

using Lines = std::vector<std::pair<int64_t, std::string_view>>;

constexpr int64_t kSunspotValues = 3177;

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  while (true) {
    const size_t comma = line.find(',');
    fields.push_back(line.substr(0, comma));
    if (comma == std::string_view::npos) return fields;
    line.remove_prefix(comma + 1);
  }
}

// "1 column", "3 columns".
std::string columns_text(size_t n) { return std::to_string(n) + (n == 1 ? " column" : " columns"); }

// A number written with a decimal comma: [+-]digits,digits.
bool has_decimal_comma(std::string_view field) {
  field = trim(field);
  if (!field.empty() && (field.front() == '+' || field.front() == '-')) field.remove_prefix(1);
  const size_t comma = field.find(',');
  if (comma == std::string_view::npos || comma == 0 || comma + 1 == field.size()) return false;
  for (size_t i = 0; i < field.size(); ++i)
    if (i != comma && (field[i] < '0' || field[i] > '9')) return false;
  return true;
}

// " (line N: '2,5')" for the first field with a decimal comma among lines separated by sep; "" if none.
std::string decimal_comma_example(const Lines& lines, char sep) {
  for (const auto& [line, text] : lines) {
    for (std::string_view rest = text;;) {
      const size_t at = rest.find(sep);
      if (has_decimal_comma(rest.substr(0, at)))
        return " (line " + std::to_string(line) + ": " + quote(trim(rest.substr(0, at))) + ")";
      if (at == std::string_view::npos) break;
      rest.remove_prefix(at + 1);
    }
  }
  return "";
}

// Throws at the first line with a ';' or a tab inside a field: another separator, whose decimal
// commas the ',' split would cut into a column of the digits after the comma.
void reject_other_separators(const fs::path& file, const Lines& lines) {
  for (const auto& [line, text] : lines)
    for (std::string_view field : split_fields(text)) {
      field = trim(field);
      const char sep = field.find(';') != std::string_view::npos    ? ';'
                       : field.find('\t') != std::string_view::npos ? '\t'
                                                                    : 0;
      if (sep == 0) continue;
      const std::string example = decimal_comma_example(lines, sep);
      fail(file, line,
           quote(text) + " has " + (sep == ';' ? "';'" : "a tab") + " between fields: looks like a " +
               (sep == ';' ? "';'-separated" : "tab-separated") + " file" +
               (example.empty() ? "" : " with decimal commas" + example) +
               "; convert it to ',' separated with '.' decimals");
    }
}

// Which column to read and whether line 1 is a header. Line 1 is a header when its field in that
// column is not written as a number; every line must have the column count of the first data line.
struct Layout {
  bool header = false;
  int64_t columns = 0, column = -1;
};
Layout layout_of(const fs::path& file, const Lines& lines, const std::vector<std::vector<std::string_view>>& rows,
                 int column) {
  Layout l;
  if (rows.empty()) return l;
  auto resolve = [column](size_t n) { return column < 0 ? int64_t(n) + column : int64_t(column); };
  for (size_t i = 0; i < rows.size() && i < 2; ++i) {
    const int64_t c = resolve(rows[i].size());
    if (c < 0 || c >= int64_t(rows[i].size()))
      fail(file, lines[i].first, "has " + columns_text(rows[i].size()) + ", no column " + std::to_string(column));
    if (i == 0) l.header = !read_number(rows[0][size_t(c)]);
  }
  const size_t ref = l.header && rows.size() > 1 ? 1 : 0;
  l.columns = int64_t(rows[ref].size());
  l.column = resolve(rows[ref].size());
  for (size_t i = 0; i < rows.size(); ++i)
    if (int64_t(rows[i].size()) != l.columns)
      fail(file, lines[i].first,
           columns_text(rows[i].size()) + ", expected " + std::to_string(l.columns) + " like line " +
               std::to_string(lines[ref].first));
  return l;
}

// The values of the chosen column, every one a finite number.
std::vector<double> column_values(const fs::path& file, const Lines& lines,
                                  const std::vector<std::vector<std::string_view>>& rows, const Layout& l) {
  std::vector<double> values;
  for (size_t i = l.header ? 1 : 0; i < rows.size(); ++i) {
    const std::string_view field = rows[i][size_t(l.column)];
    const std::optional<double> value = read_number(field);
    if (!value || !std::isfinite(*value))
      fail(file, lines[i].first, "value " + quote(field) + " is not a number" + (value ? " (must be finite)" : ""));
    values.push_back(*value);
  }
  return values;
}

// The sunspot CSV "year,month,value" into the year splits.
void parse_sunspots(std::string_view text, const fs::path& file, ForecastData& d) {
  const Lines lines = split_lines(text);
  if (lines.empty() || trim(lines[0].second) != "year,month,value")
    fail(file, 1, "expected the header year,month,value");
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto [line, row] = lines[i];
    const auto f = split_fields(row);
    if (f.size() != 3) fail(file, line, "expected year,month,value, found " + quote(row));
    const auto year = parse_int(f[0]);
    const auto month = parse_int(f[1]);
    const auto value = parse_number(f[2]);
    if (!year) fail(file, line, "year " + quote(f[0]) + " is not an integer");
    if (!month || *month < 1 || *month > 12) fail(file, line, "month " + quote(f[1]) + " is not in 1..12");
    if (!value) fail(file, line, "value " + quote(f[2]) + " is not a number");
    Series& s = *year <= 1950 ? d.train : (*year <= 1980 ? d.val : d.test);
    s.values.push_back(*value);
    s.year.push_back(*year);
    s.month.push_back(*month);
  }
  if (d.train.values.empty() || d.val.values.empty() || d.test.values.empty())
    fail(file, "needs values up to 1950, in 1951-1980 and after 1980");
}

// "1749-01 .. 1950-12" for a series with dates.
std::string date_range(const Series& s) {
  auto date = [&](size_t i) {
    return std::to_string(s.year[i]) + (s.month[i] < 10 ? "-0" : "-") + std::to_string(s.month[i]);
  };
  return s.year.empty() || s.year.size() != s.month.size() ? "-" : date(0) + " .. " + date(s.year.size() - 1);
}

}  // namespace

std::string ForecastData::summary() const {
  const size_t n = train.values.size() + val.values.size() + test.values.size();
  std::string s =
      printable(source) + ": column " + std::to_string(column) + " (0-based) of " + std::to_string(columns) +
      (column_name.empty() ? ", no header line" : ", " + quote(column_name) + " (header on line 1)") + "; " +
      with_commas(int64_t(n)) + " values (train " + with_commas(int64_t(train.values.size())) + ", validation " +
      with_commas(int64_t(val.values.size())) + ", test " + with_commas(int64_t(test.values.size())) + ")\n";
  if (!train.year.empty())
    s +=
        "  dates: train " + date_range(train) + ", validation " + date_range(val) + ", test " + date_range(test) + "\n";
  return s;
}

ForecastData load_sunspots(const fs::path& data_dir, const LoadOptions& options) {
  const fs::path file = data_dir / "sunspots" / "sunspot_month.csv";
  const std::string text = read_standard(file, options);
  ForecastData d;
  try {
    parse_sunspots(text, file, d);
  } catch (const std::runtime_error& e) {
    rethrow_with_fetch_hint(e);
  }
  if (options.check_counts)
    require_count(file, int64_t(d.train.values.size() + d.val.values.size() + d.test.values.size()), kSunspotValues,
                  "values");
  d.source = file.string();
  d.column = 2, d.columns = 3, d.column_name = "value";
  return d;
}

ForecastData load_series_csv(const fs::path& file, int column, double train_fraction, double val_fraction,
                             const LoadOptions& options) {
  if (!(train_fraction > 0 && val_fraction >= 0 && train_fraction + val_fraction < 1))
    fail(file, "split fractions train " + std::to_string(train_fraction) + ", val " + std::to_string(val_fraction) +
                   " must be positive and sum below 1");
  const std::string text = read_text(file, options);
  const Lines lines = split_lines(text);
  for (const auto& [line, row] : lines)
    if (is_blank(row)) fail(file, line, "empty line (expected a number)");
  reject_other_separators(file, lines);
  std::vector<std::vector<std::string_view>> rows;
  for (const auto& [line, row] : lines) rows.push_back(split_fields(row));
  const Layout layout = layout_of(file, lines, rows, column);
  const std::vector<double> values = column_values(file, lines, rows, layout);

  const auto n = int64_t(values.size());
  const auto n_train = static_cast<int64_t>(std::floor(static_cast<double>(n) * train_fraction));
  const auto n_val = static_cast<int64_t>(std::floor(static_cast<double>(n) * val_fraction));
  if (n_train < 1 || (val_fraction > 0 && n_val < 1) || n - n_train - n_val < 1)
    fail(file, "too few values (" + std::to_string(n) + ") to split into train / validation / test");
  ForecastData d;
  d.train.values.assign(values.begin(), values.begin() + n_train);
  d.val.values.assign(values.begin() + n_train, values.begin() + n_train + n_val);
  d.test.values.assign(values.begin() + n_train + n_val, values.end());
  d.source = file.string();
  d.column = layout.column;
  d.columns = layout.columns;
  if (layout.header) d.column_name = std::string(trim(rows[0][size_t(layout.column)]));
  return d;
}

}  // namespace seqgrad::experiments::data
