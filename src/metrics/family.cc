// FamilyBase: HELP/TYPE lines and label rendering.
#include "src/metrics/family.h"

namespace kustodian {

FamilyBase::FamilyBase(std::string name, std::string help, MetricType type,
                       std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)) {}

void FamilyBase::Serialize(std::string* out) const {
  std::string samples;
  if (!AppendChildren(&samples)) {
    return;
  }
  out->append("# HELP ").append(name_).append(" ").append(EscapeHelp(help_)).append("\n");
  out->append("# TYPE ").append(name_).append(" ").append(MetricTypeName(type_)).append("\n");
  out->append(samples);
}

std::string FamilyBase::RenderLabels(const std::vector<std::string>& values) const {
  if (values.size() != label_names_.size()) {
    MetricsFatal("metric " + name_ + " has " + std::to_string(label_names_.size()) +
                 " label names but got " + std::to_string(values.size()) + " values");
  }
  std::string rendered;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) {
      rendered += ",";
    }
    rendered.append(label_names_[i]).append("=\"").append(EscapeLabelValue(values[i]));
    rendered += "\"";
  }
  return rendered;
}

}  // namespace kustodian
