// Dataset loaders for the experiments (issue #5), returning plain structs: sentiment (many-to-one),
// Brown POS tagging (many-to-many), character-level LM (Moby Dick) and forecasting (sunspots), each
// also from a user's own file in the same simple format. Plus a Vocabulary, a sentence tokenizer and
// batching helpers (padding with lengths for nn::unroll, deterministic shuffling with seqgrad::Rng).
//
// The standard files come from scripts/fetch_data.sh into data/ (git-ignored); the script verifies
// them against scripts/data.sha256, the ONE list of their digests. The loaders check the structure
// they know instead (record counts, documented below), so a missing, truncated or different file is
// an error that says "run scripts/fetch_data.sh". experiments/data/README.md documents sources,
// licences, sizes, splits and checksums.
//
// Every file goes through common/io.h's read_file (regular files only, so /dev/zero or a pipe cannot
// hang a run; at most LoadOptions::max_bytes). Text must be UTF-8: a UTF-16/UTF-32 byte order mark, a
// NUL byte or an invalid byte sequence is rejected with its line (a UTF-8 BOM is dropped). Lines may
// end in "\n" or "\r\n". Errors: a std::runtime_error "<file>:<line>: <problem>" (or "<file>:
// <problem>"), file names and quoted input as printable ASCII (other bytes as \xNN).
//
// Each loaded data set says what was understood: summary() gives a few lines (ending in '\n') to
// print and to keep in a run folder: classes and counts, tags, characters, the series column used.
//
// Files: text.cpp (reading, UTF-8, lines, numbers, tokenizer), vocabulary.cpp, sentiment.cpp,
// tagging.cpp, char_text.cpp, series.cpp, batching.cpp; text.h holds their shared internals.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "autograd/rng.h"
#include "experiments/common/io.h"

namespace seqgrad::experiments::data {

namespace fs = std::filesystem;

// Loader options. check_counts: a standard file must hold its documented number of records (tests
// turn it off to load tiny stand-ins). max_bytes: larger files are refused before reading.
struct LoadOptions {
  bool check_counts = true;
  int64_t max_bytes = kMaxFileBytes;
};

// The data folder: $SEQGRAD_DATA_DIR if set, else the data/ of the first folder, from the current
// one upwards, that holds scripts/fetch_data.sh (so programs run from build/ find it), else "data".
fs::path default_data_dir();

// ---- text -----------------------------------------------------------------------------------

// Sentence tokenizer: ASCII letters are lowercased; a token is a maximal run of ASCII letters,
// digits, apostrophes and non-ASCII characters (so "café" stays one word); everything else
// separates. Apostrophes are kept inside a token ("don't") but stripped from its ends ('quoted'
// -> quoted), and a token of apostrophes only is dropped.
std::vector<std::string> tokenize(std::string_view text);

// Splits valid UTF-8 into code points, each as its own UTF-8 string. Invalid UTF-8 throws
// "<what>:<line>: invalid UTF-8 ..." (lines counted from 1 at '\n').
std::vector<std::string> utf8_chars(std::string_view text, std::string_view what = "text");

// ---- vocabulary -----------------------------------------------------------------------------

// Token <-> id. With specials, <pad> = 0 and <unk> = 1 and unknown tokens map to <unk>; without
// (label sets such as the 12 universal tags), an unknown token throws. Built from TRAINING data
// only; the order is deterministic: by descending count, ties by byte order (Order::frequency), or
// by byte order alone (Order::sorted; for UTF-8 characters that is code-point order).
class Vocabulary {
 public:
  static constexpr int64_t kPad = 0;
  static constexpr int64_t kUnk = 1;
  enum class Order { frequency, sorted };
  struct BuildOptions {
    Order order = Order::frequency;
    int64_t min_count = 1;  // rarer tokens become <unk>
    int64_t max_size = 0;   // 0: no limit (counts the specials)
    bool specials = true;
  };

  explicit Vocabulary(bool specials = true);
  static Vocabulary build(const std::vector<std::vector<std::string>>& sequences, const BuildOptions& options);
  static Vocabulary build(const std::vector<std::vector<std::string>>& sequences) {
    return build(sequences, BuildOptions{});
  }
  // A fixed list in the given order (after the specials, if any); duplicates throw.
  static Vocabulary from_tokens(const std::vector<std::string>& tokens, bool specials);

  int64_t add(const std::string& token);  // id of token, appending it if new
  int64_t id(std::string_view token) const;
  bool contains(std::string_view token) const { return ids_.count(std::string(token)) != 0; }
  const std::string& token(int64_t id) const;  // throws on an id out of range
  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
  bool has_specials() const { return specials_; }
  const std::vector<std::string>& tokens() const { return tokens_; }
  std::vector<int64_t> encode(const std::vector<std::string>& tokens) const;

 private:
  bool specials_;
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> ids_;
};

// ---- sentiment / text classification (many-to-one) ----------------------------------------------

struct TextExample {
  std::string text;
  int64_t label = 0;   // index into ClassificationData::classes
  std::string source;  // file it came from
  int64_t line = 0;    // line of the record in that file
};

// Split rule (all datasets without a split of their own): the n-th record of each file (n counted
// from 1) goes to validation when n % 10 == 9, to test when n % 10 == 0, else to train (80/10/10,
// spread evenly over the file).
struct ClassificationData {
  std::vector<std::string> classes;
  std::vector<TextExample> train, val, test;
  std::string source;  // the file (or folder) read
  // Records per class over all splits, in `classes` order.
  std::vector<int64_t> class_counts() const;
  // "<source>: 2 classes, 3,000 records (train 2,400, validation 300, test 300)\n  classes:
  // negative 1,500, positive 1,500\n".
  std::string summary() const;
};

// One sentiment-fixtures file: a JSON array of {"text": string, "class": 0 | 1}; a final record
// whose class is null (the fixtures' terminator) is dropped. Any other shape is an error with a line.
std::vector<TextExample> read_sentiment_json(const fs::path& file, const LoadOptions& options = {});

// UCI Sentiment Labelled Sentences: <data_dir>/sentiment/{amazon,imdb,yelp}.json, 1,000 sentences each,
// classes {"negative", "positive"}; 2,400 / 300 / 300 by the split rule applied per file.
ClassificationData load_sentiment(const fs::path& data_dir, const LoadOptions& options = {});

// A user's file: one "label<TAB>text" per line (label: any non-empty string without tabs; text:
// non-empty). Empty lines are errors. Classes are the distinct labels (two or more), sorted
// (numerically when all are non-negative integers), so "0"/"1" keep their meaning; a class of a
// single record is an error (a header line?). Split by the rule above, so at least 10 records are
// needed (else the test split would be empty).
ClassificationData load_classification_tsv(const fs::path& file, const LoadOptions& options = {});

// ---- POS tagging (many-to-many) -----------------------------------------------------------------

struct TaggedSentence {
  std::vector<std::string> words, tags;
};

struct TaggingData {
  std::vector<std::string> tagset;  // sorted; for Brown the 12 universal tags in universal_tags() order
  std::vector<TaggedSentence> train, val, test;
  std::string source;  // the file (or folder) read
  // Tokens per tag over all splits, in `tagset` order.
  std::vector<int64_t> tag_counts() const;
  // "<source>: 57,340 sentences (train .., validation .., test ..), 1,161,192 tokens\n  12 tags by
  // count: NOUN 275,558, ...\n" (the 20 most frequent, then how many more).
  std::string summary() const;
};

// The 12 universal tags (Petrov, Das & McDonald 2012): NOUN VERB ADJ ADV PRON DET ADP CONJ PRT NUM . X
const std::vector<std::string>& universal_tags();

// Maps a raw Brown tag to its universal tag, or "" if it has none. In order:
//   fw-* (foreign words) -> X; strip trailing -tl (title) / -hl (headline) / -nc (citation);
//   a bare '*' ("not") -> ADV; a contraction "a+b" takes a's tag; drop '*' (negation) and '$'
//   (possessive); then punctuation-only tags -> '.', and
//   NOUN nn* np* nr* | VERB vb* be* do* hv* md | ADJ jj* | ADV rb* ql* wql wrb rn |
//   PRON pp* wp* pn* | DET at ap abn abx abl dt* wdt ex | ADP in | CONJ cc cs | PRT to rp |
//   NUM cd od | X uh nil.
std::string_view universal_tag(std::string_view raw);

// One file of sentences, one per line, tokens "word/tag" separated by whitespace (split on the LAST
// '/', so "1/2/cd" is word "1/2", tag "cd"). Blank lines are skipped. With universal = true each
// tag goes through universal_tag() and an unmapped tag is an error; else tags are kept verbatim.
std::vector<TaggedSentence> read_tagged_file(const fs::path& file, bool universal, const LoadOptions& options = {});

// Brown corpus: <data_dir>/brown/c[a-r][0-9][0-9] (500 files, 15 genres a-r, 57,340 sentences),
// universal tags.
// Split by file name: the file's two-digit number n (ca01 -> 1) goes to validation when
// n % 10 == 9, to test when n % 10 == 0, else to train, so every genre is in every split.
TaggingData load_brown(const fs::path& data_dir, const LoadOptions& options = {});

// Which Brown split a file name (e.g. "ca09") belongs to: 0 train, 1 val, 2 test; throws if the
// name is not c[a-r][0-9][0-9].
int brown_split(std::string_view file_name);

// A user's file of "word/tag" lines (tags verbatim, any tag set of two or more tags), split by the
// sentence rule above (at least 10 sentences, else the test split would be empty).
TaggingData load_tagging_file(const fs::path& file, const LoadOptions& options = {});

// ---- character-level language model ---------------------------------------------------------------

// Characters are Unicode code points. The vocabulary (with <pad>, <unk>; code-point order) is built
// from the training part; a validation character unseen in training is <unk>. The text is decoded
// straight to ids (no per-character strings): memory is about the file plus 8 bytes per character.
struct CharCorpus {
  Vocabulary vocab;
  std::vector<int64_t> train, val;  // ids
  int64_t characters = 0;           // code points in the whole text
  int64_t distinct = 0;             // distinct code points in the whole text
  std::string source;               // the file read
  // "<source>: 1,190,317 characters (train .., validation ..), 83 distinct\n  vocabulary 85 (<pad>,
  // <unk> and the training part's characters); N validation characters unseen in training\n".
  std::string summary() const;
};

// Any UTF-8 text file: the first train_fraction of its code points train, the rest validate.
CharCorpus load_text(const fs::path& file, double train_fraction = 0.9, const LoadOptions& options = {});

// Moby Dick (<data_dir>/moby_dick/moby_dick.txt): 1,190,317 characters, 83 distinct; 90 / 10.
CharCorpus load_moby_dick(const fs::path& data_dir, const LoadOptions& options = {});

// ---- forecasting ----------------------------------------------------------------------------------

struct Series {
  std::vector<double> values;
  std::vector<int> year, month;  // empty for a user's series
};

struct ForecastData {
  Series train, val, test;
  std::string source;       // the file read
  int64_t column = -1;      // 0-based column the values came from
  int64_t columns = 0;      // columns per line
  std::string column_name;  // its header on line 1, "" when the file has no header
  // "<source>: column 2 (0-based) of 3, 'value' (header on line 1); 3,177 values (train 2,424,
  // validation 360, test 393)\n", plus the years each split covers when known.
  std::string summary() const;
};

// Monthly sunspot numbers 1749-01 .. 2013-09 (3,177 values; CSV "year,month,value" with that
// header): train <= 1950 (2,424), validation 1951-1980 (360), test 1981-2013 (393).
ForecastData load_sunspots(const fs::path& data_dir, const LoadOptions& options = {});

// A user's CSV: ','-separated, one number per line taken from column `column` (0-based; -1: the
// last column). Every line has the column count of the first data line. Line 1 is a header if that
// field is not written as a number (so "nan", "inf" or "1e999" there are errors, not a header);
// every other line must hold a finite number there (empty lines are errors). A ';' or a tab between
// fields is an error (a ';'-separated file with decimal commas would otherwise be read as the
// digits after the comma). Split in time order by fractions: train, val, rest test.
ForecastData load_series_csv(const fs::path& file, int column = -1, double train_fraction = 0.7,
                             double val_fraction = 0.15, const LoadOptions& options = {});

// ---- batching -------------------------------------------------------------------------------------

// 0 .. n-1 shuffled by Fisher-Yates with rng.below(): the same seed gives the same order everywhere.
std::vector<int64_t> shuffled_indices(int64_t n, Rng& rng);

// Consecutive index batches of size batch_size (the last may be smaller) over 0 .. n-1, shuffled
// first when rng is given.
std::vector<std::vector<int64_t>> make_batches(int64_t n, int64_t batch_size, Rng* rng = nullptr);

// A padded (B, T) batch, row-major, with each row's true length (1..T), ready for Embedding (ids)
// and nn::UnrollOptions::lengths.
struct PaddedBatch {
  int64_t batch = 0, steps = 0;
  std::vector<int64_t> ids;      // B * T, pad_value past each length
  std::vector<int64_t> lengths;  // B
};

// Pads sequences[indices[b]] for each b (all sequences when indices is empty) to the longest
// (truncated to max_steps when > 0). Empty sequences throw: nn::unroll needs lengths >= 1.
// Use pad_value = Vocabulary::kPad for inputs, and e.g. -100 (cross_entropy's ignore_index) for
// per-step targets.
PaddedBatch pad_batch(const std::vector<std::vector<int64_t>>& sequences, std::span<const int64_t> indices = {},
                      int64_t pad_value = Vocabulary::kPad, int64_t max_steps = 0);

// Character LM batches: the id stream cut into `batch` equal rows (the tail that does not fit is
// dropped), read in windows of `steps`: inputs x[b][t] = row_b[start + t], targets
// y[b][t] = row_b[start + t + 1].
struct StreamBatches {
  int64_t batch = 0, row_length = 0;
  std::vector<int64_t> rows;  // batch * row_length
  // Number of windows of `steps` (the last one may be shorter, always >= 1 step).
  int64_t windows(int64_t steps) const;
  // Window w: x and y as (B, T') row-major with T' = min(steps, row_length - 1 - w * steps).
  void window(int64_t w, int64_t steps, std::vector<int64_t>& x, std::vector<int64_t>& y) const;
};
StreamBatches stream_batches(const std::vector<int64_t>& ids, int64_t batch);

}  // namespace seqgrad::experiments::data
