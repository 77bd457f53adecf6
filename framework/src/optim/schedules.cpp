// Built-in learning-rate schedules: multipliers of the optimizer's lr as a function of the step.
#include <cmath>

#include "lmforge/optim.h"
#include "lmforge/registry.h"
#include "optim/builtin_optimizers.h"

namespace lmforge {
namespace {

class ConstantSchedule : public Schedule {
 public:
  struct Options {
    std::int64_t warmup_steps = 0;
    void visit(OptionVisitor& v) {
      v.field("warmup_steps", warmup_steps, "steps of linear warm-up from 0").non_negative();
    }
  };
  ConstantSchedule(const Options& o, const ScheduleContext&) : warmup_(o.warmup_steps) {}
  double factor(std::int64_t step) const override {
    return warmup_ > 0 && step < warmup_ ? double(step + 1) / double(warmup_) : 1.0;
  }

 private:
  std::int64_t warmup_;
};

struct WarmupDecayOptions {
  std::int64_t warmup_steps = 0;
  double warmup_fraction = 0.0;
  double final_factor = 0.0;
  void visit(OptionVisitor& v) {
    v.field("warmup_steps", warmup_steps, "steps of linear warm-up (overrides warmup_fraction)")
        .non_negative();
    v.field("warmup_fraction", warmup_fraction, "warm-up as a fraction of all steps").range(0, 1);
    v.field("final_factor", final_factor, "lr multiplier reached at the last step").range(0, 1);
  }
  std::int64_t warmup(std::int64_t total) const {
    return warmup_steps > 0 ? warmup_steps : static_cast<std::int64_t>(warmup_fraction * total);
  }
};

/// Linear warm-up then a decay shape from 1 to final_factor over the remaining steps.
class WarmupDecaySchedule : public Schedule {
 public:
  using Options = WarmupDecayOptions;
  WarmupDecaySchedule(const Options& o, const ScheduleContext& c, bool cosine)
      : warmup_(o.warmup(c.total_steps)),
        total_(std::max<std::int64_t>(1, c.total_steps)),
        final_(o.final_factor),
        cosine_(cosine) {}
  double factor(std::int64_t step) const override {
    if (step < warmup_) return double(step + 1) / double(warmup_);
    double progress = double(step - warmup_) / double(std::max<std::int64_t>(1, total_ - warmup_));
    progress = std::min(1.0, std::max(0.0, progress));
    double shape = cosine_ ? 0.5 * (1.0 + std::cos(M_PI * progress)) : 1.0 - progress;
    return final_ + (1.0 - final_) * shape;
  }

 private:
  std::int64_t warmup_, total_;
  double final_;
  bool cosine_;
};

class LinearSchedule : public WarmupDecaySchedule {
 public:
  LinearSchedule(const Options& o, const ScheduleContext& c) : WarmupDecaySchedule(o, c, false) {}
};
class CosineSchedule : public WarmupDecaySchedule {
 public:
  CosineSchedule(const Options& o, const ScheduleContext& c) : WarmupDecaySchedule(o, c, true) {}
};

/// ULMFiT's slanted triangular rate (Howard & Ruder 2018): short linear rise, long linear decay.
class SlantedTriangularSchedule : public Schedule {
 public:
  struct Options {
    double cut_fraction = 0.1;
    double ratio = 32;
    void visit(OptionVisitor& v) {
      v.field("cut_fraction", cut_fraction, "fraction of steps spent increasing").range(0, 1);
      v.field("ratio", ratio, "how much smaller the lowest rate is than the peak").positive();
    }
  };
  SlantedTriangularSchedule(const Options& o, const ScheduleContext& c)
      : options_(o), total_(std::max<std::int64_t>(1, c.total_steps)) {}
  double factor(std::int64_t step) const override {
    double cut = std::max(1.0, std::floor(total_ * options_.cut_fraction));
    double t = static_cast<double>(step);
    double p = t < cut ? t / cut : 1.0 - (t - cut) / (cut * (1.0 / options_.cut_fraction - 1.0));
    p = std::max(0.0, p);
    return (1.0 + p * (options_.ratio - 1.0)) / options_.ratio;
  }

 private:
  Options options_;
  std::int64_t total_;
};

}  // namespace

void register_builtin_schedules(Registry& reg) {
  reg.schedule<ConstantSchedule>("constant", "constant rate, optional linear warm-up");
  reg.schedule<LinearSchedule>("linear", "linear warm-up then linear decay");
  reg.schedule<CosineSchedule>("cosine", "linear warm-up then cosine decay");
  reg.schedule<SlantedTriangularSchedule>("slanted_triangular",
                                          "ULMFiT slanted triangular learning rate");
}

}  // namespace lmforge
