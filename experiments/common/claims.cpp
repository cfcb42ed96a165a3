// claims.json, statistics and verdict rules. See claims.h.
#include "experiments/common/claims.h"

#include <cmath>
#include <stdexcept>

#include "experiments/common/io.h"
#include "experiments/common/run_folder.h"
#include "nn/file_io.h"

namespace seqgrad::experiments {

// ---- claims -------------------------------------------------------------------------------------

void write_claims(const Run& run, const std::vector<Claim>& claims) { write_claims(run.dir(), claims); }

void write_claims(const fs::path& run_dir, const std::vector<Claim>& claims) {
  std::string text = "[";
  for (size_t k = 0; k < claims.size(); ++k) {
    const Claim& c = claims[k];
    if (c.verdict != "holds" && c.verdict != "does not hold" && c.verdict != "inconclusive")
      throw std::invalid_argument("write_claims: claim '" + c.claim + "': verdict '" + c.verdict +
                                  "' is not one of 'holds', 'does not hold', 'inconclusive'");
    text += std::string(k ? ",\n  " : "\n  ") + "{\"claim\": " + json_quote(c.claim) + ", \"expected\": " + json_quote(c.expected) +
            ", \"measured\": " + json_quote(c.measured) + ", \"verdict\": " + json_quote(c.verdict) + "}";
  }
  text += claims.empty() ? "]\n" : "\n]\n";
  fs::create_directories(run_dir);
  nn::write_file_atomic((run_dir / "claims.json").string(), text);
}

// Lenient on purpose: extra fields are ignored and any verdict text is kept, so claims written by
// other tools still show up.
std::vector<Claim> read_claims(const fs::path& claims_json) {
  Json j = read_json_file(claims_json);
  if (j.kind != Json::Kind::array) throw std::invalid_argument(claims_json.string() + ": expected a JSON list of claims");
  std::vector<Claim> out;
  for (const Json& item : j.items) {
    if (item.kind != Json::Kind::object) throw std::invalid_argument(claims_json.string() + ": a claim is not a JSON object");
    auto field = [&](const char* key) {
      const Json* v = item.find(key);
      return v ? v->display() : std::string();
    };
    out.push_back({field("claim"), field("expected"), field("measured"), field("verdict")});
  }
  return out;
}

// ---- statistics ---------------------------------------------------------------------------------

MeanStd mean_std(std::span<const double> values) {
  if (values.empty()) throw std::invalid_argument("mean_std: no values");
  MeanStd m;
  m.n = int(values.size());
  for (double v : values) m.mean += v;
  m.mean /= double(values.size());
  if (values.size() > 1) {
    double ss = 0;
    for (double v : values) ss += (v - m.mean) * (v - m.mean);
    m.std = std::sqrt(ss / double(values.size() - 1));
  }
  return m;
}

}  // namespace seqgrad::experiments
