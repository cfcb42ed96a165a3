// Vocabulary: token <-> id, deterministic order, built from training data only (see data.h).
#include <algorithm>
#include <map>
#include <stdexcept>

#include "experiments/data/text.h"

namespace seqgrad::experiments::data {

using detail::quote;

Vocabulary::Vocabulary(bool specials) : specials_(specials) {
  if (specials) {
    add("<pad>");
    add("<unk>");
  }
}

int64_t Vocabulary::add(const std::string& token) {
  auto [it, inserted] = ids_.emplace(token, size());
  if (inserted) tokens_.push_back(token);
  return it->second;
}

int64_t Vocabulary::id(std::string_view token) const {
  auto it = ids_.find(std::string(token));
  if (it != ids_.end()) return it->second;
  if (specials_) return kUnk;
  throw std::runtime_error("Vocabulary: unknown token " + quote(token) + " (a vocabulary without <unk>)");
}

const std::string& Vocabulary::token(int64_t id) const {
  if (id < 0 || id >= size())
    throw std::runtime_error("Vocabulary: id " + std::to_string(id) + " out of range [0, " + std::to_string(size()) +
                             ")");
  return tokens_[static_cast<size_t>(id)];
}

std::vector<int64_t> Vocabulary::encode(const std::vector<std::string>& tokens) const {
  std::vector<int64_t> ids;
  ids.reserve(tokens.size());
  for (const auto& t : tokens) ids.push_back(id(t));
  return ids;
}

Vocabulary Vocabulary::build(const std::vector<std::vector<std::string>>& sequences, const BuildOptions& options) {
  std::map<std::string, int64_t> counts;  // ordered: ties and Order::sorted need no extra sort key
  for (const auto& seq : sequences)
    for (const auto& t : seq) ++counts[t];
  std::vector<std::pair<std::string, int64_t>> entries;
  for (auto& [token, count] : counts)
    if (count >= options.min_count) entries.emplace_back(token, count);
  if (options.order == Order::frequency)
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  Vocabulary v(options.specials);
  for (const auto& [token, count] : entries) {
    if (options.max_size > 0 && v.size() >= options.max_size) break;
    if (options.specials && (token == "<pad>" || token == "<unk>")) continue;
    v.add(token);
  }
  return v;
}

Vocabulary Vocabulary::from_tokens(const std::vector<std::string>& tokens, bool specials) {
  Vocabulary v(specials);
  for (const auto& t : tokens) {
    if (v.contains(t)) throw std::runtime_error("Vocabulary: duplicate token " + quote(t));
    v.add(t);
  }
  return v;
}

}  // namespace seqgrad::experiments::data
